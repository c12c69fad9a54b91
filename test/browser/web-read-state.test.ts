import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { waitFor } from '../support/infra';
import { openTwoChatPages, registerOnPage, type ChatPage } from '../support/two-chat-pages';

/**
 * Read state in the web client (web/src/read-state.ts), in headless Chromium, two people
 * on two instances: unread badges come from the server (they survive a reload), viewing a
 * room marks it read (the badge goes, and stays gone after a reload), and the writer sees
 * "Seen by …" under the last message from the reader's receipt.
 *
 * Screenshots are kept in test-artifacts/ (git-ignored).
 */
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const PASSWORD = 'correct-horse-1';

describe('web client in Chromium: unread badges and "seen by"', () => {
  let alice: ChatPage;
  let bob: ChatPage;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ alice, bob, close } = await openTwoChatPages({ viewport: { width: 1100, height: 700 } }));
  }, 120_000);

  afterAll(async () => {
    await close?.();
  });

  const register = (who: ChatPage): Promise<void> => registerOnPage(who, PASSWORD);
  const createRoom = async (page: Page, name: string, members = ''): Promise<void> => {
    await page.fill('#new-room-name', name);
    await page.fill('#new-room-members', members);
    await page.click('#create-room');
    await page.waitForSelector(`#room-title:text("${name}")`);
  };
  const send = async (page: Page, text: string): Promise<void> => {
    await page.fill('#text', text);
    await page.click('#send');
    await page.waitForSelector(`#messages li.msg:not(.pending) .text:text("${text}")`);
  };
  const badgeOf = (page: Page, name: string) =>
    page.$eval(`#rooms li.room-item:has(button:text("${name}"))`, (li) => li.querySelector('.badge')?.textContent ?? null);
  const roomsOnServer = async (baseUrl: string, token: string) =>
    (await (await fetch(`${baseUrl}/api/rooms`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      rooms: { name: string; lastReadSeq: number; unread: number }[];
    };
  // The page keeps its session in sessionStorage (web/src/session.ts); evaluated in the page.
  const tokenOf = (page: Page) => page.evaluate<string>("JSON.parse(sessionStorage.getItem('keyed-chat.session')).token");

  it('shows the server’s unread counts across reloads, marks a viewed room read, and shows who has seen the last message', async () => {
    await register(bob);
    await register(alice);
    // Bob looks at a room of his own, so the one Alice makes is not on his screen.
    await createRoom(bob.page, 'Notes');
    await createRoom(alice.page, 'Reads', bob.userId);
    await bob.page.waitForSelector('#rooms li.room-item button:text("Reads")', { timeout: 15_000 });
    for (const n of [1, 2, 3]) await send(alice.page, `unread message ${n}`);

    // The badge counts Alice's 3 messages, and the server agrees.
    await bob.page.waitForSelector('#rooms li.room-item:has(button:text("Reads")) .badge:text("3")', { timeout: 15_000 });
    const bobToken = await tokenOf(bob.page);
    expect((await roomsOnServer(bob.baseUrl, bobToken)).rooms.find((r) => r.name === 'Reads')).toMatchObject({ lastReadSeq: 0, unread: 3 });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-read-unread-badge.png') });

    // A reload keeps it: it comes from GET /api/rooms, not from the page.
    await bob.page.reload();
    await bob.page.waitForSelector('#conn[data-state="open"]');
    await bob.page.click('#rooms li.room-item button:text("Notes")');
    await bob.page.waitForSelector('#rooms li.room-item:has(button:text("Reads")) .badge:text("3")', { timeout: 15_000 });

    // Bob opens the room: the badge goes, the server's cursor moves, Alice sees "Seen by bob".
    await bob.page.click('#rooms li.room-item button:text("Reads")');
    await bob.page.waitForSelector('#messages li.msg .text:text("unread message 3")');
    expect(await badgeOf(bob.page, 'Reads')).toBeNull();
    await waitFor('the cursor on the server', async () => {
      const room = (await roomsOnServer(alice.baseUrl, bobToken)).rooms.find((r) => r.name === 'Reads');
      return room?.lastReadSeq === 3 && room.unread === 0;
    });
    await alice.page.waitForSelector(`#messages li.seen-by[data-seq="3"]:text("Seen by ${bob.userId}")`, { timeout: 15_000 });
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'web-read-seen-by.png') });

    // Still read after a reload (Bob looks elsewhere meanwhile).
    await bob.page.click('#rooms li.room-item button:text("Notes")');
    await bob.page.reload();
    await bob.page.waitForSelector('#conn[data-state="open"]');
    await bob.page.waitForSelector('#rooms li.room-item button:text("Reads")');
    await bob.page.click('#rooms li.room-item button:text("Notes")');
    expect(await badgeOf(bob.page, 'Reads')).toBeNull();

    // A new message while Bob is in the room: read at once, and "seen by" moves down to it.
    await bob.page.click('#rooms li.room-item button:text("Reads")');
    await send(alice.page, 'read while Bob is looking');
    await bob.page.waitForSelector('#messages li.msg .text:text("read while Bob is looking")');
    await alice.page.waitForSelector(`#messages li.seen-by[data-seq="4"]:text("Seen by ${bob.userId}")`, { timeout: 15_000 });
    expect(await alice.page.$$('#messages li.seen-by')).toHaveLength(1);
    expect(await badgeOf(bob.page, 'Reads')).toBeNull();
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'web-read-seen-by-live.png') });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-read-bob-in-room.png') });
  }, 120_000);
});
