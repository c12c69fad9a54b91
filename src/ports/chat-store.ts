import type { HealthCheck, Service } from './service';

export interface StoredUser {
  readonly userId: string;
  readonly displayName: string;
  readonly passwordHash: string;
}

/**
 * The relational store (PostgreSQL through Prisma; an in-memory twin for unit tests and
 * the single-process default). Both pass the same contract suite.
 *
 * Guarantees: every method is atomic; a unique-key clash is reported as a ChatError with
 * a stable code (USER_EXISTS), never as a driver error; an unreachable database is a
 * retriable UnavailableError.
 */
export interface ChatStore extends Service {
  createUser(user: StoredUser): Promise<void>;
  findUser(userId: string): Promise<StoredUser | undefined>;
  health(): Promise<HealthCheck>;
}
