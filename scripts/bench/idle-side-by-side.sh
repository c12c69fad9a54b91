#!/usr/bin/env bash
# Idle CPU of one instance from each of two checkouts, run at the same time on the same
# cluster (so both see the same machine), no client connected:
#   bash scripts/bench/idle-side-by-side.sh <baseline checkout> [seconds=40] [settle=30]
# Each instance owns all partitions of its own per-run topics. Prints cores (utime+stime
# from /proc over the window) and the Kafka fetches each made. Needs the cluster up
# (infra.sh), PostgreSQL and Redis; each checkout needs its npm ci and db:generate.
set -euo pipefail
BASELINE=${1:?usage: idle-side-by-side.sh <baseline checkout> [seconds] [settle]}
SECONDS_=${2:-40}
SETTLE=${3:-30}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
BROKERS=${KAFKA_BROKERS:-127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094}
TCK=$(getconf CLK_TCK)

measure() { # measure <label> <checkout> <port>
  local label=$1 root=$2 port=$3 run="idle-$RANDOM-$RANDOM" pid a b fetches
  (cd "$root" && exec env NODE_ENV=production HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn KAFKA_BROKERS="$BROKERS" \
    KAFKA_TOPIC_LOGIN="$run.login" KAFKA_TOPIC_CHAT="$run.chat" KAFKA_INBOX_PREFIX="$run.inbox" \
    KAFKA_OWNER_GROUP="$run.owners" KAFKA_TOPIC_BROADCAST="$run.bc" INSTANCE_ID="$run" \
    DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/chat}" REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" \
    JWT_SECRET=idle-side-by-side-0123456789abcdef0123 node --import tsx src/main.ts) >"/tmp/$run.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do curl -sf "localhost:$port/readyz" >/dev/null && break; sleep 0.5; done
  sleep "$SETTLE"
  a=$(awk '{print $14+$15}' "/proc/$pid/stat"); sleep "$SECONDS_"; b=$(awk '{print $14+$15}' "/proc/$pid/stat")
  fetches=$(curl -s "localhost:$port/metrics" | awk '/^chat_kafka_fetches_total/ {s += $2} END {print s + 0}')
  printf '%-10s %s cores over %s s, %s Kafka fetch answers since start\n' "$label" "$(echo "scale=4; ($b - $a) / $TCK / $SECONDS_" | bc)" "$SECONDS_" "$fetches"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

measure baseline "$BASELINE" 3391 &
measure this "$HERE" 3392 &
wait
