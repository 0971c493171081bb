#!/usr/bin/env bash
# Runs Apache Kafka (KRaft, 3 combined broker+controller processes) and a 3-broker Raftlog cluster
# on this machine, one after the other in the same run, with the same workload, and prints a
# side-by-side markdown table with ratios Raftlog / Kafka (issue 7). See `--help` and
# docs/benchmarks.md, "Kafka vs Raftlog".
#
# Why "the same run": the machine is shared and noisy, so only ratios measured minutes apart on the
# same machine mean anything; absolute numbers from different runs do not compare.
#
# What runs, per side (Kafka with its default durability, Kafka with log.flush.interval.messages=1,
# Raftlog), each on a fresh cluster whose data lives under one mktemp dir:
#   1. start the cluster and wait (poll with a deadline) until it creates a topic;
#   2. warm-up: produce and consume --warmup records (JIT, connections), not reported;
#   3. for each repeat, for each case: create a fresh topic (3 partitions, RF 3), run the producer
#      perf tool, for the acks=all throughput cases read everything back with the consumer perf
#      tool, delete the topic. The broker processes' CPU time (utime+stime from /proc/PID/stat) is
#      read before and after every perf tool run, and the client process's (GNU time, when
#      /usr/bin/time exists) for the throughput and consume runs;
#   4. stop the cluster.
# Repeats go round the cases (A B C A B C ...), not case by case, so slow phases of the machine
# spread over all cases instead of hitting one.
#
# Kafka's jars come from bench/pom.xml (a standalone Maven project, not a module of the product).
set -euo pipefail

readonly PROG="bench-vs-kafka.sh"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly KAFKA_LIB="$REPO_ROOT/bench/target/kafka-lib"
readonly KAFKA_LOG4J="$REPO_ROOT/bench/kafka-log4j2.properties"
readonly CLUSTER_SH="$REPO_ROOT/scripts/cluster.sh"
readonly RAFTLOG_CLI="$REPO_ROOT/scripts/raftlog"
readonly BROKER_JAR="$REPO_ROOT/broker-node/target/raftlog-broker-node-0.1.0-SNAPSHOT.jar"
readonly CLI_JAR="$REPO_ROOT/cli/target/raftlog-cli-0.1.0-SNAPSHOT.jar"
readonly LAST_CLUSTER_FILE="$HOME/.raftlog/last-cluster"
readonly HOST="127.0.0.1"
readonly PARTITIONS=3
readonly REPLICATION=3
# Kafka brokers get the JVM flags of Kafka's own kafka-server-start.sh / kafka-run-class.sh (1 GiB
# heap, G1 tuned for short pauses); Raftlog brokers get cluster.sh's defaults (also 1 GiB heap).
# Each side runs as its users would run it; the heap limit is the same.
readonly KAFKA_BROKER_JAVA_OPTS="${BENCH_KAFKA_JAVA_OPTS:--Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
# Both sides' perf clients get the same JVM flags.
readonly CLIENT_JAVA_OPTS="${BENCH_CLIENT_JAVA_OPTS:--Xmx1g}"
# Deadlines in seconds (overridable for a slow machine).
readonly START_TIMEOUT="${BENCH_START_TIMEOUT:-180}"
readonly STOP_TIMEOUT="${BENCH_STOP_TIMEOUT:-60}"
# A consumer perf tool gives up after this long without a new record.
readonly CONSUME_IDLE_TIMEOUT_MS=60000
# Free ports for Kafka are picked here, below Linux's ephemeral range (as cluster.sh does).
readonly PORT_MIN=20000
readonly PORT_SPAN=12000
readonly ALL_CASES="produce-all-100,produce-all-1k,produce-1-100,latency,consume"

