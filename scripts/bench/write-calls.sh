#!/usr/bin/env bash
# Counts the write system calls (write, writev, sendmsg: /proc/<pid>/io's syscw) of every
# instance the bench starts (node … src/main.ts), summed per checkout (the process's working
# directory), over their whole lives. Start it before `npm run bench -- --baseline DIR`, stop
# it (Ctrl-C, or kill) after: it prints one line per checkout.
#
#   bash scripts/bench/write-calls.sh & npx tsx scripts/bench/bench.ts --no-infra --only keyed-chat \
#     --baseline ../base …; kill %1
#
# It samples every half second and keeps each process's last reading, so a process's last
# half second before it exits is not counted; both checkouts lose the same.
set -euo pipefail
dir=$(mktemp -d)
report() {
  # Each file: <cwd> <syscw> <CPU ticks>.
  cat "$dir"/* 2>/dev/null | awk '{ w[$1] += $2; t[$1] += $3; n[$1]++ }
    END { for (c in w) printf "%s: %d processes, %d write calls, %.1f CPU s\n", c, n[c], w[c], t[c] / 100 }'
  rm -rf "$dir"
  exit 0
}
trap report INT TERM
while true; do
  for pid in $(pgrep -f '^[^ ]*node .*src/main\.ts' || true); do
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
    syscw=$(awk '$1 == "syscw:" { print $2 }' "/proc/$pid/io" 2>/dev/null) || continue
    ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || continue
    [ -n "$syscw" ] && [ -n "$ticks" ] && echo "$cwd $syscw $ticks" > "$dir/$pid"
  done
  sleep 0.5 &
  wait $! || true
done
