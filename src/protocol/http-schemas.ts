import { z } from 'zod';
import { UserIdSchema } from './envelope';

/**
 * Request bodies of the REST API (api.md). The server validates with these, and the
 * OpenAPI document is generated from them, so the two cannot drift apart.
 */
export const PasswordSchema = z.string().min(8, 'at least 8 characters');

export const RegisterBody = z.strictObject({
  userId: UserIdSchema,
  password: PasswordSchema,
  displayName: z.string().trim().min(1).max(100).optional(),
});
export type RegisterBody = z.infer<typeof RegisterBody>;

export const LoginBody = z.strictObject({
  userId: UserIdSchema,
  // Length in bytes is checked separately (bcrypt's 72-byte limit, its own error code).
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.infer<typeof LoginBody>;