usage() {
  cat <<EOF
Usage: $PROG [--quick] [OPTIONS]

Benchmarks Apache Kafka 4.4 (3 KRaft broker+controller processes) and Raftlog (3 brokers) on
127.0.0.1, one after the other, with the same workload; prints markdown tables with medians,
min-max spreads and ratios Raftlog / Kafka, to stdout and to --out FILE.

Cases (--cases, comma-separated; default: all):
  produce-all-100   produce --records 100-byte records, acks=all, unlimited rate
  produce-all-1k    the same with 1 KiB records
  produce-1-100     100-byte records, acks=1, unlimited rate
  latency           100-byte records, acks=all, at a fixed --latency-rate for --latency-seconds
  consume           after each acks=all throughput produce, read its records back

Options:
  --quick                  a harness check: --records 100000 --repeats 1 --warmup 20000
                           --latency-seconds 10 --latency-warmup-seconds 0
                           --latency-client-warmup-seconds 2 (each can still be
                           given explicitly)
  --records N              records per produce case (default 1000000)
  --repeats R              repeats of every case; medians and min-max are reported (default 3)
  --warmup N               records produced and consumed on each fresh cluster before measuring
                           (default 1000000; both sides still speed up over the repeats after it)
  --latency-rate R         records/s of the latency case (default 10000)
  --latency-seconds S      duration of the latency case (default 30)
  --latency-warmup-seconds W
                           before each latency measurement, produce at the same rate for W seconds
                           to the same topic, unmeasured (default 150): a switch from unlimited to a
                           fixed rate makes the JVMs recompile hot code (on 2 cores Raftlog's C2
                           compiler threads took half of its brokers' CPU for the first ~90 s, and
                           its latency settled after ~110 s); 0: none
  --latency-client-warmup-seconds C
                           the measuring client sends C seconds' worth of records first and leaves
                           them out of the reported latencies (--warmup-records of both perf tools;
                           default 10): a fresh client JVM's own start (metadata, connections, JIT)
                           otherwise weighs on the percentiles; the whole run's p99 is reported too
  --batch-size B           producer batch.size on both sides (default 262144: Raftlog's default;
                           Kafka's default is 16384)
  --linger-ms L            producer linger.ms on both sides (default 5, both clients' default)
  --cases LIST             subset of: $ALL_CASES
  --kafka-flush MODE       default | every-message | both (default both): Kafka as shipped (no
                           fsync before acknowledging) and/or with log.flush.interval.messages=1
  --sides LIST             kafka,raftlog (default both)
  --raftlog-config K=V     an extra broker setting for the Raftlog cluster (repeatable; passed to
                           cluster.sh start --broker-config and named in the report), for A/B runs
  --out FILE               results file (default bench/target/bench-vs-kafka-DATE.md); the raw
                           values go to FILE with .tsv instead of .md
  -h, --help               this text

Needs: the Raftlog jars (mvn -q -B -DskipTests package); Kafka's jars are fetched on first use
with mvn -f bench/pom.xml package. Environment: BENCH_KAFKA_JAVA_OPTS (Kafka broker JVM flags),
RAFTLOG_JAVA_OPTS (Raftlog broker JVM flags, see cluster.sh), BENCH_CLIENT_JAVA_OPTS (perf
clients, default -Xmx1g), BENCH_START_TIMEOUT (default 180 s), BENCH_STOP_TIMEOUT (default 60 s).
Every process it starts is stopped and its temp dir deleted on exit, also on Ctrl-C.
EOF
}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  echo "$PROG: $*" >&2
  exit 1
}
usage_error() {
  echo "$PROG: $*" >&2
  usage >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Options

QUICK=0
RECORDS=""
REPEATS=""
WARMUP=""
LATENCY_RATE=10000
LATENCY_SECONDS=""
LATENCY_WARMUP_SECONDS=""
LATENCY_CLIENT_WARMUP_SECONDS=""
BATCH_SIZE=262144
LINGER_MS=5
CASES="$ALL_CASES"
KAFKA_FLUSH="both"
SIDES="kafka,raftlog"
RAFTLOG_CONFIG=()
OUT=""

parse_args() {
  while (($#)); do
    case "$1" in
      --quick) QUICK=1 ;;
      --records) RECORDS="${2:?--records needs a value}"; shift ;;
      --repeats) REPEATS="${2:?--repeats needs a value}"; shift ;;
      --warmup) WARMUP="${2:?--warmup needs a value}"; shift ;;
      --latency-rate) LATENCY_RATE="${2:?--latency-rate needs a value}"; shift ;;
      --latency-seconds) LATENCY_SECONDS="${2:?--latency-seconds needs a value}"; shift ;;
      --latency-warmup-seconds) LATENCY_WARMUP_SECONDS="${2:?--latency-warmup-seconds needs a value}"; shift ;;
      --latency-client-warmup-seconds)
        LATENCY_CLIENT_WARMUP_SECONDS="${2:?--latency-client-warmup-seconds needs a value}"; shift ;;
      --batch-size) BATCH_SIZE="${2:?--batch-size needs a value}"; shift ;;
      --linger-ms) LINGER_MS="${2:?--linger-ms needs a value}"; shift ;;
      --cases) CASES="${2:?--cases needs a value}"; shift ;;
      --kafka-flush) KAFKA_FLUSH="${2:?--kafka-flush needs a value}"; shift ;;
      --sides) SIDES="${2:?--sides needs a value}"; shift ;;
      --raftlog-config)
        [[ "${2:-}" == ?*=* ]] || usage_error "--raftlog-config needs KEY=VALUE, got '${2:-}'"
        RAFTLOG_CONFIG+=("$2"); shift ;;
      --out) OUT="${2:?--out needs a value}"; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown option: $1" ;;
    esac
    shift
  done
  if ((QUICK)); then
    : "${RECORDS:=100000}" "${REPEATS:=1}" "${WARMUP:=20000}" "${LATENCY_SECONDS:=10}" "${LATENCY_WARMUP_SECONDS:=0}" \
      "${LATENCY_CLIENT_WARMUP_SECONDS:=2}"
  else
    : "${RECORDS:=1000000}" "${REPEATS:=3}" "${WARMUP:=1000000}" "${LATENCY_SECONDS:=30}" "${LATENCY_WARMUP_SECONDS:=150}" \
      "${LATENCY_CLIENT_WARMUP_SECONDS:=10}"
  fi
  local n
  for n in RECORDS REPEATS LATENCY_RATE LATENCY_SECONDS BATCH_SIZE; do
    [[ "${!n}" =~ ^[1-9][0-9]*$ ]] || usage_error "$n must be a positive integer, got '${!n}'"
  done
  [[ "$WARMUP" =~ ^[0-9]+$ ]] || usage_error "--warmup must be an integer >= 0, got '$WARMUP'"
  [[ "$LATENCY_WARMUP_SECONDS" =~ ^[0-9]+$ ]] \
    || usage_error "--latency-warmup-seconds must be an integer >= 0, got '$LATENCY_WARMUP_SECONDS'"
  [[ "$LATENCY_CLIENT_WARMUP_SECONDS" =~ ^[0-9]+$ ]] \
    || usage_error "--latency-client-warmup-seconds must be an integer >= 0, got '$LATENCY_CLIENT_WARMUP_SECONDS'"
  [[ "$LINGER_MS" =~ ^[0-9]+$ ]] || usage_error "--linger-ms must be an integer >= 0, got '$LINGER_MS'"
  case "$KAFKA_FLUSH" in default | every-message | both) ;; *) usage_error "--kafka-flush must be default, every-message or both" ;; esac
  local c s
  for c in ${CASES//,/ }; do
    [[ ",$ALL_CASES," == *",$c,"* ]] || usage_error "unknown case '$c' (known: $ALL_CASES)"
  done
  for s in ${SIDES//,/ }; do
    [[ "$s" == kafka || "$s" == raftlog ]] || usage_error "unknown side '$s' (known: kafka,raftlog)"
  done
  [[ -n "$OUT" ]] || OUT="$REPO_ROOT/bench/target/bench-vs-kafka-$(date +%Y%m%d-%H%M%S).md"
}

has_case() { [[ ",$CASES," == *",$1,"* ]]; }
has_side() { [[ ",$SIDES," == *",$1,"* ]]; }

# The side runs in order: the labels also key the raw results.
side_runs() {
  if has_side kafka; then
    [[ "$KAFKA_FLUSH" == every-message ]] || echo kafka-default
    [[ "$KAFKA_FLUSH" == default ]] || echo kafka-fsync
  fi
  if has_side raftlog; then echo raftlog; fi
}

# ---------------------------------------------------------------------------------------------
# Processes and cleanup. Everything started is recorded here so the EXIT trap can stop it.

WORK=""
CLIENT_PID=""
declare -a BROKER_PIDS=()
RAFTLOG_DIR=""
LAST_CLUSTER_SAVED=""
LAST_CLUSTER_EXISTED=0

pid_alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# SIGTERM the given pids, then poll until they are gone; SIGKILL whatever is left at the deadline.
stop_pids() {
  local pid deadline left
  for pid in "$@"; do
    if pid_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  deadline=$((SECONDS + STOP_TIMEOUT))
  while :; do
    left=0
    for pid in "$@"; do
      if pid_alive "$pid"; then left=1; fi
    done
    ((left)) || return 0
    ((SECONDS < deadline)) || break
    sleep 0.2 # poll interval
  done
  for pid in "$@"; do
    if pid_alive "$pid"; then
      log "pid $pid did not stop within ${STOP_TIMEOUT}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if pid_alive "$CLIENT_PID"; then kill -KILL "$CLIENT_PID" 2>/dev/null; fi
  if [[ -n "$RAFTLOG_DIR" ]]; then
    "$CLUSTER_SH" stop --dir "$RAFTLOG_DIR" >/dev/null 2>&1
  fi
  if ((${#BROKER_PIDS[@]})); then stop_pids "${BROKER_PIDS[@]}"; fi
  restore_last_cluster
  if [[ -n "$WORK" && -d "$WORK" ]]; then rm -rf "$WORK"; fi
  exit "$rc"
}

# cluster.sh start records its DIR in ~/.raftlog/last-cluster for the CLI; put back what was there
# so the benchmark does not redirect a developer's later `scripts/raftlog` calls to a deleted dir.
save_last_cluster() {
  if [[ -f "$LAST_CLUSTER_FILE" ]]; then
    LAST_CLUSTER_EXISTED=1
    LAST_CLUSTER_SAVED="$(cat "$LAST_CLUSTER_FILE")"
  fi
}
restore_last_cluster() {
  if ((LAST_CLUSTER_EXISTED)); then
    printf '%s\n' "$LAST_CLUSTER_SAVED" >"$LAST_CLUSTER_FILE"
  elif [[ -n "$RAFTLOG_DIR" && -f "$LAST_CLUSTER_FILE" ]] && [[ "$(head -n 1 "$LAST_CLUSTER_FILE")" == "$RAFTLOG_DIR" ]]; then
    rm -f "$LAST_CLUSTER_FILE"
  fi
}

# Polls "$@" every 0.2 s until it succeeds; fails after TIMEOUT seconds.
wait_until() {
  local timeout="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || {
      log "timed out after ${timeout}s waiting for $what"
      return 1
    }
    sleep 0.2 # poll interval
  done
}

# Runs a client command with stdout+stderr to LOG, in the background and waited for, so a
# Ctrl-C or SIGTERM reaches the trap at once instead of after the command. Exits on failure.
run_client() {
  local log="$1" rc=0
  shift
  if ! try_client "$log" "$@"; then
    rc=$LAST_RC
    log "failed (exit $rc): $*"
    tail -n 40 "$log" >&2
    exit 1
  fi
}
LAST_RC=0
# Like run_client, but returns the command's exit status (also in LAST_RC) instead of exiting.
try_client() {
  local log="$1"
  shift
  "$@" >"$log" 2>&1 &
  CLIENT_PID=$!
  LAST_RC=0
  wait "$CLIENT_PID" || LAST_RC=$?
  CLIENT_PID=""
  return "$LAST_RC"
}

# ---------------------------------------------------------------------------------------------
# CPU accounting: utime+stime of every broker process (all threads), in clock ticks.

CLK_TCK="$(getconf CLK_TCK)"
readonly CLK_TCK

broker_cpu_ticks() {
  local pid stat total=0
  local -a f
  for pid in "${BROKER_PIDS[@]}"; do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || die "broker pid $pid is gone (see the broker logs)"
    # Fields after "pid (comm) ": comm may hold spaces, so split after its last ')'. There, index
    # 0 is field 3 (state); utime and stime are fields 14 and 15.
    read -r -a f <<<"${stat##*) }"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

ticks_to_seconds() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }'; }

# The client shares the machine's cores with the brokers, so its CPU bounds throughput too.
# client_timer FILE: prints the words that make GNU time write the CPU seconds (user and system)
# of the command after it, its JVM start included, to FILE; nothing without /usr/bin/time.
client_timer() {
  [[ -x /usr/bin/time ]] && printf '%s\n' /usr/bin/time -f '%U %S' -o "$1"
  return 0
}
# client_cpu FILE: the seconds client_timer wrote to FILE, or nothing.
client_cpu() {
  [[ -s "$1" ]] || return 0
  tail -n 1 "$1" | awk 'NF == 2 { printf "%.2f", $1 + $2 }'
}

# ---------------------------------------------------------------------------------------------
# Results: one line per measurement, "side<TAB>case<TAB>metric<TAB>repeat<TAB>value".

RESULTS=""
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }

# Parses a summary line of ProducerPerformance / `raftlog perf produce` (the same format):
# "N[ steady state] records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
# P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th." Prints "R M A P50 P99 P999". WHICH:
# whole = the whole run's line, steady = the steady-state line when there is one (else the whole).
parse_produce() {
  local line pattern='^[0-9]+ records sent, .* 99\.9th'
  [[ "$2" == whole ]] || pattern='^[0-9]+( steady state)? records sent, .* 99\.9th'
  line="$(grep -E "$pattern" "$1" | tail -n 1)" || return 1
  sed -E 's/^([0-9]+) steady state records/\1 records/; s/^([0-9]+) records sent, ([0-9.]+) records\/sec \(([0-9.]+) MB\/sec\), ([0-9.]+) ms avg latency, ([0-9.]+) ms max latency, ([0-9]+) ms 50th, ([0-9]+) ms 95th, ([0-9]+) ms 99th, ([0-9]+) ms 99\.9th\.?$/\2 \3 \4 \6 \8 \9/' <<<"$line" |
    grep -E '^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+ [0-9]+ [0-9]+$'
}

# ---------------------------------------------------------------------------------------------
# Kafka side

KAFKA_DIR=""
BOOTSTRAP=""
SIDE=""

# The java command line of Kafka's tools (set in main).
declare -a KAFKA_TOOL=()

port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
  fi
}
declare -A TAKEN_PORTS=()
# Sets PICKED_PORT to a port nothing listens on and this run has not handed out yet.
pick_free_port() {
  local attempt port
  for ((attempt = 0; attempt < 200; attempt++)); do
    port=$((PORT_MIN + (RANDOM * 32768 + RANDOM) % PORT_SPAN))
    [[ -z "${TAKEN_PORTS[$port]:-}" ]] || continue
    port_in_use "$port" && continue
    TAKEN_PORTS[$port]=1
    PICKED_PORT="$port"
    return 0
  done
  die "no free port in $PORT_MIN..$((PORT_MIN + PORT_SPAN - 1)) after 200 attempts"
}

kafka_all_alive() {
  local pid
  for pid in "${BROKER_PIDS[@]}"; do pid_alive "$pid" || return 1; done
}

kafka_die_if_dead() {
  local id
  kafka_all_alive && return 0
  for id in 1 2 3; do
    echo "--- $KAFKA_DIR/node-$id/kafka.log (last lines)" >&2
    tail -n 30 "$KAFKA_DIR/node-$id/kafka.log" >&2 || true
  done
  die "a Kafka process died"
}

kafka_ports_listening() {
  kafka_die_if_dead
  local p
  for p in "$@"; do port_in_use "$p" || return 1; done
}

# One attempt at creating TOPIC (true once it exists): with RF 3 this succeeds only once all three
# brokers have registered with the controller quorum, so it doubles as the readiness check.
kafka_try_create_topic() {
  kafka_die_if_dead
  try_client "$KAFKA_DIR/topic-create-$1.log" "${KAFKA_TOOL[@]}" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$1" \
    --partitions "$PARTITIONS" --replication-factor "$REPLICATION"
}

# Starts 3 combined broker+controller nodes. $1 = default | fsync (log.flush.interval.messages=1).
start_kafka() {
  local flush="$1" id cluster_id voters="" bootstrap=""
  local -a bports cports
  KAFKA_DIR="$WORK/$SIDE"
  mkdir -p "$KAFKA_DIR"
  for id in 1 2 3; do
    pick_free_port
    bports[id]=$PICKED_PORT
    pick_free_port
    cports[id]=$PICKED_PORT
    voters+="${voters:+,}$id@$HOST:${cports[id]}"
    bootstrap+="${bootstrap:+,}$HOST:${bports[id]}"
  done
  BOOTSTRAP="$bootstrap"
  run_client "$KAFKA_DIR/random-uuid.log" "${KAFKA_TOOL[@]}" kafka.tools.StorageTool random-uuid
  cluster_id="$(grep -E '^[A-Za-z0-9_-]{22}$' "$KAFKA_DIR/random-uuid.log" | tail -n 1)" ||
    die "no cluster id from kafka-storage random-uuid: $(cat "$KAFKA_DIR/random-uuid.log")"
  for id in 1 2 3; do
    local node="$KAFKA_DIR/node-$id"
    mkdir -p "$node/data"
    # A static controller quorum (controller.quorum.voters): the simplest KRaft setup, formatted
    # with only a cluster id. Replication factors and min.insync.replicas=2 mirror Raftlog's
    # majority. The two non-stock settings only keep the run tidy: deleted topics free their disk
    # after 1 s, and a consumer group starts at once instead of after 3 s.
    cat >"$node/server.properties" <<EOF
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:${bports[id]},CONTROLLER://$HOST:${cports[id]}
advertised.listeners=PLAINTEXT://$HOST:${bports[id]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$node/data
num.partitions=$PARTITIONS
default.replication.factor=$REPLICATION
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
log.segment.delete.delay.ms=1000
EOF
    if [[ "$flush" == fsync ]]; then
      # Like-for-like with Raft: every append to a partition log (leader and followers) is
      # fsynced before it counts, so acks=all means "on disk on every in-sync replica".
      echo "log.flush.interval.messages=1" >>"$node/server.properties"
    fi
    run_client "$node/format.log" "${KAFKA_TOOL[@]}" kafka.tools.StorageTool format \
      --config "$node/server.properties" --cluster-id "$cluster_id"
  done
  local -a broker_java
  # shellcheck disable=SC2206 # the JVM flags are meant to split into words
  broker_java=(java $KAFKA_BROKER_JAVA_OPTS "-Dlog4j2.configurationFile=$KAFKA_LOG4J" -cp "$KAFKA_LIB/*")
  BROKER_PIDS=()
  for id in 1 2 3; do
    "${broker_java[@]}" kafka.Kafka "$KAFKA_DIR/node-$id/server.properties" >"$KAFKA_DIR/node-$id/kafka.log" 2>&1 &
    BROKER_PIDS+=("$!")
  done
  log "Kafka ($flush) starting: pids ${BROKER_PIDS[*]}, bootstrap $BOOTSTRAP"
  wait_until "$START_TIMEOUT" "Kafka to listen on its ports" kafka_ports_listening "${bports[@]}" "${cports[@]}" ||
    die "Kafka did not come up; logs in $KAFKA_DIR"
}

stop_kafka() {
  stop_pids "${BROKER_PIDS[@]}"
  BROKER_PIDS=()
  rm -rf "$KAFKA_DIR"
}

# ---------------------------------------------------------------------------------------------
# Raftlog side

start_raftlog() {
  RAFTLOG_DIR="$WORK/raftlog"
  local -a extra=()
  local kv
  for kv in "${RAFTLOG_CONFIG[@]}"; do
    extra+=(--broker-config "$kv")
  done
  run_client "$WORK/raftlog-start.log" "$CLUSTER_SH" start --dir "$RAFTLOG_DIR" "${extra[@]}"
  BOOTSTRAP="$(cat "$RAFTLOG_DIR/bootstrap")"
  BROKER_PIDS=()
  local pidfile
  for pidfile in "$RAFTLOG_DIR"/broker-*/pid; do BROKER_PIDS+=("$(head -n 1 "$pidfile")"); done
  ((${#BROKER_PIDS[@]} == 3)) || die "expected 3 Raftlog brokers, found pids: ${BROKER_PIDS[*]}"
  log "Raftlog started: pids ${BROKER_PIDS[*]}, bootstrap $BOOTSTRAP"
}

stop_raftlog() {
  run_client "$WORK/raftlog-stop.log" "$CLUSTER_SH" stop --dir "$RAFTLOG_DIR"
  stop_pids "${BROKER_PIDS[@]}" # normally already gone
  BROKER_PIDS=()
  rm -rf "$RAFTLOG_DIR"
  restore_last_cluster
  RAFTLOG_DIR=""
}

raftlog_cli() {
  run_client "$1" env RAFTLOG_CLI_JAVA_OPTS="$CLIENT_JAVA_OPTS" "$RAFTLOG_CLI" --bootstrap "$BOOTSTRAP" "${@:2}"
}

# ---------------------------------------------------------------------------------------------
# The same operations on either side (SIDE = kafka-default | kafka-fsync | raftlog).

is_kafka() { [[ "$SIDE" == kafka-* ]]; }

create_topic() {
  if is_kafka; then
    wait_until "$START_TIMEOUT" "Kafka to create topic $1" kafka_try_create_topic "$1" || {
      tail -n 20 "$KAFKA_DIR/topic-create-$1.log" >&2
      die "could not create topic $1 on Kafka"
    }
  else
    raftlog_cli "$WORK/logs/$SIDE-topic-create-$1.log" topic create "$1" \
      --partitions "$PARTITIONS" --replication-factor "$REPLICATION"
  fi
}

delete_topic() {
  if is_kafka; then
    run_client "$WORK/logs/$SIDE-topic-delete-$1.log" "${KAFKA_TOOL[@]}" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$BOOTSTRAP" --delete --topic "$1"
  else
    raftlog_cli "$WORK/logs/$SIDE-topic-delete-$1.log" topic delete "$1"
  fi
}

# produce TOPIC RECORDS SIZE ACKS RATE LOGNAME [WARMUP_RECORDS]: sets PRODUCED="rps mbps avg p50
# p99 p999" and PRODUCE_CPU (broker CPU seconds during the run). With WARMUP_RECORDS (needs a
# RATE), both tools leave the first WARMUP_RECORDS out of a "steady state" summary, which is what
# PRODUCED then holds; PRODUCED_WHOLE_P99 is the whole run's p99, and PRODUCE_CPU covers only the
# steady part: from when the warm-up is due to end (both tools pace from their start) for as
# long as the rest is due to take.
produce() {
  local topic="$1" n="$2" size="$3" acks="$4" rate="$5" log="$WORK/logs/$SIDE-$6-produce.log" warmup="${7:-0}"
  # Identical producer settings on both sides. Kafka's producer turns idempotence off by itself
  # for acks=1, Raftlog's keeps it on: switch it off on both so the requests are the same.
  local -a props=("batch.size=$BATCH_SIZE" "linger.ms=$LINGER_MS") warm=() cmd
  [[ "$acks" == all ]] || props+=("enable.idempotence=false")
  ((warmup == 0)) || warm=(--warmup-records "$warmup")
  if is_kafka; then
    cmd=("${KAFKA_TOOL[@]}" org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$BOOTSTRAP"
      --topic "$topic" --num-records "$n" --record-size "$size" --throughput "$rate" "${warm[@]}"
      --command-property "acks=$acks" "${props[@]}")
  else
    cmd=(env RAFTLOG_CLI_JAVA_OPTS="$CLIENT_JAVA_OPTS" "$RAFTLOG_CLI" --bootstrap "$BOOTSTRAP" perf produce
      --topic "$topic" --num-records "$n" --record-size "$size" --throughput "$rate" --acks "$acks" "${warm[@]}")
    local p
    for p in "${props[@]}"; do cmd+=(--producer-prop "$p"); done
  fi
  local before after sampler=""
  local -a timer=()
  rm -f "$log.cpu"
  ((warmup > 0)) || mapfile -t timer < <(client_timer "$log.cpu")
  cmd=("${timer[@]}" "${cmd[@]}")
  if ((warmup > 0)); then
    # A pacing window, not synchronization: the CPU samples bracket the steady part by the clock.
    (sleep "$(awk -v w="$warmup" -v r="$rate" 'BEGIN { print w / r }')"; broker_cpu_ticks >"$WORK/cpu-before"
      sleep "$(awk -v n="$n" -v w="$warmup" -v r="$rate" 'BEGIN { print (n - w) / r }')"
      broker_cpu_ticks >"$WORK/cpu-after") &
    sampler=$!
  else
    before="$(broker_cpu_ticks)"
  fi
  run_client "$log" "${cmd[@]}"
  if [[ -n "$sampler" ]]; then
    wait "$sampler" || die "could not sample the brokers' CPU during $log"
    before="$(cat "$WORK/cpu-before")" after="$(cat "$WORK/cpu-after")"
  else
    after="$(broker_cpu_ticks)"
  fi
  PRODUCE_CPU="$(ticks_to_seconds $((after - before)))"
  PRODUCE_CLIENT_CPU="$(client_cpu "$log.cpu")"
  PRODUCED="$(parse_produce "$log" steady)" || {
    tail -n 20 "$log" >&2
    die "could not parse the producer's summary in $log"
  }
  PRODUCED_WHOLE_P99="$(parse_produce "$log" whole | cut -d' ' -f5)"
}

# consume TOPIC RECORDS LOGNAME: sets CONSUMED="rps mbps", CONSUME_CPU and CONSUME_CLIENT_CPU.
consume() {
  local topic="$1" n="$2" log="$WORK/logs/$SIDE-$3-consume.log" line before after
  local -a f timer
  rm -f "$log.cpu"
  mapfile -t timer < <(client_timer "$log.cpu")
  before="$(broker_cpu_ticks)"
  if is_kafka; then
    run_client "$log" "${timer[@]}" "${KAFKA_TOOL[@]}" org.apache.kafka.tools.ConsumerPerformance \
      --bootstrap-server "$BOOTSTRAP" --topic "$topic" --num-records "$n" --timeout "$CONSUME_IDLE_TIMEOUT_MS"
  else
    run_client "$log" "${timer[@]}" env RAFTLOG_CLI_JAVA_OPTS="$CLIENT_JAVA_OPTS" "$RAFTLOG_CLI" \
      --bootstrap "$BOOTSTRAP" perf consume --topic "$topic" --messages "$n" --timeout-ms "$CONSUME_IDLE_TIMEOUT_MS"
  fi
  after="$(broker_cpu_ticks)"
  CONSUME_CPU="$(ticks_to_seconds $((after - before)))"
  CONSUME_CLIENT_CPU="$(client_cpu "$log.cpu")"
  # Summary: "start, end, MB, MB.sec, nMsg, nMsg.sec" and, from Kafka, also "rebalance.time.ms,
  # fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec". Raftlog's clock starts once the partitions are
  # assigned; Kafka's fetch.* columns likewise leave out the group join, so those are compared.
  line="$(grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} ' "$log" | tail -n 1)" || die "no consumer summary in $log"
  IFS=',' read -r -a f <<<"${line// /}"
  ((f[4] >= n)) || die "the consumer read ${f[4]} of $n records ($log)"
  if is_kafka; then CONSUMED="${f[9]} ${f[8]}"; else CONSUMED="${f[5]} ${f[3]}"; fi
}

# Records a produce run's figures as case CASE, repeat REP.
record_produce() {
  local case="$1" rep="$2" rps mbps avg p50 p99 p999
  read -r rps mbps avg p50 p99 p999 <<<"$PRODUCED"
  record "$SIDE" "$case" rps "$rep" "$rps"
  record "$SIDE" "$case" mbps "$rep" "$mbps"
  record "$SIDE" "$case" avg "$rep" "$avg"
  record "$SIDE" "$case" p50 "$rep" "$p50"
  record "$SIDE" "$case" p99 "$rep" "$p99"
  record "$SIDE" "$case" p999 "$rep" "$p999"
  record "$SIDE" "$case" cpu "$rep" "$PRODUCE_CPU"
  [[ -z "$PRODUCE_CLIENT_CPU" ]] || record "$SIDE" "$case" ccpu "$rep" "$PRODUCE_CLIENT_CPU"
  log "  $SIDE $case #$rep: $rps records/s, $mbps MB/s, avg $avg ms, p50 $p50 ms, p99 $p99 ms, p99.9 $p999 ms, broker CPU $PRODUCE_CPU s${PRODUCE_CLIENT_CPU:+, client CPU $PRODUCE_CLIENT_CPU s}"
}

record_consume() {
  local case="$1" rep="$2" rps mbps
  read -r rps mbps <<<"$CONSUMED"
  record "$SIDE" "$case" rps "$rep" "$rps"
  record "$SIDE" "$case" mbps "$rep" "$mbps"
  record "$SIDE" "$case" cpu "$rep" "$CONSUME_CPU"
  [[ -z "$CONSUME_CLIENT_CPU" ]] || record "$SIDE" "$case" ccpu "$rep" "$CONSUME_CLIENT_CPU"
  log "  $SIDE $case #$rep: $rps records/s, $mbps MB/s, broker CPU $CONSUME_CPU s${CONSUME_CLIENT_CPU:+, client CPU $CONSUME_CLIENT_CPU s}"
}

# One throughput case: fresh topic, produce, optionally read back, delete.
throughput_case() {
  local case="$1" size="$2" acks="$3" rep="$4" consume_case="$5"
  local topic="bench-$case-r$rep"
  create_topic "$topic"
  produce "$topic" "$RECORDS" "$size" "$acks" -1 "$case-r$rep"
  record_produce "$case" "$rep"
  if [[ -n "$consume_case" ]] && has_case consume; then
    consume "$topic" "$RECORDS" "$consume_case-r$rep"
    record_consume "$consume_case" "$rep"
  fi
  delete_topic "$topic"
}

latency_case() {
  local rep="$1" topic="bench-latency-r$1"
  create_topic "$topic"
  if ((LATENCY_WARMUP_SECONDS > 0)); then
    log "$SIDE: latency warm-up, $LATENCY_WARMUP_SECONDS s at $LATENCY_RATE records/s (not reported)"
    produce "$topic" $((LATENCY_RATE * LATENCY_WARMUP_SECONDS)) 100 all "$LATENCY_RATE" "latency-warmup-r$rep"
  fi
  local client_warmup=$((LATENCY_RATE * LATENCY_CLIENT_WARMUP_SECONDS))
  produce "$topic" $((client_warmup + LATENCY_RATE * LATENCY_SECONDS)) 100 all "$LATENCY_RATE" "latency-r$rep" \
    "$client_warmup"
  record_produce latency-all-100 "$rep"
  record "$SIDE" latency-all-100 p99whole "$rep" "$PRODUCED_WHOLE_P99"
  delete_topic "$topic"
}

run_side() {
  SIDE="$1"
  case "$SIDE" in
    kafka-default) start_kafka default ;;
    kafka-fsync) start_kafka fsync ;;
    raftlog) start_raftlog ;;
  esac
  if ((WARMUP > 0)); then
    log "$SIDE: warm-up, $WARMUP records of 100 B, acks=all, produced and consumed (not reported)"
    create_topic bench-warmup
    produce bench-warmup "$WARMUP" 100 all -1 warmup
    consume bench-warmup "$WARMUP" warmup
    delete_topic bench-warmup
  elif is_kafka; then
    create_topic bench-ready # still wait until Kafka can create an RF-3 topic
  fi
  local rep
  for ((rep = 1; rep <= REPEATS; rep++)); do
    log "$SIDE: repeat $rep of $REPEATS"
    if has_case produce-all-100; then throughput_case produce-all-100 100 all "$rep" consume-100; fi
    if has_case produce-all-1k; then throughput_case produce-all-1k 1024 all "$rep" consume-1k; fi
    if has_case produce-1-100; then throughput_case produce-1-100 100 1 "$rep" ""; fi
    if has_case latency; then latency_case "$rep"; fi
  done
  if is_kafka; then stop_kafka; else stop_raftlog; fi
  log "$SIDE: done"
}

# ---------------------------------------------------------------------------------------------
# Report

side_label() {
  case "$1" in
    kafka-default) echo "Kafka, default (no fsync)" ;;
    kafka-fsync) echo "Kafka, flush every message" ;;
    raftlog) echo "Raftlog" ;;
  esac
}

