#!/usr/bin/env bash
# Measures the local 3-broker cluster's CPU per record and its latency under broker setting
# variants, on a PRIVATE cluster (own INFRA_DIR and ports; never the shared one).
#
#   bash scripts/bench/broker-tuning.sh [--rounds K] [--records N] [--rate R] [--e2e N] [variant...]
#   bash scripts/bench/broker-tuning.sh --summary <results.tsv> [variant...]   (table only)
#
# Per variant and round (variants interleaved A/B/A/B because the machine is shared and noisy):
#   1. restart the private cluster with the variant's settings (infra.sh down; up), fresh JVMs;
#   2. idle: brokers' CPU over IDLE_SECONDS with nothing producing or reading;
#   3. load: Kafka's ProducerPerformance, acks=all + idempotence, N records of 200 B at R/s to a
#      12-partition topic (rf 3, min.insync.replicas 2) while one bare kafkajs consumer (minBytes 1)
#      reads it; brokers' CPU (utime+stime of the 3 broker pids from /proc) over the producer's run;
#      producer ack latency p50/p99 as ProducerPerformance reports it;
#   4. EndToEndLatency <brokers> <1-partition rf-3 topic> E all 100: p50/p99 of one acks=all hop.
# Rows go to $OUT/results.tsv; a per-variant median table is printed at the end.
#
# Environment: INFRA_DIR [/tmp/broker-tuning], KAFKA_PORT_BASE [29092], OUT [$INFRA_DIR/bench-<time>],
#   IDLE_SECONDS [10], READER [kafkajs] (none: produce only, no consumer). The jars come from $INFRA_DIR/kafka/libs (infra.sh fetches them if missing;
#   copying an existing .infra/kafka/libs there avoids the download).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
INFRA="$ROOT/scripts/infra/infra.sh"
export INFRA_DIR=${INFRA_DIR:-/tmp/broker-tuning}
export KAFKA_PORT_BASE=${KAFKA_PORT_BASE:-29092}
export INFRA_SKIP_DB=1 INFRA_TAKEOVER=0
[[ $KAFKA_PORT_BASE == 19092 ]] && { echo "refusing to run on the shared cluster's ports" >&2; exit 2; }
K="$INFRA_DIR/kafka"; LIBS="$K/libs"
B="127.0.0.1:$KAFKA_PORT_BASE,127.0.0.1:$((KAFKA_PORT_BASE+1)),127.0.0.1:$((KAFKA_PORT_BASE+2))"
ROUNDS=2 RECORDS=20000 RATE=500 E2E=2000 IDLE_SECONDS=${IDLE_SECONDS:-10} READER=${READER:-kafkajs}
VARIANTS=() SUMMARY=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --records) RECORDS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --e2e) E2E=$2; shift 2 ;;
    --summary) SUMMARY=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) VARIANTS+=("$1"); shift ;;
  esac
done
[[ ${#VARIANTS[@]} -gt 0 || -n $SUMMARY ]] || VARIANTS=(before after)
OUT=${OUT:-$INFRA_DIR/bench-$(date -u +%Y%m%dT%H%M%S)}

# The settings infra.sh used before this tuning (commit efc3b19), spelled out so that "before"
# stays "before" whatever infra.sh's defaults become.
G1_OLD="-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15"
PROPS_OLD=$'num.network.threads=2\nnum.io.threads=4\nnum.replica.fetchers=1\nbackground.threads=4'

# variant -> KAFKA_JVM_PERF_OPTS and KAFKA_SERVER_PROPS_EXTRA (on top of infra.sh's defaults)
variant_env() {
  PERF="$G1_OLD"; PROPS="$PROPS_OLD"; HEAP="-Xms256m -Xmx512m"
  case $1 in
    before) ;;
    after) PERF=""; PROPS=""; HEAP="" ;;             # whatever infra.sh now defaults to
    serial) PERF="-XX:+UseSerialGC -XX:MaxInlineLevel=15" ;;
    parallel) PERF="-XX:+UseParallelGC -XX:MaxInlineLevel=15" ;;
    c1) PERF="$G1_OLD -XX:TieredStopAtLevel=1" ;;
    serial-c1) PERF="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:MaxInlineLevel=15" ;;
    threads1) PROPS=$'num.network.threads=1\nnum.io.threads=2\nnum.replica.fetchers=1\nbackground.threads=2' ;;
    rfwait5) PROPS="$PROPS_OLD"$'\nreplica.fetch.min.bytes=65536\nreplica.fetch.wait.max.ms=5' ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}

