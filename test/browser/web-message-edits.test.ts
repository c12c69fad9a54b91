import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { openTwoChatPages, registerOnPage, type ChatPage } from '../support/two-chat-pages';

/**
 * Edit and delete on the web page (api.md v1.1), in headless Chromium: Alice (instance a)
 * edits and deletes her own messages with the buttons on them; Bob (instance b) sees both
 * live, has no buttons on her messages, and after a reload — history from the server, the
 * events in seq order — still sees the current text and the deletion. Screenshots in
 * test-artifacts/ (git-ignored).
 */
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const PASSWORD = 'correct-horse-1';

describe('web client in Chromium: editing and deleting one’s own messages', () => {
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
  const send = async (page: Page, text: string): Promise<void> => {
    await page.fill('#text', text);
    await page.click('#send');
    await page.waitForSelector(`#messages li.msg:not(.pending) .text:text("${text}")`);
  };
  const shown = (page: Page) =>
    page.$$eval('#messages li.msg:not(.pending)', (nodes) =>
      nodes.map(
        (n) =>
          `${n.getAttribute('data-seq')}:${n.querySelector('.text')?.textContent ?? ''}${n.classList.contains('deleted') ? ' [deleted]' : ''}${n.classList.contains('edited') ? ' [edited]' : ''}`,
      ),
    );
  const itemOf = (text: string) => `#messages li.msg:has(.text:text("${text}"))`;

  it('edits and deletes live on both pages, only for the sender, and the reloaded history shows the current state', async () => {
    await register(bob);
    await register(alice);
    await alice.page.fill('#new-room-name', 'Edits');
    await alice.page.fill('#new-room-members', bob.userId);
    await alice.page.click('#create-room');
    await alice.page.waitForSelector('#room-title:text("Edits")');
    await bob.page.waitForSelector('#rooms li.room-item button:text("Edits")', { timeout: 15_000 });
    await bob.page.click('#rooms li.room-item button:text("Edits")');

    await send(alice.page, 'Lunch at 12?');
    await send(alice.page, 'Wrong room, sorry');
    await bob.page.waitForSelector(itemOf('Wrong room, sorry'));
    await send(bob.page, 'Sounds good');
    await alice.page.waitForSelector(itemOf('Sounds good'));

    // Only one's own messages have the buttons.
    expect(await alice.page.$$(`${itemOf('Sounds good')} .msg-edit`)).toHaveLength(0);
    expect(await bob.page.$$(`${itemOf('Lunch at 12?')} .msg-edit`)).toHaveLength(0);
    expect(await alice.page.$$(`${itemOf('Lunch at 12?')} .msg-edit`)).toHaveLength(1);

    // Alice edits her first message inline.
    await alice.page.click(`${itemOf('Lunch at 12?')} .msg-edit`);
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'web-edit-alice-editing.png') });
    await alice.page.fill('#messages .msg-editor .msg-edit-text', 'Lunch at 12:30?');
    await alice.page.click('#messages .msg-editor .msg-save');
    await alice.page.waitForSelector(`${itemOf('Lunch at 12:30?')}.edited`);
    await bob.page.waitForSelector(`${itemOf('Lunch at 12:30?')}.edited`, { timeout: 15_000 });

    // And deletes her second: a first click asks, the second deletes.
    await alice.page.click(`${itemOf('Wrong room, sorry')} .msg-delete`);
    await alice.page.waitForSelector(`${itemOf('Wrong room, sorry')} .msg-delete[data-confirm="yes"]`);
    await alice.page.click(`${itemOf('Wrong room, sorry')} .msg-delete`);
    await alice.page.waitForSelector('#messages li.msg.deleted .text:text("This message was deleted")');
    await bob.page.waitForSelector('#messages li.msg.deleted .text:text("This message was deleted")', { timeout: 15_000 });

    const expected = ['1:Lunch at 12:30? [edited]', '2:This message was deleted [deleted]', '3:Sounds good'];
    expect(await alice.page.$$('#messages li.msg.deleted .msg-edit')).toHaveLength(0);
    expect(await shown(alice.page)).toEqual(expected);
    expect(await shown(bob.page)).toEqual(expected);
    await alice.page.screenshot({ path: path.join(ARTIFACTS, 'web-edit-alice.png') });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-edit-bob-live.png') });

    // Bob reloads: the page reads the history (originals and the events, in seq order).
    await bob.page.reload();
    await bob.page.waitForSelector('#conn[data-state="open"]');
    await bob.page.click('#rooms li.room-item button:text("Edits")');
    await bob.page.waitForSelector(itemOf('Sounds good'));
    expect(await shown(bob.page)).toEqual(expected);
    expect(await bob.page.textContent('#messages')).not.toContain('Wrong room, sorry');
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'web-edit-bob-after-reload.png') });
  }, 120_000);
});
