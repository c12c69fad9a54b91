#!/usr/bin/env bash
# Local infrastructure without Docker: a real 3-node Apache Kafka KRaft cluster
# (combined broker+controller nodes, run from the Kafka jars on Maven Central),
# plus PostgreSQL and Redis as installed on the machine.
#
#   bash scripts/infra/infra.sh up                 start / repair everything, create topics, migrate
#   bash scripts/infra/infra.sh down               stop the three brokers (data kept)
#   bash scripts/infra/infra.sh status             broker pid/port state; exit 0 only if all 3 answer
#   bash scripts/infra/infra.sh reset              down + delete Kafka data, configs and cluster id
#   bash scripts/infra/infra.sh stop-broker N [--kill]   stop one broker (SIGTERM, or SIGKILL with --kill)
#   bash scripts/infra/infra.sh start-broker N [N...]  start brokers again and wait until they have rejoined
#   bash scripts/infra/infra.sh describe           describe the application topics (leaders, ISR)
#
# Everything lives under <repo>/.infra/ (git-ignored):
#   .infra/kafka/libs/             jars resolved by Maven from scripts/infra/pom.xml (+ .kafka-version marker)
#   .infra/kafka/config/           generated server-N.properties, log4j files, client properties
#   .infra/kafka/data/N/           KRaft log dir of node N (metadata + topic data)
#   .infra/kafka/logs/N.log        broker log (INFO, rolling 10 MB x 3); N.out = JVM stdout/stderr
#   .infra/kafka/N.pid             broker pid
#   .infra/kafka/cluster.id        cluster id, generated once
#   .infra/kafka/env               KAFKA_BROKERS=... for scripts/tests to source (and the
#                                  SASL_SSL listener: KAFKA_SECURE_BROKERS, its CA file and user)
#   .infra/kafka/tls/              a CA and the brokers' certificate (openssl), the SASL password
#
# Environment overrides (defaults in brackets):
#   KAFKA_VERSION [3.9.1]  KAFKA_HOST [127.0.0.1]
#   KAFKA_PORT_BASE [19092] -> client ports BASE, BASE+1, BASE+2
#   KAFKA_CONTROLLER_PORT_BASE [KAFKA_PORT_BASE+3] -> controller ports
#   KAFKA_SECURE_PORT_BASE [KAFKA_PORT_BASE+6] -> SASL_SSL listener ports (TLS with the CA in
#     .infra/kafka/tls/ca.pem; SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for the user
#     KAFKA_SASL_USER [keyed-chat], whose password is generated once into .infra/kafka/tls/sasl-password)
#   KAFKA_HEAP ["-Xms256m -Xmx512m"]  KAFKA_JVM_OPTS [extra JVM flags for brokers]
#   KAFKA_JVM_PERF_OPTS [GC/JIT flags, see below; replaces them when set]
#   KAFKA_SERVER_PROPS_EXTRA [extra server.properties lines, appended: later keys win]
#   KAFKA_PARTITIONS [12]  KAFKA_TOPIC_LOGIN [login-request]  KAFKA_TOPIC_CHAT [chat-request]
#     (the app's own names; LOGIN_TOPIC / CHAT_TOPIC, the names before, still work)
#   KAFKA_UP_TIMEOUT [90] seconds to wait for the cluster; KAFKA_STOP_TIMEOUT [30]
#   INFRA_DIR [<repo>/.infra]  INFRA_SKIP_DB [0] (1: don't touch PostgreSQL/Redis/migrations)
#   INFRA_SKIP_MIGRATE [0] (1: don't run `npm run db:migrate`)
#   INFRA_TAKEOVER [1] if another checkout's infra.sh brokers hold the ports, stop them
#     (0: fail instead). CI runs in a fresh clone on the developer's machine, where the
#     developer's cluster may still be running.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
POM="$SCRIPT_DIR/pom.xml"

INFRA_DIR=${INFRA_DIR:-$ROOT/.infra}
KAFKA_DIR="$INFRA_DIR/kafka"
LIBS="$KAFKA_DIR/libs"
CONF="$KAFKA_DIR/config"
DATA="$KAFKA_DIR/data"
LOGS="$KAFKA_DIR/logs"
LIBS_MARKER="$LIBS/.kafka-version"
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"

KAFKA_VERSION=${KAFKA_VERSION:-3.9.1}
KAFKA_HOST=${KAFKA_HOST:-127.0.0.1}
KAFKA_PORT_BASE=${KAFKA_PORT_BASE:-19092}
KAFKA_CONTROLLER_PORT_BASE=${KAFKA_CONTROLLER_PORT_BASE:-$((KAFKA_PORT_BASE + 3))}
KAFKA_SECURE_PORT_BASE=${KAFKA_SECURE_PORT_BASE:-$((KAFKA_PORT_BASE + 6))}
KAFKA_SASL_USER=${KAFKA_SASL_USER:-keyed-chat}
TLS="$KAFKA_DIR/tls"
KAFKA_HEAP=${KAFKA_HEAP:--Xms256m -Xmx512m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:-}
KAFKA_SERVER_PROPS_EXTRA=${KAFKA_SERVER_PROPS_EXTRA:-}
KAFKA_PARTITIONS=${KAFKA_PARTITIONS:-12}
KAFKA_REPLICATION_FACTOR=3
KAFKA_MIN_ISR=2
# The app's variable names (src/config/config.ts), so one .env serves both.
LOGIN_TOPIC=${KAFKA_TOPIC_LOGIN:-${LOGIN_TOPIC:-login-request}}
CHAT_TOPIC=${KAFKA_TOPIC_CHAT:-${CHAT_TOPIC:-chat-request}}
KAFKA_UP_TIMEOUT=${KAFKA_UP_TIMEOUT:-90}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
INFRA_SKIP_DB=${INFRA_SKIP_DB:-0}
INFRA_SKIP_MIGRATE=${INFRA_SKIP_MIGRATE:-0}
PG_HOST=127.0.0.1
PG_PORT=${PGPORT:-5432}
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