case_title() {
  case "$1" in
    produce-all-100) echo "Produce, acks=all, 100 B records, unlimited rate ($(fmt "$RECORDS" rps) records)" ;;
    produce-all-1k) echo "Produce, acks=all, 1 KiB records, unlimited rate ($(fmt "$RECORDS" rps) records)" ;;
    produce-1-100) echo "Produce, acks=1, 100 B records, unlimited rate ($(fmt "$RECORDS" rps) records)" ;;
    latency-all-100) echo "Latency, acks=all, 100 B records at a fixed $(fmt "$LATENCY_RATE" rps) records/s for $LATENCY_SECONDS s (after $LATENCY_WARMUP_SECONDS s at that rate from another client process and the measuring client's first $LATENCY_CLIENT_WARMUP_SECONDS s, unmeasured)" ;;
    consume-100) echo "Consume from the beginning: the $(fmt "$RECORDS" rps) 100 B records of the acks=all run" ;;
    consume-1k) echo "Consume from the beginning: the $(fmt "$RECORDS" rps) 1 KiB records of the acks=all run" ;;
  esac
}

metric_label() {
  case "$1" in
    rps) echo "records/s (higher is better)" ;;
    mbps) echo "MB/s (higher is better)" ;;
    avg) echo "avg latency, ms (lower is better)" ;;
    p50) echo "p50 latency, ms (lower is better)" ;;
    p99) echo "p99 latency, ms (lower is better)" ;;
    p999) echo "p99.9 latency, ms (lower is better)" ;;
    p99whole) echo "p99 latency of the measuring client's whole run, its start and warm-up included, ms" ;;
    cpu) echo "broker CPU, s (lower is better)" ;;
    ccpu) echo "client CPU, s: the whole perf tool process, JVM start included (lower is better)" ;;
  esac
}

