import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { openTwoChatPages, registerOnPage, type ChatPage } from '../support/two-chat-pages';

/**
 * The v1.1 room features of the web client (web/src/room-controls.ts) in headless
 * Chromium: two people on two instances start a direct message (from both sides: one
 * room, listed apart from the group rooms), rename a group room (the other page follows
 * through the `room` frame) and leave it (the room goes from the leaver's page, and the
 * leaver from the other's member list). Screenshots go to test-artifacts/ (git-ignored).
 */
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const PASSWORD = 'correct-horse-1';

describe('web client in Chromium: direct messages, rename and leave', () => {
  let alice: ChatPage;
  let bob: ChatPage;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ alice, bob, close } = await openTwoChatPages({ viewport: { width: 1100, height: 760 } }));
  }, 120_000);

  afterAll(async () => {
    await close?.();
  });

  const register = (who: ChatPage): Promise<void> => registerOnPage(who, PASSWORD);
  const send = async (page: Page, text: string): Promise<void> => {
    await page.fill('#text', text);
    await page.click('#send');
  };

  it('starts one direct message from both sides, renames a room and leaves it', async () => {
    await register(alice);
    await register(bob);

    // Alice starts a DM with Bob by userId; it opens, titled by Bob, without room tools.
    await alice.page.fill('#new-dm-user', bob.userId);
    await alice.page.click('#start-dm');
    await alice.page.waitForSelector(`#dms li.room-item.active[data-peer="${bob.userId}"]`);
    expect(await alice.page.textContent('#room-title')).toBe(bob.userId);
    expect(await alice.page.isHidden('#room-actions')).toBe(true);
    expect(await alice.page.isHidden('#add-member')).toBe(true);
    expect(await alice.page.$$('#rooms li.room-item')).toHaveLength(0);
    await send(alice.page, 'Hi Bob, a direct message');

    // Bob's page hears of it (a `room` frame), lists it under direct messages, and reads it.
    await bob.page.waitForSelector(`#dms li.room-item[data-peer="${alice.userId}"]`, { timeout: 15_000 });
    await bob.page.click(`#dms li.room-item[data-peer="${alice.userId}"] button`);
    await bob.page.waitForSelector('#messages li.msg .text:text("Hi Bob, a direct message")');
    // Bob asks for a DM with Alice too, finding her with the search box by a prefix of her
    // userId: the same room, still one entry on either page.
    await bob.page.fill('#new-dm-search-input', alice.userId.slice(0, -2));
    await bob.page.waitForSelector(`#new-dm-search-results button[data-user-id="${alice.userId}"]`);
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-rooms-dm-search-bob.png') });
    await bob.page.click(`#new-dm-search-results button[data-user-id="${alice.userId}"]`);
    await bob.page.waitForSelector(`#dms li.room-item.active[data-peer="${alice.userId}"]`);
    await send(bob.page, 'Same room, from my side');
    await alice.page.waitForSelector('#messages li.msg .text:text("Same room, from my side")');
    expect(await bob.page.$$('#dms li.room-item')).toHaveLength(1);
    expect(await alice.page.$$('#dms li.room-item')).toHaveLength(1);
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'web-rooms-dm-alice.png') });

    // A DM with oneself is refused with its code.
    await alice.page.fill('#new-dm-user', alice.userId);
    await alice.page.click('#start-dm');
    await alice.page.waitForSelector('#banner:has-text("DM_WITH_SELF")');

    // A group room: Bob renames it, and Alice's page follows.
    await alice.page.fill('#new-room-name', 'Team');
    await alice.page.fill('#new-room-members', bob.userId);
    await alice.page.click('#create-room');
    await alice.page.waitForSelector('#room-title:text("Team")');
    await bob.page.waitForSelector('#rooms li.room-item button:text("Team")', { timeout: 15_000 });
    await bob.page.click('#rooms li.room-item button:text("Team")');
    await bob.page.waitForSelector('#room-actions:not([hidden])');
    await bob.page.fill('#rename-room-name', 'Team, renamed');
    await bob.page.click('#rename-room button[type="submit"]');
    await alice.page.waitForSelector('#room-title:text("Team, renamed")', { timeout: 15_000 });
    await alice.page.waitForSelector('#rooms li.room-item button:text("Team, renamed")');
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-rooms-renamed-bob.png') });

    // Bob leaves: the room goes from his page, and he from Alice's member list.
    await bob.page.click('#leave-room');
    await bob.page.waitForSelector('#rooms li.empty');
    expect(await bob.page.textContent('#room-title')).toBe('Pick or create a room');
    await alice.page.waitForSelector(`#members li[data-user-id="${alice.userId}"]`);
    await alice.page.waitForSelector(`#members li[data-user-id="${bob.userId}"]`, { state: 'detached', timeout: 15_000 });
    await send(alice.page, 'Bob left, he does not see this');
    await alice.page.waitForSelector('#messages li.msg .text:text("Bob left, he does not see this")');
    expect(await bob.page.$$('#rooms li.room-item')).toHaveLength(0);
    expect(await bob.page.$$('#dms li.room-item')).toHaveLength(1);
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'web-rooms-after-leave-alice.png') });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-rooms-after-leave-bob.png') });
  }, 120_000);
});
