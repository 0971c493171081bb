#!/usr/bin/env bash
# Runs a local Raftlog cluster of broker processes on 127.0.0.1, for development and fault tests.
#
# The output lines, file formats and flags below are a contract that operators' scripts, the CLI
# (scripts/raftlog reads DIR/bootstrap and $HOME/.raftlog/last-cluster) and cluster-tests rely on:
# change them only additively.
#
# Files of a cluster directory DIR:
#   DIR/cluster.conf              "broker ID PORT RAFT_PORT" per broker (plus # comments)
#   DIR/bootstrap                 one line: 127.0.0.1:P1,127.0.0.1:P2,... (public gRPC ports)
#   DIR/broker-N/broker.properties
#   DIR/broker-N/broker.log       stdout+stderr of the broker, appended across restarts
#   DIR/broker-N/pid              pid of the broker JVM (stale once it exited)
#   DIR/broker-N/log-offset       size of broker.log when the current process was launched
#   DIR/broker-N/data/            Raft logs, snapshots and segments
set -euo pipefail

readonly PROG="cluster.sh"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly BROKER_JAR="$REPO_ROOT/broker-node/target/raftlog-broker-node-0.1.0-SNAPSHOT.jar"
readonly BROKER_LIB="$REPO_ROOT/broker-node/target/lib"
readonly BROKER_MAIN="io.raftlog.broker.BrokerMain"
readonly CLI="$REPO_ROOT/scripts/raftlog"
readonly CLI_JAR="$REPO_ROOT/cli/target/raftlog-cli-0.1.0-SNAPSHOT.jar"
readonly LAST_CLUSTER_FILE="$HOME/.raftlog/last-cluster"
readonly DEFAULT_DIR="$REPO_ROOT/.cluster"
readonly HOST="127.0.0.1"
# Deadlines, in seconds. Overridable for slow machines.
readonly START_TIMEOUT="${RAFTLOG_START_TIMEOUT:-90}"
readonly STOP_TIMEOUT="${RAFTLOG_STOP_TIMEOUT:-30}"
# Ports are picked below the Linux ephemeral range (32768+) so outgoing connections do not take them.
readonly PORT_MIN=20000
readonly PORT_SPAN=12000

usage() {
  cat >&2 <<EOF
Usage: $PROG COMMAND [OPTIONS]

Commands:
  start [--brokers N] [--dir DIR]   start a cluster of N brokers (default 3) in DIR (default
                                    $DEFAULT_DIR), or restart the brokers of the cluster
                                    already in DIR with the same ports and data; wait until healthy
  stop                              stop every broker (SIGTERM, SIGKILL after ${STOP_TIMEOUT}s)
  status [--json]                   one line per broker: broker ID pid PID alive|dead port PORT raft-port RPORT
  kill ID                           SIGKILL broker ID
  restart ID                        stop broker ID if it runs, start it again with the same config, wait until it is up
  pause ID                          SIGSTOP broker ID
  resume ID                         SIGCONT broker ID

Every command takes --dir DIR; without it, it acts on the cluster of the last start
(remembered in \$HOME/.raftlog/last-cluster).
Environment: RAFTLOG_JAVA_OPTS (broker JVM flags, default -Xmx1g -XX:+ExitOnOutOfMemoryError), JAVA_HOME,
RAFTLOG_START_TIMEOUT (default 90), RAFTLOG_STOP_TIMEOUT (default 30).
EOF
}

die() {
  echo "$PROG: $*" >&2
  exit 1
}

