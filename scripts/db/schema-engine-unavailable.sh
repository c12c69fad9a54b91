#!/bin/sh
# Stand-in for Prisma's native schema-engine binary, which is downloaded on first use
# and cannot be downloaded on our offline machines. `prisma generate` only needs
# PRISMA_SCHEMA_ENGINE_BINARY to name an existing file; it never runs it. Anything that
# does run it ends here with a pointer to the offline tooling (docs/database.md).
echo "prisma: the native schema engine is not available on this machine." >&2
echo "Use 'npm run db:migrate' (apply migrations) and 'npm run db:diff' (write SQL) instead; see docs/database.md." >&2
exit 1
