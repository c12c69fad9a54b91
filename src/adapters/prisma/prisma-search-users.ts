import type { PrismaClient } from '../../generated/prisma/client';
import type { ChatStore } from '../../ports/chat-store';

/** A LIKE pattern's special characters as plain ones (ESCAPE '\'). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The user search on `users`: a case-insensitive prefix match on id or display_name, in
 * id order (COLLATE "C", the code-point order the other adapters sort by). No index serves
 * lower(...) LIKE (schema.prisma cannot declare expression indexes, and the schema-drift
 * test holds the migrations to it): PostgreSQL walks the primary key in id order and stops
 * at `limit` matches, which is cheap for the prefixes people type; the per-user rate limit
 * (USER_SEARCH_MAX_PER_WINDOW) bounds the rest.
 */
export function createPrismaSearchUsers({
  prisma,
  run,
}: {
  prisma: PrismaClient;
  run: <T>(what: string, op: () => Promise<T>) => Promise<T>;
}): ChatStore['searchUsers'] {
  return async (prefix, limit) => {
    const pattern = `${escapeLike(prefix)}%`;
    const rows = await run(
      'search users',
      () =>
        prisma.$queryRaw<{ id: string; display_name: string }[]>`
        SELECT id, display_name FROM users
        WHERE lower(id) LIKE lower(${pattern}) ESCAPE '\\' OR lower(display_name) LIKE lower(${pattern}) ESCAPE '\\'
        ORDER BY id COLLATE "C" LIMIT ${limit}`,
    );
    return rows.map((r) => ({ userId: r.id, displayName: r.display_name }));
  };
}
