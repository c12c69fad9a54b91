import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createPgliteChatStore, IN_MEMORY_DATA_DIR } from '../../src/adapters/pglite/pglite-chat-store';
import type { App } from '../../src/app';
import { CloseCodes } from '../../src/protocol/close-codes';
import type { ChatStore } from '../../src/ports/chat-store';
import { buildWeb } from '../../scripts/web/build-web';
import { startMemoryApp } from '../support/apps';
import { launchChromium, type LaunchedChromium } from '../support/chromium';
import { randomName, silentLogger, waitFor } from '../support/infra';

/**
 * The web client (web/, served at `/`) in headless Chromium, as people use it: two browser
 * contexts (two people) on two different instances chat with each other — register, log
 * in, create a room with the other as a member, typing, presence, live messages — then one
 * of them loses the network, misses messages, and gets them through reconnect + resume.
 *
 * The two instances are in-process apps sharing one in-memory broker (so they form one
 * cluster: an owner group splitting the partitions, inboxes, broadcasts) and one embedded
 * PGlite store. The same pages run against Kafka instances unchanged; the Kafka e2e tier
 * covers the cross-process path with `ws` clients.
 *
 * Screenshots are kept in test-artifacts/ (git-ignored).
 */
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const PASSWORD = 'correct-horse-1';

describe('web client in Chromium: two people, two instances', () => {
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
    const aliceId = randomName('alice').slice(0, 40);
    const env = { ADMIN_USER_IDS: aliceId };
    a = await startMemoryApp({ env, memoryBroker, store });
    b = await startMemoryApp({ env, memoryBroker, store });
    const open = async (app: App, userId: string) => {
      const context = await chromium.browser.newContext({ viewport: { width: 1100, height: 700 } });
      const page = await context.newPage();
      await page.goto(`${app.url()}/`);
      return { context, page, userId };
    };
    alice = await open(a, aliceId);
    bob = await open(b, randomName('bob').slice(0, 40));
  }, 120_000);

  afterAll(async () => {
    await alice?.context.close().catch(() => undefined);
    await bob?.context.close().catch(() => undefined);
    await chromium?.close();
    // The store is shared: the apps stop first, then it (stopping twice is harmless).
    await a?.stop();
    await b?.stop();
    await store?.stop();
  });

  const register = async (who: { page: Page; userId: string }, displayName: string): Promise<void> => {
    await who.page.fill('#auth-user', who.userId);
    await who.page.fill('#auth-display', displayName);
    await who.page.fill('#auth-password', PASSWORD);
    await who.page.click('#register');
    await who.page.waitForSelector('#chat:not([hidden])');
    await who.page.waitForSelector('#conn[data-state="open"]');
  };
  const messageTexts = (page: Page) =>
    page.$$eval('#messages li.msg:not(.pending) .text', (nodes) => nodes.map((n) => n.textContent ?? ''));
  const send = async (page: Page, text: string): Promise<void> => {
    await page.fill('#text', text);
    await page.click('#send');
  };

  it('registers both, chats live across instances with typing and presence, and resumes after a network loss', async () => {
    // The two pages are served by different instances.
    expect(a.url()).not.toBe(b.url());
    await register(bob, 'Bob');
    await register(alice, 'Alice');
    expect(await alice.page.textContent('#whoami')).toContain(alice.userId);

    // Alice creates a room with Bob; his page finds it (rooms are re-read every few seconds).
    await alice.page.fill('#new-room-name', 'General');
    await alice.page.fill('#new-room-members', bob.userId);
    await alice.page.click('#create-room');
    await alice.page.waitForSelector('#room-title:text("General")');
    await bob.page.waitForSelector('#rooms li.room-item button:text("General")', { timeout: 15_000 });
    await bob.page.click('#rooms li.room-item button:text("General")');

    // Presence: Bob reconnects (a reload), so Alice, now a co-member, sees him come online.
    await bob.page.reload();
    await bob.page.waitForSelector('#conn[data-state="open"]');
    await bob.page.click('#rooms li.room-item button:text("General")');
    await alice.page.waitForSelector(`#members li[data-user-id="${bob.userId}"][data-presence="online"]`, { timeout: 15_000 });
    // And Bob's page, just opened, shows Alice (online all along, silent so far) online at
    // once: from the presence.snapshot that follows `ready`, not "unknown".
    await bob.page.waitForSelector(`#members li[data-user-id="${alice.userId}"][data-presence="online"]`, { timeout: 10_000 });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-presence-snapshot-bob.png') });

    // Typing, then messages both ways.
    await alice.page.type('#text', 'hel');
    await bob.page.waitForSelector('#typing:has-text("is typing")', { timeout: 10_000 });
    expect(await bob.page.textContent('#typing')).toContain(alice.userId);
    await alice.page.fill('#text', '');
    await send(alice.page, 'Hello Bob, this is Alice on the first instance');
    await bob.page.waitForSelector('#messages li.msg .text:text("Hello Bob, this is Alice on the first instance")');
    await send(bob.page, 'Hi Alice! Bob here, on the second instance');
    await alice.page.waitForSelector('#messages li.msg .text:text("Hi Alice! Bob here, on the second instance")');
    await send(alice.page, 'Messages carry a per-room seq, so both of us see the same order');
    await bob.page.waitForSelector('#messages li.msg .text:text("Messages carry a per-room seq, so both of us see the same order")');
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'web-chat-alice.png') });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-chat-bob.png') });

    // Bob loses the network: his socket is cut and reconnects fail while he is offline.
    // WHY a recorder and not waitForSelector: `reconnecting` can last a few milliseconds (the
    // first retry waits a random 0–500 ms, and a retry fails within ~10 ms while offline), so
    // a selector poll can miss it although the page did the right thing (CI once waited 30 s
    // in vain). The page records each state it shows instead. The wait
    // is 50 s: should the offline browser hold the server's close frame, the client's own
    // watchdog drops a socket silent for 30 s at its next 15 s ping tick.
    await recordConnStates(bob.page);
    await bob.context.setOffline(true);
    for (const c of b.connections.all()) c.close(CloseCodes.GOING_AWAY, 'test: network lost');
    await waitForConnState(bob.page, 'reconnecting');
    await send(alice.page, 'Sent while Bob was offline (1)');
    await send(alice.page, 'Sent while Bob was offline (2)');
    await alice.page.waitForSelector('#messages li.msg .text:text("Sent while Bob was offline (2)")');
    expect(await messageTexts(bob.page)).not.toContain('Sent while Bob was offline (1)');

    // Back online: reconnect, `resume` from his last seq, and nothing is missing or doubled.
    await bob.context.setOffline(false);
    await bob.page.waitForSelector('#messages li.msg .text:text("Sent while Bob was offline (2)")', { timeout: 30_000 });
    const aliceSees = await messageTexts(alice.page);
    const bobSees = await messageTexts(bob.page);
    expect(bobSees).toEqual(aliceSees);
    expect(aliceSees).toEqual([
      'Hello Bob, this is Alice on the first instance',
      'Hi Alice! Bob here, on the second instance',
      'Messages carry a per-room seq, so both of us see the same order',
      'Sent while Bob was offline (1)',
      'Sent while Bob was offline (2)',
    ]);
    const seqs = await bob.page.$$eval('#messages li.msg', (nodes) => nodes.map((n) => Number(n.getAttribute('data-seq'))));
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-chat-bob-after-resume.png') });
  }, 120_000);

  it('shows the cluster view at /admin to an admin', async () => {
    const page = await alice.context.newPage();
    await page.goto(`${a.url()}/admin`);
    await page.fill('#auth-user', alice.userId);
    await page.fill('#auth-password', PASSWORD);
    await page.click('#login');
    await page.waitForSelector(`#instances tr[data-instance-id="${a.config.instanceId}"]`);
    // Without Redis an instance shows its own view: the partitions it owns and its connections.
    const owned = a.bus.ownerStatus().partitions;
    await waitFor(
      'the partition map',
      async () => (await page.$$(`#partitions .partition[data-owner="${a.config.instanceId}"]`)).length === owned.length,
    );
    expect(await page.textContent('#summary')).toContain('12 partitions');
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-cluster-view.png'), fullPage: true });

    // Bob is no admin: the page says so.
    const bobAdmin = await bob.context.newPage();
    await bobAdmin.goto(`${b.url()}/admin`);
    await bobAdmin.fill('#auth-user', bob.userId);
    await bobAdmin.fill('#auth-password', PASSWORD);
    await bobAdmin.click('#login');
    await bobAdmin.waitForSelector('#auth-error:has-text("not an admin")');
  }, 60_000);
});

