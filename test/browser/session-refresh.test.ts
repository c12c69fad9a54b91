import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { App } from '../../src/app';
import { buildWeb } from '../../scripts/web/build-web';
import { startMemoryApp } from '../support/apps';
import { launchChromium, type LaunchedChromium } from '../support/chromium';
import { randomName, waitFor } from '../support/infra';

/**
 * The web page's v1.1 session and people features in headless Chromium, on an instance
 * whose JWTs last 10 s (JWT_TTL_SECONDS, the least the config takes):
 * - the page refreshes its token with the refresh token ahead of every expiry, and its
 *   socket, closed with 4001 when the token it was opened with expires, reconnects with
 *   the new token and resumes: no password prompt, no message lost;
 * - the user-search box finds a person by a prefix and adds them to the room.
 *
 * Screenshots are kept in test-artifacts/ (git-ignored).
 */
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const PASSWORD = 'correct-horse-1';
const JWT_TTL_SECONDS = 10;

describe('web client in Chromium: sessions that last, and finding people', () => {
  let chromium: LaunchedChromium;
  let app: App;
  const people: { context: BrowserContext; page: Page; userId: string }[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildWeb();
    chromium = await launchChromium();
    app = await startMemoryApp({ env: { JWT_TTL_SECONDS: String(JWT_TTL_SECONDS) } });
  }, 120_000);

  afterAll(async () => {
    for (const p of people) await p.context.close().catch(() => undefined);
    await chromium?.close();
    await app?.stop();
  });

  const open = async (userId: string) => {
    const context = await chromium.browser.newContext({ viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    await page.goto(`${app.url()}/`);
    const who = { context, page, userId };
    people.push(who);
    return who;
  };
  const register = async ({ page, userId }: { page: Page; userId: string }, displayName: string): Promise<void> => {
    await page.fill('#auth-user', userId);
    await page.fill('#auth-display', displayName);
    await page.fill('#auth-password', PASSWORD);
    await page.click('#register');
    await page.waitForSelector('#chat:not([hidden])');
    await page.waitForSelector('#conn[data-state="open"]');
  };
  // Page scripts as strings: the tests are compiled without the DOM library.
  const storedToken = (page: Page) =>
    page.evaluate<string | undefined>(`JSON.parse(sessionStorage.getItem('keyed-chat.session') ?? '{}').token`);
  const messageTexts = (page: Page) =>
    page.$$eval('#messages li.msg:not(.pending) .text', (nodes) => nodes.map((n) => n.textContent ?? ''));

  it('adds a member through the search box, then keeps the session across token expiries without a password or a lost message', async () => {
    const tag = randomName('p').slice(2, 10).replace(/-/g, '');
    const alice = await open(`alice${tag}`);
    const bob = await open(`bob${tag}`);
    await register(bob, 'Bob Builder');
    await register(alice, 'Alice');

    // Alice makes a room and finds Bob by a prefix of his display name, in any case.
    await alice.page.fill('#new-room-name', 'Refreshing');
    await alice.page.click('#create-room');
    await alice.page.waitForSelector('#room-title:text("Refreshing")');
    await alice.page.fill('#add-member-input', 'bob b');
    await alice.page.waitForSelector(`#add-member-results button[data-user-id="${bob.userId}"]`);
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'user-search-results.png') });
    await alice.page.click(`#add-member-results button[data-user-id="${bob.userId}"]`);
    await alice.page.waitForSelector(`#members li[data-user-id="${bob.userId}"]`);
    expect(await alice.page.inputValue('#add-member-input')).toBe('');
    await bob.page.waitForSelector('#rooms li.room-item button:text("Refreshing")', { timeout: 15_000 });
    await bob.page.click('#rooms li.room-item button:text("Refreshing")');

    // Watch Alice's page: every connection state, and whether the login form ever shows.
    await alice.page.evaluate(`(() => {
      window.watched = { states: [], promptShown: false };
      const conn = document.getElementById('conn');
      const auth = document.getElementById('auth');
      new MutationObserver(() => window.watched.states.push(conn.dataset.state)).observe(conn, { attributes: true });
      new MutationObserver(() => { window.watched.promptShown ||= !auth.hidden; }).observe(auth, { attributes: true });
    })()`);
    const firstToken = await storedToken(alice.page);
    const startedAt = Date.now();

    // Bob writes steadily while Alice's tokens expire twice over (the first after 10 s).
    const sent: string[] = [];
    for (let i = 1; Date.now() - startedAt < 2.2 * JWT_TTL_SECONDS * 1000; i++) {
      const text = `steady message ${i}`;
      await bob.page.fill('#text', text);
      await bob.page.click('#send');
      sent.push(text);
      await bob.page.waitForTimeout(1_500);
    }
    await waitFor('Alice has every message', async () => (await messageTexts(alice.page)).length === sent.length, { timeoutMs: 20_000 });
    expect(await messageTexts(alice.page)).toEqual(sent);

    const state = await alice.page.evaluate<{ states: string[]; promptShown: boolean }>('window.watched');
    expect(state.promptShown).toBe(false);
    expect(await alice.page.isHidden('#auth')).toBe(true);
    // The token was refreshed (and kept in the tab's session), and the socket opened with
    // the first one was closed at its expiry and came back.
    expect(await storedToken(alice.page)).not.toBe(firstToken);
    expect(state.states).toContain('reconnecting');
    await alice.page.waitForSelector('#conn[data-state="open"]');

    // And the fresh session works both ways.
    await alice.page.fill('#text', 'still here, no password asked');
    await alice.page.click('#send');
    await bob.page.waitForSelector('#messages li.msg .text:text("still here, no password asked")');
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'session-refresh-alice.png') });
  }, 120_000);
});