# Prints "median min max count" of the values of SIDE CASE METRIC, or nothing.
stats() {
  awk -F'\t' -v s="$1" -v c="$2" -v m="$3" '$1 == s && $2 == c && $3 == m { print $5 }' "$RESULTS" |
    sort -g |
    awk '{ v[NR] = $1 } END {
      if (NR == 0) exit
      med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      print med, v[1], v[NR], NR
    }'
}

# Formats a number: records/s as an integer with thousands separators, others with 2 decimals
# (1 when >= 100, none when >= 1000 or when it is a whole number, like the tools' percentiles).
fmt() {
  awk -v x="$1" -v m="$2" 'BEGIN {
    if (m == "rps" || x >= 1000) {
      s = sprintf("%.0f", x); out = ""
      while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
      print s out
    } else if (x == int(x)) printf "%d\n", x
    else if (x >= 100) printf "%.1f\n", x
    else printf "%.2f\n", x
  }'
}

cell() {
  local st med min max n
  st="$(stats "$1" "$2" "$3")"
  [[ -n "$st" ]] || { echo "-"; return; }
  read -r med min max n <<<"$st"
  if ((n > 1)); then
    echo "$(fmt "$med" "$3") ($(fmt "$min" "$3")–$(fmt "$max" "$3"))"
  else
    fmt "$med" "$3"
  fi
}

