import { ValidationError } from '../domain/errors';
import { MessageQueryBounds } from '../protocol/http-schemas';
import type { MessageQuery } from './chat-store';

/**
 * The one check of a ChatStore.listMessages query, shared by every store: a query no
 * caller should send (the HTTP layer validates the same bounds, from the same schema) is
 * refused with VALIDATION before any adapter runs it.
 */
export function checkMessageQuery(query: MessageQuery): void {
  const parsed = MessageQueryBounds.safeParse(query);
  if (!parsed.success)
    throw new ValidationError(`bad message query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}
