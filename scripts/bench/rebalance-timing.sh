#!/usr/bin/env bash
# How long the owner group takes to move partitions, for given settings of a variable:
#   bash scripts/bench/rebalance-timing.sh [trials=3] [VAR=value ...]
#   e.g. bash scripts/bench/rebalance-timing.sh 3 KAFKA_FETCH_MAX_WAIT_MS=1000 KAFKA_FETCH_MAX_WAIT_MS=3000
# Per trial and setting, on per-run topics and group: instance A starts and owns all 12
# partitions; after 8 s instance B starts (B start → B owns a partition: B's start-up and
# join plus A's notice of the rebalance and its rejoin); after 8 s more A gets SIGTERM
# (→ B owns all 12: A's drain and leave plus B's notice and rejoin; → A exits). Settings
# are interleaved (A1 B1 A2 B2 …) so a busy moment of the machine falls on both. Needs the
# cluster up (infra.sh), PostgreSQL and Redis, and `npm ci` + `npm run db:generate`.
set -uo pipefail
TRIALS=${1:-3}; shift || true
[ $# -gt 0 ] || set -- KAFKA_FETCH_MAX_WAIT_MS=1000 KAFKA_FETCH_MAX_WAIT_MS=3000
HERE=$(cd "$(dirname "$0")/../.." && pwd)
BROKERS=${KAFKA_BROKERS:-127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094}

start() { # start <run> <id> <port> <VAR=value>: prints the pid
  (cd "$HERE" && exec env NODE_ENV=production HOST=127.0.0.1 PORT="$3" LOG_LEVEL=warn KAFKA_BROKERS="$BROKERS" \
    KAFKA_TOPIC_LOGIN="$1.login" KAFKA_TOPIC_CHAT="$1.chat" KAFKA_INBOX_PREFIX="$1.inbox" \
    KAFKA_OWNER_GROUP="$1.owners" KAFKA_TOPIC_BROADCAST="$1.bc" INSTANCE_ID="$1-$2" "$4" \
    DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/chat}" REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" \
    JWT_SECRET=rebalance-timing-0123456789abcdef0123 node --import tsx src/main.ts) >"/tmp/$1-$2.log" 2>&1 &
  echo $!
}
owned() { # owned <port>: partitions owned when ready, -1 when not ready
  curl -s "localhost:$1/readyz" | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{try{const j=JSON.parse(s);console.log(j.status==="ready"?(j.owner?.partitions?.length??0):-1)}catch{console.log(-1)}})'
}
ms() { date +%s%3N; }
until_() { local deadline=$(($(ms) + 120000)); until eval "$1"; do [ "$(ms)" -lt $deadline ] || { echo "timed out: $1" >&2; return 1; }; sleep 0.05; done; }

for trial in $(seq 1 "$TRIALS"); do
  for setting in "$@"; do
    run="rebal-$RANDOM-$RANDOM"
    a=$(start "$run" a 3601 "$setting"); until_ '[ "$(owned 3601)" = 12 ]' || exit 1; sleep 8
    t0=$(ms); b=$(start "$run" b 3602 "$setting"); until_ '[ "$(owned 3602)" -gt 0 ]' || exit 1; t1=$(ms)
    sleep 8; t2=$(ms); kill -TERM "$a"; until_ '[ "$(owned 3602)" = 12 ]' || exit 1; t3=$(ms)
    until_ '! kill -0 '"$a"' 2>/dev/null' || exit 1; t4=$(ms)
    printf 'trial %s  %-28s B start→owns: %5d ms   A SIGTERM→B owns 12: %5d ms   A SIGTERM→exit: %5d ms\n' \
      "$trial" "$setting" $((t1 - t0)) $((t3 - t2)) $((t4 - t2))
    kill -TERM "$b"; until_ '! kill -0 '"$b"' 2>/dev/null' || exit 1
  done
done