usage_error() {
  echo "$PROG: $*" >&2
  usage
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Cluster directory and its files

# Sets DIR from --dir, else from the last start, else the default directory if it holds a cluster.
resolve_dir() {
  local given="$1"
  if [[ -n "$given" ]]; then
    DIR="$given"
  elif [[ -s "$LAST_CLUSTER_FILE" ]]; then
    DIR="$(head -n 1 "$LAST_CLUSTER_FILE")"
  elif [[ -f "$DEFAULT_DIR/cluster.conf" ]]; then
    DIR="$DEFAULT_DIR"
  else
    die "no cluster: run '$PROG start' first or pass --dir DIR"
  fi
}

require_cluster() {
  [[ -f "$DIR/cluster.conf" ]] || die "no cluster in $DIR (missing cluster.conf): run '$PROG start --dir $DIR' first"
}

# Fills BROKER_IDS, PORTS[id] and RAFT_PORTS[id] from DIR/cluster.conf.
declare -a BROKER_IDS=()
declare -A PORTS=()
declare -A RAFT_PORTS=()
load_conf() {
  BROKER_IDS=()
  local kind id port rport
  while read -r kind id port rport; do
    [[ "$kind" == "broker" ]] || continue
    BROKER_IDS+=("$id")
    PORTS[$id]="$port"
    RAFT_PORTS[$id]="$rport"
  done <"$DIR/cluster.conf"
  ((${#BROKER_IDS[@]} > 0)) || die "$DIR/cluster.conf names no broker"
}

broker_dir() { echo "$DIR/broker-$1"; }

bootstrap_string() {
  local id out=""
  for id in "${BROKER_IDS[@]}"; do
    out+="${out:+,}$HOST:${PORTS[$id]}"
  done
  echo "$out"
}

require_broker_id() {
  local id="$1"
  [[ -n "${PORTS[$id]:-}" ]] || die "no broker $id in the cluster in $DIR (brokers: ${BROKER_IDS[*]})"
}

# ---------------------------------------------------------------------------------------------
# Processes

# Prints the pid of broker ID if its process runs (also when paused), else nothing. The pid file
# alone is not proof: after a crash the pid may have been reused, so the command line must be
# that broker's.
running_pid() {
  local id="$1" pidfile pid
  pidfile="$(broker_dir "$id")/pid"
  [[ -s "$pidfile" ]] || return 0
  pid="$(head -n 1 "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  # A zombie (exited, not yet reaped by its new parent) is not running. The state letter follows
  # the last ')' of /proc/PID/stat ("pid (comm) S ...").
  local stat state
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 0
  state="${stat##*) }"
  [[ "${state:0:1}" != Z ]] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(broker_dir "$id")/broker.properties"; then
    echo "$pid"
  fi
}

# Prints the pid from the pid file (even if stale), or "-".
recorded_pid() {
  local pidfile
  pidfile="$(broker_dir "$1")/pid"
  if [[ -s "$pidfile" ]]; then head -n 1 "$pidfile"; else echo "-"; fi
}

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    echo "$JAVA_HOME/bin/java"
  else
    command -v java || die "java not found (set JAVA_HOME or put java on the PATH)"
  fi
}

require_broker_build() {
  [[ -f "$BROKER_JAR" && -d "$BROKER_LIB" ]] ||
    die "broker not built: $BROKER_JAR or $BROKER_LIB is missing; run 'mvn -q -DskipTests install' in $REPO_ROOT first"
}

# Launches broker ID in the background, detached from this shell's session so that it outlives
# the script and a Ctrl-C in the operator's terminal.
launch_broker() {
  local id="$1" bdir java pid
  bdir="$(broker_dir "$id")"
  java="$(java_bin)"
  local -a java_opts
  read -r -a java_opts <<<"${RAFTLOG_JAVA_OPTS:--Xmx1g -XX:+ExitOnOutOfMemoryError}"
  # Where this run's log starts, so readiness checks ignore lines of earlier runs.
  if [[ -f "$bdir/broker.log" ]]; then stat -c %s "$bdir/broker.log" >"$bdir/log-offset"; else echo 0 >"$bdir/log-offset"; fi
  rm -f "$bdir/pid"
  # The inner bash writes its own pid and then execs java, so the pid file holds the JVM's pid
  # whether or not setsid had to fork.
  nohup setsid bash -c 'echo "$$" >"$0"; exec "$@"' "$bdir/pid" \
    "$java" "${java_opts[@]}" -cp "$BROKER_JAR:$BROKER_LIB/*" "$BROKER_MAIN" --config "$bdir/broker.properties" \
    </dev/null >>"$bdir/broker.log" 2>&1 &
  local deadline=$((SECONDS + 10))
  until [[ -s "$bdir/pid" ]]; do
    ((SECONDS < deadline)) || die "broker $id did not start (no pid file after 10 s); see $bdir/broker.log"
    sleep 0.05
  done
  pid="$(head -n 1 "$bdir/pid")"
  echo "Started broker $id (pid $pid, port ${PORTS[$id]}, raft port ${RAFT_PORTS[$id]})"
}

# Log lines of broker ID written by its current process.
current_log() {
  local bdir offset
  bdir="$(broker_dir "$1")"
  [[ -f "$bdir/broker.log" ]] || return 0
  offset="$(cat "$bdir/log-offset" 2>/dev/null || echo 0)"
  tail -c "+$((offset + 1))" "$bdir/broker.log"
}

# The cause of a failed start (e.g. a port taken meanwhile) is usually an ERROR line followed by
# exception lines, often long before the last lines (shutdown noise): show both.
report_dead_broker() {
  local id="$1" errors
  echo "$PROG: broker $id (pid $(recorded_pid "$id")) died; see $(broker_dir "$id")/broker.log" >&2
  errors="$(current_log "$id" | grep -E ' ERROR |^Caused by: |^[A-Za-z_.$]+(Exception|Error)(: |$)' | head -n 12 || true)"
  if [[ -n "$errors" ]]; then
    echo "errors:" >&2
    echo "$errors" >&2
  fi
  echo "last lines:" >&2
  current_log "$id" | tail -n 15 >&2
  exit 1
}

# Sends SIGTERM (SIGCONT too, so a paused broker can handle it), waits up to STOP_TIMEOUT, then SIGKILL.
stop_broker() {
  local id="$1" pid
  pid="$(running_pid "$id")"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while [[ -n "$(running_pid "$id")" ]] && ((SECONDS < deadline)); do sleep 0.1; done
  if [[ -n "$(running_pid "$id")" ]]; then
    echo "Broker $id (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$id" "$pid"
  fi
  echo "Stopped broker $id (pid $pid)"
}

wait_gone() {
  local id="$1" pid="$2" deadline=$((SECONDS + 10))
  while [[ -n "$(running_pid "$id")" ]]; do
    ((SECONDS < deadline)) || die "broker $id (pid $pid) is still running 10 s after SIGKILL"
    sleep 0.05
  done
}

# ---------------------------------------------------------------------------------------------
# Health

# The CLI is usable when its launcher exists and its jar is built (the launcher fails without it).
cli_available() { [[ -x "$CLI" && -f "$CLI_JAR" ]]; }

# Prints `cluster describe --json` of the CLI, asked through BOOTSTRAP, with whitespace removed
# (so the checks below do not depend on pretty-printing); nothing when the call fails.
# The probes get small, fast-starting JVMs.
describe_cluster() {
  local bootstrap="$1"
  RAFTLOG_CLI_JAVA_OPTS="-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC" \
    "$CLI" --bootstrap "$bootstrap" cluster describe --json 2>/dev/null | tr -d ' \t\r\n' || true
}

# True when the CLI, asked through BOOTSTRAP, reports EXPECTED brokers all alive and a metadata leader.
cli_reports_healthy() {
  local bootstrap="$1" expected="$2" json alive
  json="$(describe_cluster "$bootstrap")"
  [[ -n "$json" ]] || return 1
  [[ "$json" == *'"metadataLeader":'* && "$json" != *'"metadataLeader":-1'* ]] || return 1
  [[ "$json" != *'"alive":false'* ]] || return 1
  alive="$(grep -o '"alive":true' <<<"$json" | wc -l)"
  ((alive == expected))
}

# True when the CLI, asked through broker ID's own port, reports broker ID alive: the broker
# serves its public API and its registration is known.
cli_reports_alive() {
  local id="$1" json
  json="$(describe_cluster "$HOST:${PORTS[$id]}")"
  # The object of broker ID (from its id to its closing brace) must itself say alive.
  grep -o "{\"id\":$id,[^}]*}" <<<"$json" | grep -qF '"alive":true'
}

# Fallback while the CLI (branch `client`) has not landed: the broker logs this line once its
# registration is committed by the metadata group, which also proves the group had a leader.
# Remove this fallback once scripts/raftlog exists everywhere.
log_reports_registered() {
  current_log "$1" | grep -qF "registered with the metadata group"
}

# Waits until every broker process runs and the cluster is healthy; dies on a dead broker or at the deadline.
wait_healthy() {
  local deadline=$((SECONDS + START_TIMEOUT)) id healthy
  while true; do
    for id in "${BROKER_IDS[@]}"; do
      [[ -n "$(running_pid "$id")" ]] || report_dead_broker "$id"
    done
    if cli_available; then
      if cli_reports_healthy "$(bootstrap_string)" "${#BROKER_IDS[@]}"; then return 0; fi
    else
      healthy=1
      for id in "${BROKER_IDS[@]}"; do
        log_reports_registered "$id" || { healthy=0; break; }
      done
      ((healthy)) && return 0
    fi
    ((SECONDS < deadline)) || die "the cluster in $DIR is not healthy after ${START_TIMEOUT}s; see $DIR/broker-*/broker.log"
    sleep 0.5
  done
}

wait_broker_up() {
  local id="$1" deadline=$((SECONDS + START_TIMEOUT))
  while true; do
    [[ -n "$(running_pid "$id")" ]] || report_dead_broker "$id"
    if cli_available; then
      cli_reports_alive "$id" && return 0
    else
      log_reports_registered "$id" && return 0
    fi
    ((SECONDS < deadline)) || die "broker $id is not up after ${START_TIMEOUT}s; see $(broker_dir "$id")/broker.log"
    sleep 0.3
  done
}

# ---------------------------------------------------------------------------------------------
# Ports

port_in_use() {
  local port="$1"
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]]
  else
    # Something accepts connections there.
    (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null
  fi
}

# Ports already chosen by this run; the caller records them (pick_free_port runs in a subshell).
declare -A TAKEN_PORTS=()
pick_free_port() {
  local attempt port
  for attempt in $(seq 1 200); do
    port=$((PORT_MIN + (RANDOM * 32768 + RANDOM) % PORT_SPAN))
    [[ -z "${TAKEN_PORTS[$port]:-}" ]] || continue
    port_in_use "$port" && continue
    echo "$port"
    return 0
  done
  die "no free port found in $PORT_MIN..$((PORT_MIN + PORT_SPAN - 1)) after 200 attempts"
}

# ---------------------------------------------------------------------------------------------
# Commands

# Writes cluster.conf, bootstrap and every broker.properties of a new cluster of N brokers.
create_cluster() {
  local n="$1" id voters="" port rport
  mkdir -p "$DIR"
  BROKER_IDS=()
  for ((id = 1; id <= n; id++)); do
    port="$(pick_free_port)"
    TAKEN_PORTS[$port]=1
    rport="$(pick_free_port)"
    TAKEN_PORTS[$rport]=1
    BROKER_IDS+=("$id")
    PORTS[$id]="$port"
    RAFT_PORTS[$id]="$rport"
  done
  # The metadata group's voters are the first min(3, N) brokers; the others are observers.
  for id in "${BROKER_IDS[@]:0:3}"; do
    voters+="${voters:+,}$id@$HOST:${RAFT_PORTS[$id]}"
  done
  for id in "${BROKER_IDS[@]}"; do
    mkdir -p "$(broker_dir "$id")/data"
    cat >"$(broker_dir "$id")/broker.properties" <<EOF
# Written by scripts/cluster.sh start; keys: broker-node/.../config/BrokerConfig.java
broker.id=$id
host=$HOST
port=${PORTS[$id]}
raft.port=${RAFT_PORTS[$id]}
data.dir=$(broker_dir "$id")/data
metadata.voters=$voters
EOF
  done
  {
    echo "# Raftlog local cluster written by scripts/cluster.sh start."
    echo "# One line per broker: broker ID PORT RAFT_PORT (public gRPC port, Raft port) on $HOST."
    for id in "${BROKER_IDS[@]}"; do
      echo "broker $id ${PORTS[$id]} ${RAFT_PORTS[$id]}"
    done
  } >"$DIR/cluster.conf"
  bootstrap_string >"$DIR/bootstrap"
}

remember_dir() {
  mkdir -p "$(dirname "$LAST_CLUSTER_FILE")"
  echo "$DIR" >"$LAST_CLUSTER_FILE"
}

cmd_start() {
  local brokers="$1" id pid
  require_broker_build
  if [[ -f "$DIR/cluster.conf" ]]; then
    load_conf
    if [[ -n "$brokers" && "$brokers" != "${#BROKER_IDS[@]}" ]]; then
      die "$DIR already holds a cluster of ${#BROKER_IDS[@]} brokers, not $brokers; use another --dir or remove $DIR"
    fi
  else
    create_cluster "${brokers:-3}"
  fi
  # Remembered before waiting, so that after a failed start a bare `stop` or `status` still finds it.
  remember_dir
  for id in "${BROKER_IDS[@]}"; do
    pid="$(running_pid "$id")"
    if [[ -n "$pid" ]]; then
      echo "Broker $id already running (pid $pid)"
    else
      launch_broker "$id"
    fi
  done
  wait_healthy
  echo "Data and logs: $DIR"
  echo "Cluster is up: bootstrap $(bootstrap_string)"
}

cmd_stop() {
  local id
  for id in "${BROKER_IDS[@]}"; do
    stop_broker "$id"
  done
  echo "Cluster stopped: $DIR"
}

cmd_status() {
  local json="$1" id pid state sep=""
  if ((json)); then printf '{"dir":"%s","brokers":[' "$DIR"; fi
  for id in "${BROKER_IDS[@]}"; do
    pid="$(running_pid "$id")"
    if [[ -n "$pid" ]]; then state=alive; else state=dead; pid="$(recorded_pid "$id")"; fi
    if ((json)); then
      printf '%s{"id":%s,"pid":%s,"alive":%s,"port":%s,"raftPort":%s}' "$sep" "$id" \
        "$([[ "$pid" == "-" ]] && echo null || echo "$pid")" "$([[ $state == alive ]] && echo true || echo false)" \
        "${PORTS[$id]}" "${RAFT_PORTS[$id]}"
      sep=","
    else
      echo "broker $id pid $pid $state port ${PORTS[$id]} raft-port ${RAFT_PORTS[$id]}"
    fi
  done
  if ((json)); then echo "]}"; fi
}

# kill | pause | resume ID
cmd_signal() {
  local action="$1" id="$2" pid
  require_broker_id "$id"
  pid="$(running_pid "$id")"
  [[ -n "$pid" ]] || die "broker $id is not running"
  case "$action" in
    kill)
      kill -KILL "$pid"
      wait_gone "$id" "$pid"
      echo "Killed broker $id (pid $pid)"
      ;;
    pause)
      kill -STOP "$pid"
      echo "Paused broker $id (pid $pid)"
      ;;
    resume)
      kill -CONT "$pid"
      echo "Resumed broker $id (pid $pid)"
      ;;
  esac
}

