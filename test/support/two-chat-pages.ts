import type { BrowserContext, Page } from 'playwright-core';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createPgliteChatStore, IN_MEMORY_DATA_DIR } from '../../src/adapters/pglite/pglite-chat-store';
import type { App } from '../../src/app';
import { buildWeb } from '../../scripts/web/build-web';
import { startMemoryApp } from './apps';
import { launchChromium } from './chromium';
import { randomName, silentLogger } from './infra';

/** One person's page in headless Chromium. */
export interface ChatPage {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly userId: string;
  /** The instance the page was opened on. */
  readonly baseUrl: string;
}

/**
 * The browser tests' two people on two instances: the web bundle built, Chromium launched,
 * two in-memory instances sharing one broker and one embedded store, Alice's page on the
 * first and Bob's on the second. `close` releases all of it, whatever did start.
 */
export async function openTwoChatPages({ viewport }: { viewport: { width: number; height: number } }): Promise<{
  alice: ChatPage;
  bob: ChatPage;
  close(): Promise<void>;
}> {
  await buildWeb();
  const chromium = await launchChromium();
  const memoryBroker = new MemoryBroker();
  const store = createPgliteChatStore({ dataDir: IN_MEMORY_DATA_DIR, logger: silentLogger() });
  const apps: App[] = [];
  const pages: ChatPage[] = [];
  const close = async (): Promise<void> => {
    for (const p of pages) await p.context.close().catch(() => undefined);
    await chromium.close();
    for (const app of apps) await app.stop();
    await store.stop();
  };
  try {
    await store.start();
    for (const name of ['alice', 'bob']) {
      const app = await startMemoryApp({ memoryBroker, store });
      apps.push(app);
      const context = await chromium.browser.newContext({ viewport });
      const page = await context.newPage();
      pages.push({ context, page, userId: randomName(name).slice(0, 40), baseUrl: app.url() });
      await page.goto(`${app.url()}/`);
    }
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { alice: pages[0]!, bob: pages[1]!, close };
}

/** Registers the page's user from the login form and waits for the chat and its live connection. */
export async function registerOnPage({ page, userId }: ChatPage, password: string): Promise<void> {
  await page.fill('#auth-user', userId);
  await page.fill('#auth-password', password);
  await page.click('#register');
  await page.waitForSelector('#chat:not([hidden])');
  await page.waitForSelector('#conn[data-state="open"]');
}