# GC/JIT flags of the brokers (measured with scripts/bench/broker-tuning.sh, see
# docs/benchmarks/broker-tuning.md). Kafka's own defaults are G1 with full tiered JIT
# (-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
#  -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15); set KAFKA_JVM_PERF_OPTS to get them back.
# - TieredStopAtLevel=1 (C1 JIT only): on 2 shared cores the C2 compiler threads were 28-39 % of
#   the brokers' CPU in their first minutes under load, and brokers here live minutes to hours
#   (tests, CI, benches). Without C2 the brokers answered 5x the fetches in the same window at
#   about the same CPU, with producer ack p50 134 vs 1222 ms and EndToEndLatency p50 7 vs 9.5 ms.
#   Produce only (no reader), all three changes together: brokers' CPU per record -45 %
#   (1389 vs 2514 us), but the lone acks=all ping-pong got slower (EndToEndLatency p50 8 vs
#   5.5 ms, p99 92 vs 55 ms); which change costs that is not yet measured.
# - SerialGC: no concurrent GC threads; 3 small heaps need no G1. Idle CPU 0.16 vs 0.21 cores;
#   under load no clear difference from G1 (within this machine's noise).
KAFKA_JVM_PERF_OPTS=${KAFKA_JVM_PERF_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:MaxInlineLevel=15}

NODES=(1 2 3)
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
# Short-lived admin tool JVMs: fast start, small heap.
TOOL_JVM_OPTS=(-Xms32m -Xmx192m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Djava.awt.headless=true)

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

client_port() { echo $((KAFKA_PORT_BASE + $1 - 1)); }
controller_port() { echo $((KAFKA_CONTROLLER_PORT_BASE + $1 - 1)); }
secure_port() { echo $((KAFKA_SECURE_PORT_BASE + $1 - 1)); }
secure_bootstrap() {
  local n out=""
  for n in "${NODES[@]}"; do out+="${out:+,}$KAFKA_HOST:$(secure_port "$n")"; done
  echo "$out"
}
bootstrap() {
  local n out=""
  for n in "${NODES[@]}"; do out+="${out:+,}$KAFKA_HOST:$(client_port "$n")"; done
  echo "$out"
}
quorum_voters() {
  local n out=""
  for n in "${NODES[@]}"; do out+="${out:+,}$n@$KAFKA_HOST:$(controller_port "$n")"; done
  echo "$out"
}
pid_file() { echo "$KAFKA_DIR/$1.pid"; }
server_props() { echo "$CONF/server-$1.properties"; }

check_node_arg() {
  [[ ${1:-} =~ ^[123]$ ]] || die "expected a broker number 1, 2 or 3 (got '${1:-}')"
}

# True if something accepts TCP connections on host:port (no JVM, ~ms).
port_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# Prints the pid of broker N if it is alive and really is that broker; else nothing, status 1.
broker_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must be our kafka.Kafka with this node's config.
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"kafka.Kafka $(server_props "$1")"* ]] || return 1
  echo "$pid"
}

need_cmd() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"; }

# ---------------------------------------------------------------------------------------
# Jars
# ---------------------------------------------------------------------------------------
libs_fingerprint() {
  printf 'kafka_version=%s\npom_sha256=%s\n' "$KAFKA_VERSION" "$(sha256sum "$POM" | cut -d' ' -f1)"
}

ensure_libs() {
  if [[ -f $LIBS_MARKER && -f $LIBS/kafka_2.13-$KAFKA_VERSION.jar ]] \
    && [[ "$(cat "$LIBS_MARKER")" == "$(libs_fingerprint)" ]]; then
    return 0
  fi
  need_cmd mvn "install Maven (apt-get install maven) to resolve the Kafka jars"
  log "resolving Kafka $KAFKA_VERSION jars with Maven into $LIBS ..."
  mkdir -p "$KAFKA_DIR"
  local tmp="$KAFKA_DIR/libs.tmp.$$" mvn_log="$KAFKA_DIR/mvn.log"
  rm -rf "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" \
      dependency:copy-dependencies -DincludeScope=runtime \
      -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2 || true
    rm -rf "$tmp"
    die "Maven could not resolve the Kafka jars (full log: $mvn_log)"
  fi
  local j
  for j in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar" \
           "kafka-tools-$KAFKA_VERSION.jar" "kafka-metadata-$KAFKA_VERSION.jar" \
           "kafka-raft-$KAFKA_VERSION.jar" "kafka-server-$KAFKA_VERSION.jar"; do
    [[ -f $tmp/$j ]] || { rm -rf "$tmp"; die "Maven finished but $j is missing"; }
  done
  libs_fingerprint >"$tmp/.kafka-version"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  log "resolved $(find "$LIBS" -name '*.jar' | wc -l) jars"
}

ensure_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (need Java 11+; set JAVA_HOME)"
}