# Ratio of the medians Raftlog / Kafka-side.
ratio() {
  local r k
  r="$(stats raftlog "$1" "$3" | cut -d' ' -f1)"
  k="$(stats "$2" "$1" "$3" | cut -d' ' -f1)"
  if [[ -z "$r" || -z "$k" ]]; then echo "-"; return; fi
  awk -v r="$r" -v k="$k" 'BEGIN { if (k + 0 == 0) print "n/a"; else printf "%.2f\n", r / k }'
}

machine_description() {
  local model mem_kb
  model="$(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  mem_kb="$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
  echo "- Machine: $(nproc) CPUs ($model), $(awk -v k="$mem_kb" 'BEGIN { printf "%.1f", k / 1048576 }') GiB RAM, $(uname -sr)"
  echo "- Java: $(java -version 2>&1 | head -n 1)"
  echo "- Load average (1/5/15 min) at start: $LOAD_START; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Raftlog commit: $GIT_COMMIT"
  echo "- Run: $START_TIME to $(date '+%Y-%m-%d %H:%M:%S %Z'), sides in this order: $(side_runs | paste -sd, | sed 's/,/, /g')"
}

write_report() {
  local -a sides metrics
  local s c m header sep row
  mapfile -t sides < <(side_runs)
  echo "# Kafka $KAFKA_VERSION vs Raftlog, $(date '+%Y-%m-%d')"
  echo
  machine_description
  echo
  echo "Workload: 3 brokers on 127.0.0.1, topics with $PARTITIONS partitions and replication factor $REPLICATION, created"
  echo "fresh for every run; $(fmt "$RECORDS" rps) records per throughput case after a warm-up of $(fmt "$WARMUP" rps) records on each fresh"
  echo "cluster; $REPEATS repeat(s), run round the cases. Values are medians, with (min–max) over the repeats."
  echo "Ratios are Raftlog's median / Kafka's median: above 1 is better for Raftlog in throughput, below 1"
  echo "is better for Raftlog in latency and CPU. Broker CPU is the utime+stime the three broker processes"
  echo "used during the perf tool's run (from /proc/PID/stat); in the latency case, during its steady part only."
  echo "Client CPU (throughput and consume cases) is the perf tool process's user+system time from GNU time,"
  echo "its JVM start included: the client runs on the same cores as the brokers."
  echo
  echo "Producers, both sides: batch.size=$BATCH_SIZE, linger.ms=$LINGER_MS, no compression, 32 MiB buffer,"
  echo "idempotent for acks=all, enable.idempotence=false for acks=1 (Kafka's producer does that by itself for"
  echo "acks=1). Kafka: \`org.apache.kafka.tools.ProducerPerformance\` / \`ConsumerPerformance\` (fetch.* columns,"
  echo "which leave out the group join). Raftlog: \`scripts/raftlog perf produce\` / \`perf consume\`. Client JVMs:"
  echo "\`$CLIENT_JAVA_OPTS\`. Broker JVMs: Kafka \`$KAFKA_BROKER_JAVA_OPTS\` (as Kafka's start"
  echo "scripts); Raftlog \`${RAFTLOG_JAVA_OPTS:--Xmx1g -XX:+ExitOnOutOfMemoryError}\` (cluster.sh)."
  if ((${#RAFTLOG_CONFIG[@]})); then
    echo "Raftlog broker settings other than the defaults: ${RAFTLOG_CONFIG[*]}."
  fi
  echo
  echo "Durability:"
  echo "- Kafka, default: log.flush.interval.messages unset (never forced): acks=all means in the page cache of"
  echo "  every in-sync replica, fsynced whenever the OS writes back; min.insync.replicas=2; KRaft's metadata"
  echo "  log is fsynced."
  echo "- Kafka, flush every message: log.flush.interval.messages=1: every append to a partition log, on the"
  echo "  leader and on each follower, is fsynced before it counts, so acks=all means on disk on every in-sync"
  echo "  replica."
  echo "- Raftlog: the Raft log is fsynced before an entry commits (Ratis, unsafe flush off); acks=all is"
  echo "  answered after commit (on disk on a majority) and apply; acks=1 is answered by the leader before"
  echo "  commit. Segment files are fsynced before each state machine snapshot. No relaxed mode is offered."
  for c in produce-all-100 produce-all-1k produce-1-100 latency-all-100 consume-100 consume-1k; do
    [[ -n "$(awk -F'\t' -v c="$c" '$2 == c' "$RESULTS")" ]] || continue
    echo
    echo "## $(case_title "$c")"
    echo
    header="| metric |"
    sep="|---|"
    for s in "${sides[@]}"; do
      header+=" $(side_label "$s") |"
      sep+="---|"
    done
    for s in "${sides[@]}"; do
      [[ "$s" == kafka-* ]] || continue
      has_side raftlog || continue
      header+=" Raftlog / $(side_label "$s") |"
      sep+="---|"
    done
    echo "$header"
    echo "$sep"
    case "$c" in
      consume-*) metrics=(rps mbps cpu ccpu) ;;
      latency-*) metrics=(rps mbps avg p50 p99 p999 p99whole cpu) ;;
      *) metrics=(rps mbps avg p50 p99 p999 cpu ccpu) ;;
    esac
    for m in "${metrics[@]}"; do
      row="| $(metric_label "$m") |"
      for s in "${sides[@]}"; do row+=" $(cell "$s" "$c" "$m") |"; done
      for s in "${sides[@]}"; do
        [[ "$s" == kafka-* ]] || continue
        has_side raftlog || continue
        row+=" $(ratio "$c" "$s" "$m") |"
      done
      echo "$row"
    done
    if [[ "$c" == latency-all-100 ]]; then latency_rate_note; fi
  done
}

