import type { z } from 'zod';
import { ValidationError } from '../../domain/errors';

/** Parses a request part with a schema; a ValidationError (400 VALIDATION) lists what is wrong. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new ValidationError(issues.join('; '), { issues });
  }
  return parsed.data;
}
