import { z } from 'zod';

/** A userId: what clients type, what Kafka records are keyed by. */
export const UserIdSchema = z
  .string()
  .min(3)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