java_tool() { java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$LIBS/*" \
  -Dlog4j.configuration="file:$K/config/tools-log4j.properties" "$@"; }
broker_ticks() { # sum of utime+stime (clock ticks) of the three brokers
  local n t=0 v
  for n in 1 2 3; do v=$(awk '{print $14+$15}' "/proc/$(cat "$K/$n.pid")/stat"); t=$((t + v)); done
  echo "$t"
}
now_ms() { date +%s%3N; }
HZ=$(getconf CLK_TCK)

# Markdown table of per-variant medians from a results.tsv.
summary() {
  echo "| variant | runs | brokers idle (cores) | brokers under load (cores) | broker CPU per record (µs) | reader fetch answers | broker CPU-ms per fetch answer | producer ack p50 / p99 (ms) | EndToEndLatency p50 / p99 (ms) |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for v in "${VARIANTS[@]}"; do
    awk -F'\t' -v v="$v" '
      function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      NR > 1 && $2 == v { n++; idle[n] = $3; load[n] = $4; per[n] = $5; p50[n] = $7; p99[n] = $8; e50[n] = $11; e99[n] = $12; bat[n] = $10; pb[n] = $10 ? $4 * ($6 ? $9 / $6 : 0) * 1000 / $10 : 0 }
      END { if (n) printf "| %s | %d | %.2f | %.2f | %.0f | %.0f | %.1f | %.0f / %.0f | %.1f / %.1f |\n", v, n, med(idle, n), med(load, n), med(per, n), med(bat, n), med(pb, n), med(p50, n), med(p99, n), med(e50, n), med(e99, n) }' "$1"
  done
}

if [[ -n $SUMMARY ]]; then
  [[ ${#VARIANTS[@]} -gt 0 ]] || mapfile -t VARIANTS < <(awk -F'\t' 'NR > 1 && !seen[$2]++ {print $2}' "$SUMMARY")
  summary "$SUMMARY"; exit 0
fi
mkdir -p "$OUT"
printf 'round\tvariant\tidle_cores\tload_cores\tcpu_us_per_record\tpp_rate\tpp_p50_ms\tpp_p99_ms\treader_records\treader_batches\te2e_p50_ms\te2e_p99_ms\te2e_cores\n' >"$OUT/results.tsv"
for ((r = 1; r <= ROUNDS; r++)); do
  for v in "${VARIANTS[@]}"; do
    variant_env "$v"
    echo "== round $r variant $v" >&2
    bash "$INFRA" down >/dev/null 2>&1 || true
    KAFKA_JVM_PERF_OPTS="$PERF" KAFKA_SERVER_PROPS_EXTRA="$PROPS" KAFKA_HEAP="${HEAP:-}" \
      bash "$INFRA" up >"$OUT/up-$r-$v.log" 2>&1 || { tail "$OUT/up-$r-$v.log" >&2; exit 1; }
    cp "$K/config/server-1.properties" "$OUT/server-1-$v.properties"
    tr '\0' ' ' <"/proc/$(cat "$K/1.pid")/cmdline" >"$OUT/cmdline-$v.txt"
    t="bt-$r-$v-$$"; te="bt-e2e-$r-$v-$$"
    java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$B" --create --topic "$t" \
      --partitions 12 --replication-factor 3 --config min.insync.replicas=2 >/dev/null
    java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$B" --create --topic "$te" \
      --partitions 1 --replication-factor 3 --config min.insync.replicas=2 >/dev/null
    # idle
    c0=$(broker_ticks); m0=$(now_ms); sleep "$IDLE_SECONDS"; c1=$(broker_ticks); m1=$(now_ms)
    idle=$(awk -v c="$((c1 - c0))" -v ms="$((m1 - m0))" -v hz="$HZ" 'BEGIN{printf "%.2f", c/hz/(ms/1000)}')
    # load
    rp=""
    if [[ $READER == kafkajs ]]; then
      node "$ROOT/scripts/bench/broker-tuning-reader.js" "$B" "$t" >"$OUT/reader-$r-$v.log" 2>&1 &
      rp=$!
      for i in $(seq 1 120); do grep -q '^ready' "$OUT/reader-$r-$v.log" && break; sleep 0.5; done
    else
      echo "records=0 batches=0" >"$OUT/reader-$r-$v.log"
    fi
    c0=$(broker_ticks); m0=$(now_ms)
    java_tool org.apache.kafka.tools.ProducerPerformance --topic "$t" --num-records "$RECORDS" \
      --record-size 200 --throughput "$RATE" \
      --producer-props bootstrap.servers="$B" acks=all enable.idempotence=true >"$OUT/pp-$r-$v.log" 2>&1
    c1=$(broker_ticks); m1=$(now_ms)
    if [[ -n $rp ]]; then sleep 1; kill -TERM "$rp"; wait "$rp" || true; fi
    load=$(awk -v c="$((c1 - c0))" -v ms="$((m1 - m0))" -v hz="$HZ" 'BEGIN{printf "%.2f", c/hz/(ms/1000)}')
    per=$(awk -v c="$((c1 - c0))" -v n="$RECORDS" -v hz="$HZ" 'BEGIN{printf "%.0f", c/hz/n*1e6}')
    s=$(grep 'records sent' "$OUT/pp-$r-$v.log" | tail -1)
    pprate=$(sed -n 's/.*sent, \([0-9.]*\) records\/sec.*/\1/p' <<<"$s")
    pp50=$(sed -n 's/.* \([0-9]*\) ms 50th.*/\1/p' <<<"$s"); pp99=$(sed -n 's/.* \([0-9]*\) ms 99th.*/\1/p' <<<"$s")
    rl=$(grep -o 'records=[0-9]* batches=[0-9]*' "$OUT/reader-$r-$v.log" | tail -1)
    rrec=$(sed -n 's/records=\([0-9]*\).*/\1/p' <<<"$rl"); rbat=$(sed -n 's/.*batches=\([0-9]*\)/\1/p' <<<"$rl")
    # latency, one message at a time
    c0=$(broker_ticks); m0=$(now_ms)
    java_tool org.apache.kafka.tools.EndToEndLatency "$B" "$te" "$E2E" all 100 >"$OUT/e2e-$r-$v.log" 2>&1 || true
    c1=$(broker_ticks); m1=$(now_ms)
    e2ecores=$(awk -v c="$((c1 - c0))" -v ms="$((m1 - m0))" -v hz="$HZ" 'BEGIN{printf "%.2f", c/hz/(ms/1000)}')
    e50=$(sed -n 's/.*50th = \([0-9.]*\).*/\1/p' "$OUT/e2e-$r-$v.log" | tail -1)
    e99=$(sed -n 's/.*99th = \([0-9.]*\).*/\1/p' "$OUT/e2e-$r-$v.log" | tail -1)
    java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$B" --delete --topic "$t" >/dev/null 2>&1 || true
    java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$B" --delete --topic "$te" >/dev/null 2>&1 || true
    row="$r	$v	$idle	$load	$per	$pprate	$pp50	$pp99	$rrec	$rbat	$e50	$e99	$e2ecores"
    echo "$row" >>"$OUT/results.tsv"
    echo "$row" >&2
  done
done
bash "$INFRA" down >/dev/null 2>&1 || true

echo "results: $OUT/results.tsv (machine: $(nproc) cores; load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
echo
summary "$OUT/results.tsv"
