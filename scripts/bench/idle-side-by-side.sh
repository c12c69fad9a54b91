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
# shellcheck source=scripts/bench/idle-instance.sh
source "$HERE/scripts/bench/idle-instance.sh"

measure() { # measure <label> <checkout> <port>
  local label=$1 root=$2 port=$3 a b fetches
  start_idle_instance "$root" "$port"
  sleep "$SETTLE"
  a=$(cpu_ticks "$INSTANCE_PID"); sleep "$SECONDS_"; b=$(cpu_ticks "$INSTANCE_PID")
  fetches=$(fetch_answers "$port")
  printf '%-10s %s cores over %s s, %s Kafka fetch answers since start\n' "$label" "$(echo "scale=4; ($b - $a) / $TCK / $SECONDS_" | bc)" "$SECONDS_" "$fetches"
  kill "$INSTANCE_PID"; wait "$INSTANCE_PID" 2>/dev/null || true
}

measure baseline "$BASELINE" 3391 &
measure this "$HERE" 3392 &
wait
