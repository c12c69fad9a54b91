import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createPgliteChatStore, IN_MEMORY_DATA_DIR } from '../../src/adapters/pglite/pglite-chat-store';
import type { App } from '../../src/app';
import type { ChatStore } from '../../src/ports/chat-store';
import { buildWeb } from '../../scripts/web/build-web';
import { startMemoryApp } from '../support/apps';
import { launchChromium, type LaunchedChromium } from '../support/chromium';
import { randomName, silentLogger, waitFor } from '../support/infra';

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
  let chromium: LaunchedChromium;
  let store: ChatStore;
  let a: App;
  let b: App;
  let alice: { context: BrowserContext; page: Page; userId: string };
  let bob: { context: BrowserContext; page: Page; userId: string };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildWeb();
    chromium = await launchChromium();
    const memoryBroker = new MemoryBroker();
    store = createPgliteChatStore({ dataDir: IN_MEMORY_DATA_DIR, logger: silentLogger() });
    await store.start();
    a = await startMemoryApp({ memoryBroker, store });
    b = await startMemoryApp({ memoryBroker, store });
    const open = async (app: App, userId: string) => {
      const context = await chromium.browser.newContext({ viewport: { width: 1100, height: 700 } });
      const page = await context.newPage();
      await page.goto(`${app.url()}/`);
      return { context, page, userId };
    };
    alice = await open(a, randomName('alice').slice(0, 40));
    bob = await open(b, randomName('bob').slice(0, 40));
  }, 120_000);

  afterAll(async () => {
    await alice?.context.close().catch(() => undefined);
    await bob?.context.close().catch(() => undefined);
    await chromium?.close();
    await a?.stop();
    await b?.stop();
    await store?.stop();
  });

  const register = async (who: { page: Page; userId: string }): Promise<void> => {
    await who.page.fill('#auth-user', who.userId);
    await who.page.fill('#auth-password', PASSWORD);
    await who.page.click('#register');
    await who.page.waitForSelector('#chat:not([hidden])');
    await who.page.waitForSelector('#conn[data-state="open"]');
  };
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
  const roomsOnServer = async (app: App, token: string) =>
    (await (await fetch(`${app.url()}/api/rooms`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
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
    expect((await roomsOnServer(b, bobToken)).rooms.find((r) => r.name === 'Reads')).toMatchObject({ lastReadSeq: 0, unread: 3 });
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
      const room = (await roomsOnServer(a, bobToken)).rooms.find((r) => r.name === 'Reads');
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
