#!/usr/bin/env bash
# Where the Kafka brokers' CPU goes, by thread: utime and stime of every thread of the
# three broker JVMs over a window, from /proc/<pid>/task/<tid>/stat, summed by thread name
# (node and thread numbers dropped, so the request handlers of all brokers make one line).
#
#   bash scripts/bench/broker-threads.sh [SECONDS]      # default 20
#
# The pids come from $INFRA_DIR/kafka/N.pid (default <repo>/.infra), as infra.sh writes
# them. Run it while a load runs (the bench, or Kafka's ProducerPerformance); the names are
# truncated by the kernel to 15 characters: "data-plane-kafk" is the network threads and the
# request handlers, "ReplicaFetcherT" the followers' fetchers, "C1 CompilerThre" the JIT.
set -euo pipefail
seconds=${1:-20}
repo=$(cd "$(dirname "$0")/../.." && pwd)
infra=${INFRA_DIR:-$repo/.infra}
pids=$(cat "$infra"/kafka/*.pid)
hz=$(getconf CLK_TCK)

# One line per thread: "<pid>:<tid> <utime> <stime> <name>", one awk over every stat file
# (a process per thread would cost more than the window measures). The name may hold spaces
# and sits in parentheses, so the fields are counted after the last ')'.
snapshot() {
  local p files=()
  for p in $pids; do files+=(/proc/"$p"/task/*/stat); done
  awk '{
    open = index($0, "("); close_ = 0
    for (i = length($0); i > 0; i--) if (substr($0, i, 1) == ")") { close_ = i; break }
    name = substr($0, open + 1, close_ - open - 1); gsub(/ /, "_", name)
    n = split(substr($0, close_ + 2), f, " ")
    split(FILENAME, path, "/")
    print path[3] ":" path[5], f[12], f[13], name
  }' "${files[@]}" 2>/dev/null | sort
}

before=$(mktemp)
after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
# Reading every thread takes a moment; each thread's window runs from its read in the first
# snapshot to its read in the second, so the window is the time between the two starts.
t0=$(date +%s.%N)
snapshot >"$before"
sleep "$seconds"
t1=$(date +%s.%N)
snapshot >"$after"
window=$(echo "$t1 - $t0" | bc -l)
join "$before" "$after" | awk -v d="$window" -v hz="$hz" '
  { name = $4; gsub(/-[0-9]+-/, "-N-", name); gsub(/[-#]?[0-9]+$/, "", name); u[name] += $5 - $2; s[name] += $6 - $3; tu += $5 - $2; ts += $6 - $3 }
  END {
    printf "%-20s %7s %7s %7s\n", "threads", "user", "system", "cores"
    for (n in u) if (u[n] + s[n] > 0) printf "%-20s %7.3f %7.3f %7.3f\n", n, u[n] / hz / d, s[n] / hz / d, (u[n] + s[n]) / hz / d | "sort -k4 -rn"
    close("sort -k4 -rn")
    printf "%-20s %7.3f %7.3f %7.3f   (cores over %.1f s)\n", "all brokers", tu / hz / d, ts / hz / d, (tu + ts) / hz / d, d
  }'