# A latency at a fixed rate only means something if the cluster kept up with that rate.
latency_rate_note() {
  local s med
  for s in $(side_runs); do
    med="$(stats "$s" latency-all-100 rps | cut -d' ' -f1)"
    [[ -n "$med" ]] || continue
    if awk -v m="$med" -v r="$LATENCY_RATE" 'BEGIN { exit !(m < 0.95 * r) }'; then
      echo
      echo "**$(side_label "$s") did not keep up with $LATENCY_RATE records/s** (median $(fmt "$med" rps)): its latencies"
      echo "here include queueing in the producer and are not latencies at the target rate."
    fi
  done
}

# ---------------------------------------------------------------------------------------------

check_prerequisites() {
  command -v java >/dev/null || die "java not found"
  if has_side raftlog; then
    [[ -f "$BROKER_JAR" && -f "$CLI_JAR" ]] ||
      die "Raftlog jars missing; build them first: (cd $REPO_ROOT && mvn -q -B -DskipTests package)"
  fi
  if has_side kafka && ! compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" >/dev/null; then
    log "fetching Kafka's jars: mvn -f bench/pom.xml package"
    mvn -q -B -o -f "$REPO_ROOT/bench/pom.xml" package >&2 ||
      mvn -q -B -f "$REPO_ROOT/bench/pom.xml" package >&2 ||
      die "could not fetch Kafka's jars (mvn -f bench/pom.xml package)"
  fi
}