/**
 * Starts recording every state the page's connection badge (#conn) shows, however briefly,
 * with page times, into `window.connStates`. (A script string: the tests compile without
 * the DOM's types.)
 */
async function recordConnStates(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const badge = document.getElementById('conn');
    if (badge === null) throw new Error('no #conn on the page');
    const seen = (window.connStates = []);
    new MutationObserver(() => seen.push(Math.round(performance.now()) + 'ms ' + badge.dataset.state))
      .observe(badge, { attributes: true, attributeFilter: ['data-state'] });
  })()`);
}

/**
 * Waits (50 s at most) until the badge has shown `state` since recordConnStates; says what it
 * showed if not. WHY page.evaluate in a loop and not page.waitForFunction: the page's CSP
 * (script-src 'self', no 'unsafe-eval') refuses the eval that waitForFunction's polling of a
 * string predicate runs in the page, so it threw whenever the state came after its first
 * check (seen in CI: the page had shown it, 1.6 s in). page.evaluate goes through the
 * DevTools protocol, which the CSP does not govern.
 */
async function waitForConnState(page: Page, state: string): Promise<void> {
  const deadline = Date.now() + 50_000;
  const shown = `(window.connStates || []).some((x) => x.endsWith(' ' + ${JSON.stringify(state)}))`;
  while (!(await page.evaluate(shown))) {
    if (Date.now() > deadline) {
      const seen: unknown = await page.evaluate('window.connStates');
      throw new Error(`the page never showed "${state}" within 50 s; it showed: ${JSON.stringify(seen)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
