import type { ChatStore, NewMessage } from '../../src/ports/chat-store';
import type { Message } from '../../src/protocol/message';

/** One message through `appendMessages`: the stored message, or its refusal thrown. */
export async function appendOne(
  store: ChatStore,
  message: NewMessage,
): Promise<{ message: Message; created: boolean; members: readonly string[] }> {
  const [outcome] = await store.appendMessages([message]);
  if (outcome === undefined) throw new Error('appendMessages returned no outcome');
  if (!outcome.ok) throw outcome.error;
  const { ok: _ok, ...stored } = outcome;
  return stored;
}
