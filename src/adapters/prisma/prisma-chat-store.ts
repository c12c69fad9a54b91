import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client';
import { ChatError, UnavailableError } from '../../domain/errors';
import type { ChatStore } from '../../ports/chat-store';

/** Prisma's known-request error codes this adapter maps (https://pris.ly/d/error-reference). */
const UNIQUE_VIOLATION = 'P2002';

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** A driver or connection failure: retriable. Query errors with a Prisma code are not. */
function toStoreError(error: unknown, what: string): Error {
  if (error instanceof ChatError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && code.startsWith('P2')) return new ChatError('INTERNAL', `${what}: ${code}`, { cause: error });
  return new UnavailableError(`${what}: database unavailable (${message.split('\n')[0]})`, error);
}

/**
 * ChatStore on PostgreSQL through Prisma 7's query compiler and the `pg` driver adapter:
 * no engine binary, so it runs on machines that cannot download one.
 */
export function createPrismaChatStore({
  databaseUrl,
  poolSize = 10,
}: {
  databaseUrl: string;
  /** pg pool size. Default 10. */
  poolSize?: number;
}): ChatStore & { readonly prisma: PrismaClient } {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
  const run = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (error) {
      throw toStoreError(error, what);
    }
  };
  return {
    prisma,
    async start() {
      await run('connect', () => prisma.$connect());
    },
    async stop() {
      await prisma.$disconnect();
    },
    async createUser(user) {
      try {
        await prisma.user.create({ data: { id: user.userId, displayName: user.displayName, passwordHash: user.passwordHash } });
      } catch (error) {
        if (errorCode(error) === UNIQUE_VIOLATION) throw new ChatError('USER_EXISTS', `user ${user.userId} already exists`);
        throw toStoreError(error, 'create user');
      }
    },
    async findUser(userId) {
      const row = await run('find user', () => prisma.user.findUnique({ where: { id: userId } }));
      return row === null ? undefined : { userId: row.id, displayName: row.displayName, passwordHash: row.passwordHash };
    },
    async health() {
      try {
        await prisma.$queryRaw`SELECT 1`;
        return { ok: true };
      } catch (error) {
        return { ok: false, detail: toStoreError(error, 'ping').message };
      }
    },
  };
}
