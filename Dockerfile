# syntax=docker/dockerfile:1
# keyed-chat as a container image: the release build (npm run build, the script CI runs
# and smoke-tests) with production dependencies only, run as the unprivileged `node` user.
#
#   docker build -t keyed-chat .
#   docker run --rm -p 3000:3000 -e JWT_SECRET=$(openssl rand -hex 32) -v keyed-chat-data:/data keyed-chat
#
# Without DATABASE_URL, KAFKA_BROKERS and REDIS_URL it is the single process of the README
# (embedded PostgreSQL under /data); with them, one instance of the cluster
# (docker-compose.kafka.yml, profile "app"). Migrations: `docker run ... keyed-chat node
# dist/migrate.js` before starting a new version's instances.
#
# Not built on the project's machines (they have no Docker engine); every step is the one
# CI runs there (`npm ci`, `npm run build`, `npm ci --omit=dev --omit=optional`, then
# `node dist/main.js`, see scripts/build/smoke-release.ts).

ARG NODE_VERSION=24

# --- build: all dependencies, then the release build into /app/dist ---
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: as on the project's machines, where npm runs no install scripts. None is
# needed: bcrypt loads its prebuilt N-API binary, esbuild its platform package, and
# `npm run build` generates the Prisma client itself (Prisma's postinstall would download
# engines the client does not use).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY src ./src
# The web bundle is built on the client package's sources (client/src).
COPY client ./client
COPY web ./web
RUN npm run build

# --- deps: production dependencies only ---
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional too: npm keeps "devOptional" packages with --omit=dev alone (the Prisma
# CLI and TypeScript are optional peers of @prisma/client), about 130 packages the server
# never loads.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ---
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data/pglite
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The embedded database's directory, writable by the unprivileged user (unused when
# DATABASE_URL is set).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Ready, not just alive: the bus, the database, Redis and the owner group answer. Node's
# fetch, because the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) is handled by the server: it drains and exits within SHUTDOWN_GRACE_MS.
CMD ["node", "dist/main.js"]