main() {
  parse_args "$@"
  check_prerequisites
  # shellcheck disable=SC2206 # the JVM flags are meant to split into words
  KAFKA_TOOL=(java $CLIENT_JAVA_OPTS "-Dlog4j2.configurationFile=$KAFKA_LOG4J" -cp "$KAFKA_LIB/*")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-vs-kafka.XXXXXX")"
  mkdir -p "$WORK/logs" "$(dirname "$OUT")"
  KAFKA_VERSION=""
  if has_side kafka; then KAFKA_VERSION="$(find "$KAFKA_LIB" -name 'kafka_2.13-*.jar' 2>/dev/null | sed -E 's/.*kafka_2\.13-(.*)\.jar/\1/' | head -n 1)"; fi
  : "${KAFKA_VERSION:=(not run)}"
  RESULTS="$WORK/results.tsv"
  : >"$RESULTS"
  save_last_cluster
  START_TIME="$(date '+%Y-%m-%d %H:%M:%S %Z')"
  LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
  GIT_COMMIT="$(git -C "$REPO_ROOT" log -1 --format='%h (%cs) %s' 2>/dev/null || echo unknown)"
  ((${#GIT_COMMIT} <= 100)) || GIT_COMMIT="${GIT_COMMIT:0:97}..."
  if [[ -n "$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    GIT_COMMIT+=" (with uncommitted changes)"
  fi
  log "work dir $WORK; results to $OUT"
  local side
  for side in $(side_runs); do run_side "$side"; done
  write_report >"$OUT"
  cp "$RESULTS" "${OUT%.md}.tsv"
  cat "$OUT"
  log "results written to $OUT (raw values: ${OUT%.md}.tsv)"
}

main "$@"