run_tool() { # run_tool <main class> args...  (admin tools, quiet logging, bounded)
  local cls=$1; shift
  timeout 60 "$JAVA" "${TOOL_JVM_OPTS[@]}" -cp "$LIBS/*" \
    -Dlog4j.configuration="file:$CONF/tools-log4j.properties" "$cls" "$@"
}

# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------
new_cluster_id() {
  # Same shape as Kafka's Uuid: 16 random bytes, URL-safe base64 without padding.
  # Kafka never hands out ids starting with '-', which would look like a CLI option.
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* || ${#id} -ne 22 ]] || { echo "$id"; return; }
  done
}

ensure_cluster_id() {
  if [[ ! -s $CLUSTER_ID_FILE ]]; then
    local existing=""
    # Data already formatted but the id file got lost: reuse the id on disk.
    [[ -f $DATA/1/meta.properties ]] && existing=$(sed -n 's/^cluster.id=//p' "$DATA/1/meta.properties")
    mkdir -p "$KAFKA_DIR"
    echo "${existing:-$(new_cluster_id)}" >"$CLUSTER_ID_FILE"
  fi
  CLUSTER_ID=$(tr -d '[:space:]' <"$CLUSTER_ID_FILE")
}

write_configs() {
  mkdir -p "$CONF" "$LOGS" "$DATA"
  local n
  for n in "${NODES[@]}"; do
    cat >"$(server_props "$n").tmp" <<EOF
# Generated by scripts/infra/infra.sh -- edits are overwritten on every 'up'.
# KRaft combined mode: this node is both a broker and a controller (quorum voter).
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(quorum_voters)
listeners=PLAINTEXT://$KAFKA_HOST:$(client_port "$n"),CONTROLLER://$KAFKA_HOST:$(controller_port "$n"),SASL_SSL://$KAFKA_HOST:$(secure_port "$n")
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$(client_port "$n"),SASL_SSL://$KAFKA_HOST:$(secure_port "$n")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$DATA/$n

# The SASL_SSL listener, as managed Kafka offers it (Confluent Cloud, MSK, Aiven): TLS with
# a certificate from our own CA, and SASL PLAIN or SCRAM. PLAIN users are listed here; SCRAM
# users live in the cluster metadata and are created with kafka-configs (ensure_sasl_user).
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS/broker-keystore.pem
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$SASL_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# Topic defaults: every partition on all three nodes, writes need two in sync.
num.partitions=$KAFKA_PARTITIONS
default.replication.factor=$KAFKA_REPLICATION_FACTOR
min.insync.replicas=$KAFKA_MIN_ISR
auto.create.topics.enable=false
unclean.leader.election.enable=false
offsets.topic.replication.factor=$KAFKA_REPLICATION_FACTOR
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=$KAFKA_REPLICATION_FACTOR
transaction.state.log.min.isr=$KAFKA_MIN_ISR
transaction.state.log.num.partitions=12
group.initial.rebalance.delay.ms=0
# A restarted broker gets its preferred leaderships back after <= 30 s (default 300 s).
leader.imbalance.check.interval.seconds=30
# A hard-killed broker is fenced (its partitions get new leaders) after 6 s, not 9 s;
# a broker restarted before that waits for the fencing before it rejoins.
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1500

# Small box (2 cores): few threads, small cleaner buffer (default 128 MB of heap).
# 3 brokers share 2 cores, so one network thread and two request handlers per broker are
# plenty (were 2 and 4; background 4). Measured together with the JVM flags above (see
# docs/benchmarks/broker-tuning.md): versus the same flags with 2/4 threads, producer ack
# p50 85 vs 170 ms and more fetch answers for less CPU each -- a small, noisy difference.
num.network.threads=1
num.io.threads=2
num.replica.fetchers=1
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216

# Test-sized logs: 16 MB segments, keep 6 h or 256 MB per partition.
log.segment.bytes=16777216
log.retention.hours=6
log.retention.bytes=268435456
log.retention.check.interval.ms=60000
# log.flush.*: Kafka defaults (rely on replication + OS page cache, no forced fsync).
EOF
    if [[ -n $KAFKA_SERVER_PROPS_EXTRA ]]; then
      printf '\n# KAFKA_SERVER_PROPS_EXTRA (later keys override earlier ones)\n%s\n' \
        "$KAFKA_SERVER_PROPS_EXTRA" >>"$(server_props "$n").tmp"
    fi
    mv "$(server_props "$n").tmp" "$(server_props "$n")"
  done

  cat >"$CONF/log4j.properties" <<'EOF'
# Broker logging (reload4j). The file name comes from -Dkafka.infra.logfile.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${kafka.infra.logfile}
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
EOF

  cat >"$CONF/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=ERROR
EOF

  # Admin client settings for the CLI checks: fail fast instead of the 60 s defaults.
  cat >"$CONF/admin-client.properties" <<'EOF'
request.timeout.ms=5000
default.api.timeout.ms=10000
socket.connection.setup.timeout.ms=2000
socket.connection.setup.timeout.max.ms=5000
EOF

  printf 'KAFKA_BROKERS=%s\nKAFKA_TOPIC_LOGIN=%s\nKAFKA_TOPIC_CHAT=%s\nKAFKA_PARTITIONS=%s\n' \
    "$(bootstrap)" "$LOGIN_TOPIC" "$CHAT_TOPIC" "$KAFKA_PARTITIONS" >"$KAFKA_DIR/env"
  # The SASL_SSL listener (names as the app's own settings take them).
  printf 'KAFKA_SECURE_BROKERS=%s\nKAFKA_SECURE_SSL_CA_FILE=%s\nKAFKA_SECURE_SASL_USERNAME=%s\nKAFKA_SECURE_SASL_PASSWORD_FILE=%s\n' \
    "$(secure_bootstrap)" "$TLS/ca.pem" "$KAFKA_SASL_USER" "$TLS/sasl-password" >>"$KAFKA_DIR/env"
}

ensure_tls() { # a CA, the brokers' certificate signed by it (PEM keystore), the SASL password; made once
  mkdir -p "$TLS"
  chmod 700 "$TLS"
  if [[ ! -s $TLS/sasl-password ]]; then
    head -c 24 /dev/urandom | base64 | tr -d '+/=\n' >"$TLS/sasl-password"
    chmod 600 "$TLS/sasl-password"
  fi
  SASL_PASSWORD=$(tr -d '[:space:]' <"$TLS/sasl-password")
  [[ -s $TLS/broker-keystore.pem && -s $TLS/ca.pem ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl is needed for the SASL_SSL listener's certificates"
  log "making a CA and the brokers' TLS certificate in $TLS"
  (
    set -e
    cd "$TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=keyed-chat local CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=$KAFKA_HOST" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost%s\n' "$([[ $KAFKA_HOST =~ ^[0-9.]+$ && $KAFKA_HOST != 127.0.0.1 ]] && echo ",IP:$KAFKA_HOST")" >san.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 3650 -extfile san.ext 2>/dev/null
    # Kafka's PEM keystore: an unencrypted PKCS#8 key, then the certificate chain.
    openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8
    cat broker.pk8 broker.pem ca.pem >broker-keystore.pem.tmp
    mv broker-keystore.pem.tmp broker-keystore.pem
    chmod 600 ca.key broker.key broker.pk8 broker-keystore.pem
    rm -f broker.csr san.ext
  ) || die "could not make the TLS certificates in $TLS"
}

ensure_sasl_user() { # the SCRAM credentials of KAFKA_SASL_USER (idempotent: set again each time)
  local mechanism
  # One mechanism per request: Kafka refuses to alter one user's credential twice in one.
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    run_tool kafka.admin.ConfigCommand --bootstrap-server "$(bootstrap)" --command-config "$CONF/admin-client.properties" \
      --alter --entity-type users --entity-name "$KAFKA_SASL_USER" \
      --add-config "$mechanism=[password=$SASL_PASSWORD]" >/dev/null \
      || die "could not create the $mechanism user $KAFKA_SASL_USER"
  done
}

format_storage() { # format the log dirs of the given nodes (in parallel) if not yet formatted
  local n pids=() todo=()
  for n in "$@"; do
    if [[ -f $DATA/$n/meta.properties ]]; then
      local on_disk
      on_disk=$(sed -n 's/^cluster.id=//p' "$DATA/$n/meta.properties")
      [[ $on_disk == "$CLUSTER_ID" ]] \
        || die "node $n data ($DATA/$n) belongs to cluster '$on_disk', not '$CLUSTER_ID'; run: $0 reset"
      continue
    fi
    todo+=("$n")
  done
  [[ ${#todo[@]} -gt 0 ]] || return 0
  log "formatting KRaft storage for node(s) ${todo[*]} (cluster id $CLUSTER_ID)"
  for n in "${todo[@]}"; do
    mkdir -p "$DATA/$n"
    run_tool kafka.tools.StorageTool format --cluster-id "$CLUSTER_ID" \
      --config "$(server_props "$n")" --ignore-formatted >"$LOGS/format-$n.log" 2>&1 &
    pids+=($!)
  done
  local i rc=0
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      cat "$LOGS/format-${todo[$i]}.log" >&2 || true
      rc=1
    fi
  done
  [[ $rc -eq 0 ]] || die "formatting KRaft storage failed"
}

# ---------------------------------------------------------------------------------------
# Brokers
# ---------------------------------------------------------------------------------------
# Pid of the process listening on TCP port P (empty if none or unknown).
listener_pid() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -ltnpH "( sport = :$1 )" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true
}

# Another checkout's infra.sh cluster (e.g. a developer's, when CI runs in a fresh clone on
# the same machine) may hold our ports. Such brokers are recognisable by their command line
# (kafka.Kafka .../kafka/config/server-N.properties outside our INFRA_DIR); stop them so this
# checkout can start its own. INFRA_TAKEOVER=0 makes this an error instead.
takeover_ports() {
  local n p pid cmd foreign=()
  for n in "${NODES[@]}"; do
    for p in "$(client_port "$n")" "$(controller_port "$n")" "$(secure_port "$n")"; do
      pid=$(listener_pid "$p")
      [[ -n $pid ]] || continue
      cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
      [[ $cmd == *"kafka.Kafka $CONF/server-"* ]] && continue   # one of ours
      if [[ $cmd =~ kafka\.Kafka\ (/[^ ]*/kafka/config/server-[0-9]+\.properties) ]]; then
        [[ " ${foreign[*]-} " == *" $pid "* ]] || foreign+=("$pid")
        log "port $p is held by another checkout's broker (pid $pid, ${BASH_REMATCH[1]})"
      fi
    done
  done
  [[ ${#foreign[@]} -gt 0 ]] || return 0
  [[ ${INFRA_TAKEOVER:-1} == 1 ]] \
    || die "ports taken by another infra.sh cluster (pids ${foreign[*]}); stop it with its own 'infra.sh down'"
  log "stopping that cluster (pids ${foreign[*]}) to take over the ports"
  kill -TERM "${foreign[@]}" 2>/dev/null || true
  local deadline=$(( $(now) + KAFKA_STOP_TIMEOUT )) alive
  while :; do
    alive=0
    for pid in "${foreign[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive -eq 0 ]] && break
    if (( $(now) >= deadline )); then
      kill -KILL "${foreign[@]}" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
}

launch_broker() { # start node N in the background if not already running; no waiting
  local n=$1 pid
  if pid=$(broker_pid "$n"); then
    return 0
  fi
  rm -f "$(pid_file "$n")"
  local p
  for p in "$(client_port "$n")" "$(controller_port "$n")" "$(secure_port "$n")"; do
    if port_open "$KAFKA_HOST" "$p"; then
      local other; other=$(listener_pid "$p")
      die "port $KAFKA_HOST:$p (node $n) is already taken by another process${other:+ (pid $other: $(tr '\0' ' ' <"/proc/$other/cmdline" 2>/dev/null | cut -c1-200))}"
    fi
  done
  log "starting broker $n (client $KAFKA_HOST:$(client_port "$n"), controller $KAFKA_HOST:$(controller_port "$n"))"
  local -a heap jvm_perf jvm_extra=()
  read -r -a heap <<<"$KAFKA_HEAP"
  read -r -a jvm_perf <<<"$KAFKA_JVM_PERF_OPTS"
  [[ -n $KAFKA_JVM_OPTS ]] && read -r -a jvm_extra <<<"$KAFKA_JVM_OPTS"
  # setsid: own session, so Ctrl-C / job-control signals aimed at the caller don't reach it.
  # The JVM flags are those of Kafka's kafka-run-class.sh / kafka-server-start.sh.
  nohup setsid "$JAVA" "${heap[@]}" -server "${jvm_perf[@]}" -Djava.awt.headless=true \
    "${jvm_extra[@]}" \
    -Dlog4j.configuration="file:$CONF/log4j.properties" \
    -Dkafka.infra.logfile="$LOGS/$n.log" -Dkafka.logs.dir="$LOGS" \
    -cp "$LIBS/*" kafka.Kafka "$(server_props "$n")" \
    >"$LOGS/$n.out" 2>&1 </dev/null 9>&- &
  echo $! >"$(pid_file "$n")"
}

broker_failed() { # print why node N died, then exit
  local n=$1
  log "broker $n exited during startup; last lines of $LOGS/$n.log and $n.out:"
  tail -n 30 "$LOGS/$n.log" >&2 2>/dev/null || true
  tail -n 20 "$LOGS/$n.out" >&2 2>/dev/null || true
  die "broker $n failed to start"
}

# Number of distinct live (registered, unfenced) brokers according to the cluster metadata.
live_broker_count() {
  run_tool kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$(bootstrap)" \
    --command-config "$CONF/admin-client.properties" 2>/dev/null \
    | grep -oE '\(id: [0-9]+ ' | sort -u | wc -l || true
}

# Prints the KRaft leader (active controller) id, or nothing if there is none.
quorum_leader() {
  run_tool org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$(bootstrap)" \
    --command-config "$CONF/admin-client.properties" describe --status 2>/dev/null \
    | sed -n 's/^LeaderId:[[:space:]]*\([0-9][0-9]*\)$/\1/p' || true
}

# Wait (bounded) until: every node's pid is alive and its ports answer, the metadata lists all
# three brokers, and the quorum has a leader.
wait_cluster() {
  local deadline=$(( $(now) + KAFKA_UP_TIMEOUT )) n pid all count leader
  while :; do
    all=1
    for n in "${NODES[@]}"; do
      pid=$(broker_pid "$n") || broker_failed "$n"
      port_open "$KAFKA_HOST" "$(client_port "$n")" || all=0
      port_open "$KAFKA_HOST" "$(controller_port "$n")" || all=0
    done
    if [[ $all -eq 1 ]]; then
      count=$(live_broker_count)
      if [[ $count -eq ${#NODES[@]} ]]; then
        leader=$(quorum_leader)
        if [[ -n $leader ]]; then
          log "cluster ready: ${#NODES[@]} brokers live, active controller is node $leader"
          return 0
        fi
      fi
    fi
    if (( $(now) >= deadline )); then
      for n in "${NODES[@]}"; do
        log "node $n: $(node_state "$n")"
      done
      die "Kafka cluster not ready after ${KAFKA_UP_TIMEOUT}s (live brokers: ${count:-?}, controller: ${leader:-none}); logs in $LOGS"
    fi
    sleep 1
  done
}

# Wait (bounded) until node N is alive, answers, and is listed in the cluster metadata again.
wait_node() {
  local n=$1 deadline=$(( $(now) + KAFKA_UP_TIMEOUT ))
  while :; do
    broker_pid "$n" >/dev/null || broker_failed "$n"
    if port_open "$KAFKA_HOST" "$(client_port "$n")"; then
      local out
      out=$(run_tool kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$(bootstrap)" \
              --command-config "$CONF/admin-client.properties" 2>/dev/null) || true
      [[ $out == *"(id: $n "* ]] && return 0
    fi
    (( $(now) < deadline )) || die "broker $n did not rejoin within ${KAFKA_UP_TIMEOUT}s; see $LOGS/$n.log"
    sleep 1
  done
}

node_state() {
  local n=$1 pid cp kp
  cp=$(client_port "$n"); kp=$(controller_port "$n")
  local c="closed" k="closed"
  port_open "$KAFKA_HOST" "$cp" && c="open"
  port_open "$KAFKA_HOST" "$kp" && k="open"
  if pid=$(broker_pid "$n"); then
    echo "pid $pid running, client $KAFKA_HOST:$cp $c, controller $KAFKA_HOST:$kp $k"
  else
    local other=""
    [[ $c == open ]] && other=$(listener_pid "$cp")
    echo "not running, client $KAFKA_HOST:$cp $c, controller $KAFKA_HOST:$kp $k${other:+ (port held by another process, pid $other)}"
  fi
}

stop_nodes() { # stop_nodes <signal> N...: signal all, wait bounded, SIGKILL leftovers
  local sig=$1; shift
  local n pid pids=() nodes=()
  for n in "$@"; do
    if pid=$(broker_pid "$n"); then
      log "stopping broker $n (pid $pid, SIG$sig)"
      kill "-$sig" "$pid" 2>/dev/null || true
      pids+=("$pid"); nodes+=("$n")
    else
      rm -f "$(pid_file "$n")"
    fi
  done
  [[ ${#pids[@]} -gt 0 ]] || return 0
  local deadline=$(( $(now) + KAFKA_STOP_TIMEOUT )) alive i
  while :; do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive -eq 0 ]] && break
    if (( $(now) >= deadline )); then
      for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
          log "broker ${nodes[$i]} (pid ${pids[$i]}) still running after ${KAFKA_STOP_TIMEOUT}s: SIGKILL"
          kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
      done
      sleep 1
      break
    fi
    sleep 0.5
  done
  for n in "${nodes[@]}"; do rm -f "$(pid_file "$n")"; done
}

# ---------------------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------------------
describe_topics() { # raw TopicCommand --describe output for the app topics + internal ones
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" \
    --command-config "$CONF/admin-client.properties" \
    --describe --if-exists \
    --topic "^(${LOGIN_TOPIC//./\\.}|${CHAT_TOPIC//./\\.}|__consumer_offsets|__transaction_state)\$"
}

# True if the describe output has both topics and every partition has a leader and
# all replicas in sync -- except replicas on the nodes listed in $2 (comma-separated: brokers
# deliberately down, which cannot be in sync until they return).
topics_healthy() {
  awk -v a="$LOGIN_TOPIC" -v b="$CHAT_TOPIC" -v down="${2:-}" '
    BEGIN { n = split(down, d, ","); for (i = 1; i <= n; i++) is_down[d[i]] = 1 }
    /^Topic: / { if ($2 == a) seen_a = 1; if ($2 == b) seen_b = 1; next }
    /Partition: / {
      leader = ""; reps = ""; isr = ""
      for (i = 1; i <= NF; i++) {
        if ($i == "Leader:") leader = $(i + 1)
        if ($i == "Replicas:") reps = $(i + 1)
        if ($i == "Isr:") isr = $(i + 1)
      }
      if (leader == "none" || leader == "-1" || leader == "") bad = 1
      want = 0; nr = split(reps, r, ",")
      for (i = 1; i <= nr; i++) if (!(r[i] in is_down)) want++
      if (split(isr, s, ",") < want) bad = 1
    }
    END { exit !(seen_a && seen_b && !bad) }' <<<"$1"
}

ensure_topics() { # ensure_topics [nodes that are down, comma-separated]
  local down=${1:-} desc t missing=() line
  desc=$(describe_topics 2>&1) || die "could not describe topics: $desc"
  for t in "$LOGIN_TOPIC" "$CHAT_TOPIC"; do
    grep -qE "^Topic: ${t}[[:space:]]" <<<"$desc" || missing+=("$t")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    # The app's own provisioning code (src/adapters/kafka/topic-admin.ts), run with the
    # app's variables: one way topics come to exist, here and at an instance's start.
    log "creating topic(s) ${missing[*]} (partitions $KAFKA_PARTITIONS, RF $KAFKA_REPLICATION_FACTOR, min.insync.replicas $KAFKA_MIN_ISR)"
    (cd "$ROOT" && KAFKA_BROKERS="$(bootstrap)" KAFKA_TOPIC_LOGIN="$LOGIN_TOPIC" KAFKA_TOPIC_CHAT="$CHAT_TOPIC" \
      KAFKA_PARTITIONS="$KAFKA_PARTITIONS" KAFKA_REPLICATION_FACTOR="$KAFKA_REPLICATION_FACTOR" \
      node --import tsx scripts/kafka/ensure-topics.ts >/dev/null) \
      || die "could not create topics ${missing[*]} (scripts/kafka/ensure-topics.ts)"
  fi
  # Kafka creates __consumer_offsets / __transaction_state lazily, on the first
  # FindCoordinator; then the first consumer group join or producer stalls for seconds
  # ("coordinator is loading"). Ask for a coordinator once here so tests don't pay for it.
  if ! grep -qE '^Topic: __consumer_offsets[[:space:]]' <<<"$desc" \
    || ! grep -qE '^Topic: __transaction_state[[:space:]]' <<<"$desc"; then
    log "creating internal topics __consumer_offsets and __transaction_state"
    run_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
      --bootstrap-server "$(bootstrap)" --command-config "$CONF/admin-client.properties" \
      --describe --group infra-warmup >/dev/null 2>&1 &
    local w1=$!
    run_tool org.apache.kafka.tools.TransactionsCommand \
      --bootstrap-server "$(bootstrap)" --command-config "$CONF/admin-client.properties" \
      describe --transactional-id infra-warmup >/dev/null 2>&1 &
    wait "$w1" || true
    wait $! || true
  fi

  # Wait (bounded) until both topics exist, every partition has a leader and a full ISR
  # (a just-restarted broker may still be catching up).
  local deadline=$(( $(now) + KAFKA_UP_TIMEOUT ))
  while [[ ${#missing[@]} -gt 0 ]] || ! topics_healthy "$desc" "$down"; do
    if (( $(now) >= deadline )); then
      printf '%s\n' "$desc" >&2
      die "topics not healthy after ${KAFKA_UP_TIMEOUT}s (missing, leaderless or under-replicated partitions)"
    fi
    sleep 1
    missing=()
    desc=$(describe_topics 2>&1) || true
  done
  for t in "$LOGIN_TOPIC" "$CHAT_TOPIC"; do
    line=$(grep -E "^Topic: ${t}[[:space:]]" <<<"$desc") || die "topic $t missing after create"
    local pc rf
    pc=$(sed -n 's/.*PartitionCount: \([0-9]*\).*/\1/p' <<<"$line")
    rf=$(sed -n 's/.*ReplicationFactor: \([0-9]*\).*/\1/p' <<<"$line")
    [[ $pc == "$KAFKA_PARTITIONS" ]] \
      || log "WARNING: topic $t has $pc partitions, KAFKA_PARTITIONS is $KAFKA_PARTITIONS (run 'reset' then 'up' to recreate)"
    [[ $rf == "$KAFKA_REPLICATION_FACTOR" ]] \
      || log "WARNING: topic $t has replication factor $rf, expected $KAFKA_REPLICATION_FACTOR"
    grep -q "min.insync.replicas=$KAFKA_MIN_ISR" <<<"$line" \
      || log "WARNING: topic $t lacks min.insync.replicas=$KAFKA_MIN_ISR"
  done
  local lp cp
  lp=$(grep -E "^Topic: ${LOGIN_TOPIC}[[:space:]]" <<<"$desc" | sed -n 's/.*PartitionCount: \([0-9]*\).*/\1/p')
  cp=$(grep -E "^Topic: ${CHAT_TOPIC}[[:space:]]" <<<"$desc" | sed -n 's/.*PartitionCount: \([0-9]*\).*/\1/p')
  [[ $lp == "$cp" ]] || die "topics $LOGIN_TOPIC ($lp) and $CHAT_TOPIC ($cp) must have the same partition count; run 'reset' then 'up'"
}

# ---------------------------------------------------------------------------------------
# PostgreSQL, Redis, migrations
# ---------------------------------------------------------------------------------------
ensure_postgres() {
  need_cmd pg_isready "PostgreSQL client tools are required (apt-get install postgresql)"
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && return 0
  log "PostgreSQL not answering on $PG_HOST:$PG_PORT; starting it"
  need_cmd pg_ctlcluster "cannot start PostgreSQL: pg_ctlcluster missing (apt-get install postgresql)"
  local ver
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [[ -n $ver ]] || die "no PostgreSQL cluster under /etc/postgresql; cannot start PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 \
    || log "pg_ctlcluster $ver main start returned non-zero"
  local i
  for i in $(seq 1 30); do
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && { log "PostgreSQL $ver is up"; return 0; }
    sleep 1
  done
  die "PostgreSQL did not come up on $PG_HOST:$PG_PORT (pg_ctlcluster $ver main start)"
}

ensure_redis() {
  need_cmd redis-cli "Redis tools are required (apt-get install redis-server)"
  [[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && return 0
  log "Redis not answering on $REDIS_HOST:$REDIS_PORT; starting it"
  need_cmd redis-server "cannot start Redis: redis-server missing (apt-get install redis-server)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no >&2 \
    || log "redis-server returned non-zero"
  local i
  for i in $(seq 1 20); do
    [[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && { log "Redis is up"; return 0; }
    sleep 0.5
  done
  die "Redis did not come up on $REDIS_HOST:$REDIS_PORT"
}

run_migrations() {
  [[ -f $ROOT/package.json ]] || return 0
  command -v node >/dev/null 2>&1 || { log "node not found; skipping db:migrate"; return 0; }
  if node -e 'const p=require(process.argv[1]); process.exit(p.scripts && p.scripts["db:migrate"] ? 0 : 1)' \
       "$ROOT/package.json" 2>/dev/null; then
    log "running npm run db:migrate"
    (cd "$ROOT" && npm run --silent db:migrate) >&2 || die "database migration (npm run db:migrate) failed"
  fi
}

# ---------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------
with_lock() { # serialise concurrent invocations (e.g. parallel test setups)
  mkdir -p "$KAFKA_DIR"
  exec 9>"$KAFKA_DIR/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 300 9 || die "another infra.sh holds $KAFKA_DIR/.lock"
  fi
}

prepare() {
  ensure_java
  ensure_libs
  ensure_cluster_id
  ensure_tls
  write_configs
}

cmd_up() {
  local t0; t0=$(now)
  with_lock
  prepare
  format_storage "${NODES[@]}"
  takeover_ports
  local n stale=()
  # A broker started from a configuration without the SASL_SSL listener (before it
  # existed) is restarted so it gets it; its data is kept.
  for n in "${NODES[@]}"; do
    if broker_pid "$n" >/dev/null && ! port_open "$KAFKA_HOST" "$(secure_port "$n")"; then stale+=("$n"); fi
  done
  if [[ ${#stale[@]} -gt 0 ]]; then
    log "broker(s) ${stale[*]} run without the SASL_SSL listener; restarting them with it"
    stop_nodes TERM "${stale[@]}"
  fi
  for n in "${NODES[@]}"; do launch_broker "$n"; done
  # Brokers boot in the background; meanwhile check the other services.
  if [[ $INFRA_SKIP_DB != 1 ]]; then
    ensure_postgres
    ensure_redis
  fi
  wait_cluster
  ensure_topics
  ensure_sasl_user
  if [[ $INFRA_SKIP_DB != 1 && $INFRA_SKIP_MIGRATE != 1 ]]; then
    run_migrations
  fi
  local services="; postgres $PG_HOST:$PG_PORT; redis $REDIS_HOST:$REDIS_PORT"
  [[ $INFRA_SKIP_DB == 1 ]] && services=""
  echo "infra up in $(( $(now) - t0 ))s: kafka bootstrap servers $(bootstrap), SASL_SSL $(secure_bootstrap) (topics $LOGIN_TOPIC, $CHAT_TOPIC x $KAFKA_PARTITIONS partitions, RF $KAFKA_REPLICATION_FACTOR, min.insync $KAFKA_MIN_ISR)$services"
}

cmd_down() {
  with_lock
  stop_nodes TERM "${NODES[@]}"
  echo "kafka brokers stopped (data kept in $DATA)"
}

cmd_status() {
  local n ok=0
  for n in "${NODES[@]}"; do
    local s; s=$(node_state "$n")
    echo "broker $n: $s"
    [[ $s == pid*"client $KAFKA_HOST:$(client_port "$n") open"* ]] || ok=1
  done
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    echo "postgres $PG_HOST:$PG_PORT: up"
  else
    echo "postgres $PG_HOST:$PG_PORT: down"
  fi
  if [[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null || true) == PONG ]]; then
    echo "redis $REDIS_HOST:$REDIS_PORT: up"
  else
    echo "redis $REDIS_HOST:$REDIS_PORT: down"
  fi
  [[ $ok -eq 0 ]] && echo "kafka: all ${#NODES[@]} brokers answer ($(bootstrap))" || echo "kafka: NOT all brokers answer"
  return $ok
}

cmd_reset() {
  cmd_down
  rm -rf "$DATA" "$CONF" "$CLUSTER_ID_FILE" "$KAFKA_DIR/env" "$LOGS"
  echo "kafka data, configs and cluster id deleted (jars kept in $LIBS)"
}

cmd_stop_broker() {
  check_node_arg "${1:-}"
  local sig=TERM
  case ${2:-} in
    "") ;;
    --kill) sig=KILL ;;
    *) die "usage: $0 stop-broker N [--kill]" ;;
  esac
  with_lock
  stop_nodes "$sig" "$1"
  echo "broker $1 stopped"
}

cmd_start_broker() { # start-broker N [N...]: start the given brokers, wait until they have rejoined
  [[ $# -gt 0 ]] || die "usage: $0 start-broker N [N...]"
  local n nodes=() down=()
  for n in "$@"; do check_node_arg "$n"; [[ " ${nodes[*]-} " == *" $n "* ]] || nodes+=("$n"); done
  with_lock
  prepare
  format_storage "${nodes[@]}"
  takeover_ports
  # All at once: with two brokers down there is no KRaft quorum, and neither comes back
  # alone until the other has started too.
  for n in "${nodes[@]}"; do launch_broker "$n"; done
  for n in "${nodes[@]}"; do wait_node "$n"; done
  # A broker still down (not asked for here) cannot rejoin the ISRs; the rest must.
  for n in "${NODES[@]}"; do broker_pid "$n" >/dev/null || down+=("$n"); done
  local IFS=,
  ensure_topics "${down[*]-}"   # waits until the restarted brokers are back in every ISR
  unset IFS
  # The restarted brokers take their preferred leaderships back now, not at the next
  # imbalance check (up to leader.imbalance.check.interval.seconds later): leaders and
  # group coordinators move inside the test that restarted the brokers, not under the next
  # one (where a coordinator moving mid-hand-over fails the leaving member's last commit).
  if [[ ${#down[@]} -eq 0 ]]; then
    run_tool org.apache.kafka.tools.LeaderElectionCommand --bootstrap-server "$(bootstrap)" \
      --admin.config "$CONF/admin-client.properties" --election-type PREFERRED --all-topic-partitions >/dev/null 2>&1 \
      || log "WARNING: preferred leader election failed; leaders move back at the next imbalance check"
  fi
  for n in "${nodes[@]}"; do
    echo "broker $n running (pid $(broker_pid "$n")) on $KAFKA_HOST:$(client_port "$n")"
  done
}

cmd_describe() {
  ensure_java
  [[ -f $CONF/admin-client.properties ]] || die "not configured yet; run: $0 up"
  describe_topics
}

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    stop-broker) cmd_stop_broker "$@" ;;
    start-broker) cmd_start_broker "$@" ;;
    describe) cmd_describe ;;
    -h|--help|help|"") usage ;;
    *) log "unknown command '$cmd'"; usage ;;
  esac
}

main "$@"