cmd_restart() {
  local id="$1"
  require_broker_id "$id"
  require_broker_build
  stop_broker "$id"
  launch_broker "$id"
  wait_broker_up "$id"
  echo "Broker $id is up (pid $(running_pid "$id"))"
}

main() {
  (($# > 0)) || usage_error "missing command"
  local cmd="$1"
  shift
  case "$cmd" in
    start | stop | status | kill | restart | pause | resume) ;;
    -h | --help | help)
      usage
      exit 0
      ;;
    *) usage_error "unknown command '$cmd'" ;;
  esac

  local dir="" brokers="" json=0
  local -a positional=()
  while (($# > 0)); do
    case "$1" in
      --dir)
        (($# > 1)) || usage_error "--dir needs a value"
        dir="$2"
        shift 2
        ;;
      --dir=*)
        dir="${1#--dir=}"
        shift
        ;;
      --brokers | --brokers=*)
        [[ "$cmd" == start ]] || usage_error "--brokers applies only to start"
        if [[ "$1" == --brokers ]]; then
          (($# > 1)) || usage_error "--brokers needs a value"
          brokers="$2"
          shift 2
        else
          brokers="${1#--brokers=}"
          shift
        fi
        [[ "$brokers" =~ ^[1-9][0-9]*$ ]] || usage_error "--brokers must be a positive number, got '$brokers'"
        ;;
      --json)
        [[ "$cmd" == status ]] || usage_error "--json applies only to status"
        json=1
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      -*) usage_error "unknown option '$1' for $cmd" ;;
      *)
        positional+=("$1")
        shift
        ;;
    esac
  done

  case "$cmd" in
    kill | restart | pause | resume)
      ((${#positional[@]} == 1)) || usage_error "$cmd needs exactly one broker ID"
      [[ "${positional[0]}" =~ ^[0-9]+$ ]] || usage_error "broker ID must be a number, got '${positional[0]}'"
      ;;
    *) ((${#positional[@]} == 0)) || usage_error "unexpected argument '${positional[0]}' for $cmd" ;;
  esac

  if [[ "$cmd" == start ]]; then
    DIR="${dir:-$DEFAULT_DIR}"
    mkdir -p "$DIR" 2>/dev/null || die "cannot create $DIR"
  else
    resolve_dir "$dir"
    [[ -d "$DIR" ]] || die "no cluster: $DIR does not exist"
  fi
  DIR="$(cd "$DIR" && pwd)"
  if [[ "$cmd" != start ]]; then
    require_cluster
    load_conf
  fi

  case "$cmd" in
    start) cmd_start "$brokers" ;;
    stop) cmd_stop ;;
    status) cmd_status "$json" ;;
    kill | pause | resume) cmd_signal "$cmd" "${positional[0]}" ;;
    restart) cmd_restart "${positional[0]}" ;;
  esac
}

main "$@"
