import { z } from 'zod';

/**
 * Text PostgreSQL can keep exactly as a client sent it. Two things cannot be:
 * - NUL (U+0000): a text value cannot hold one, so the insert fails deep in the store
 *   (found by the fuzz test as 500s and sends that were never acked);
 * - a lone UTF-16 surrogate half: it becomes U+FFFD on the way to UTF-8, so two different
 *   ids ("\uD800", "\uDFFF") would be stored as one and collide.
 * Both are refused at the boundary instead, as a 400 or an error frame.
 */
// The NUL is the point of the pattern (PostgreSQL text cannot hold it), not a typo.
// eslint-disable-next-line no-control-regex
export const STORABLE_TEXT = /^[^\u0000\p{Cs}]*$/u;

export const storableString = () => z.string().regex(STORABLE_TEXT, 'must be well-formed Unicode without NUL characters');
