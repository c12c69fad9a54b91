#!/usr/bin/env bash
# Idle CPU of one instance over successive windows from the moment it is ready, no client
# connected: how an idle instance's cost settles after start-up.
#   bash scripts/bench/idle-series.sh [windows=10] [seconds per window=60] [port=3393]
# Prints, per window, the instance's cores (utime+stime from /proc over the window) and the
# Kafka fetch answers it had in it. Needs what idle-instance.sh needs.
set -euo pipefail
WINDOWS=${1:-10}
SECONDS_=${2:-60}
PORT=${3:-3393}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/bench/idle-instance.sh
source "$HERE/scripts/bench/idle-instance.sh"

start_idle_instance "$HERE" "$PORT"
trap 'kill "$INSTANCE_PID" 2>/dev/null || true' EXIT
echo "ready (pid $INSTANCE_PID, log $INSTANCE_LOG)"
for i in $(seq 1 "$WINDOWS"); do
  a=$(cpu_ticks "$INSTANCE_PID")
  f1=$(fetch_answers "$PORT")
  sleep "$SECONDS_"
  b=$(cpu_ticks "$INSTANCE_PID")
  f2=$(fetch_answers "$PORT")
  printf 'window %2d, %4d-%4d s after ready: %s cores, %s Kafka fetch answers\n' "$i" $(((i - 1) * SECONDS_)) $((i * SECONDS_)) \
    "$(echo "scale=4; ($b - $a) / $TCK / $SECONDS_" | bc)" $((f2 - f1))
done
