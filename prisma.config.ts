// Prisma 7 configuration, read by the `prisma` CLI (tooling only, never by app code).
// Prisma 7 takes the datasource URL from here, not from schema.prisma.
// On our offline machines the CLI is only used through npm scripts (docs/database.md):
//   npm run db:generate   prisma generate, offline
//   npm run db:migrate    applies prisma/migrations like `prisma migrate deploy`
//   npm run db:diff       SQL for a new migration, from Prisma's own (WebAssembly) engine
// On a machine with Prisma's native engine, `npx prisma migrate deploy|status|dev` work as usual.
import { defineConfig } from 'prisma/config';
import { databaseUrlFromEnv } from './scripts/db/env';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  datasource: {
    // DATABASE_URL, or postgresql://postgres@127.0.0.1:5432/chat when it is unset.
    url: databaseUrlFromEnv(),
  },
});
