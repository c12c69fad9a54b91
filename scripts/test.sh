#!/usr/bin/env bash
# `npm test`: bring up what the tests need (3-broker Kafka, PostgreSQL, Redis, migrations)
# through the same script an operator uses, type-check, then run every test tier.
# Extra arguments go to jest (e.g. `npm test -- --selectProjects unit`).
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/chat_test}"

bash scripts/infra/infra.sh up
DATABASE_URL="$TEST_DATABASE_URL" npm run --silent db:migrate
npm run --silent db:generate
npm run --silent typecheck
# The client package (client/): its build is what the CLI and package tests run.
npm run --silent build:client
# A bounded run: a test that leaves a handle open fails CI in minutes, not at its 90-minute limit.
exec timeout --kill-after=30s 40m npx jest "$@"
