# Sourced by the idle scripts (idle-side-by-side.sh, idle-series.sh): starts one instance of
# the checkout $1 on port $2 in the background, on per-run topics and group of its own (so it
# owns all their partitions), no client; sets INSTANCE_PID and INSTANCE_LOG and returns once
# it is ready. Needs the cluster up (infra.sh), PostgreSQL and Redis, and the checkout's npm
# ci and db:generate. NODE_EXTRA adds node flags (say --trace-gc).
BROKERS=${KAFKA_BROKERS:-127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094}
TCK=$(getconf CLK_TCK)

start_idle_instance() { # start_idle_instance <checkout> <port>
  local root=$1 port=$2 run="idle-$RANDOM-$RANDOM"
  INSTANCE_LOG="/tmp/$run.log"
  # shellcheck disable=SC2086 # NODE_EXTRA is a list of flags
  (cd "$root" && exec env NODE_ENV=production HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn KAFKA_BROKERS="$BROKERS" \
    KAFKA_TOPIC_LOGIN="$run.login" KAFKA_TOPIC_CHAT="$run.chat" KAFKA_INBOX_PREFIX="$run.inbox" \
    KAFKA_OWNER_GROUP="$run.owners" KAFKA_TOPIC_BROADCAST="$run.bc" INSTANCE_ID="$run" \
    DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/chat}" REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" \
    JWT_SECRET=idle-side-by-side-0123456789abcdef0123 node ${NODE_EXTRA:-} --import tsx src/main.ts) >"$INSTANCE_LOG" 2>&1 &
  INSTANCE_PID=$!
  for _ in $(seq 1 240); do curl -sf "localhost:$port/readyz" >/dev/null && return 0; sleep 0.5; done
  echo "instance on port $port not ready in 120 s (log: $INSTANCE_LOG)" >&2
  return 1
}

# cpu_ticks <pid>: utime + stime of the process, in clock ticks.
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# fetch_answers <port>: the Kafka fetch answers the instance has had since it started.
fetch_answers() { curl -s "localhost:$1/metrics" | awk '/^chat_kafka_fetches_total/ {s += $2} END {print s + 0}'; }
