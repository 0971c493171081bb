#!/usr/bin/env bash
# Runs a local Raftlog cluster of broker processes on 127.0.0.1, for development and fault tests;
# with `start --netns`, every broker runs in its own network namespace with its own IP address, so
# that the network between brokers, and between a broker and its clients, can be cut.
#
# The output lines, file formats and flags below are a contract that operators' scripts, the CLI
# (scripts/raftlog reads DIR/bootstrap and $HOME/.raftlog/last-cluster) and cluster-tests rely on:
# change them only additively.
#
# Files of a cluster directory DIR:
#   DIR/cluster.conf              "broker ID PORT RAFT_PORT" per broker (plus # comments); with
#                                 --netns also "bridge NAME IP/PREFIX" (the root namespace's end: the
#                                 clients' address) and "netns ID NAMESPACE IP VETH" per broker.
#                                 Readers skip line kinds they do not know. add-broker inserts the
#                                 lines of the broker it added once that broker is up.
#   DIR/bootstrap                 one line: 127.0.0.1:P1,127.0.0.1:P2,... (public gRPC ports); with
#                                 --netns each broker's namespace IP instead of 127.0.0.1
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
# Class-data sharing archive of the broker's start-up classes (see cds_launch_flags).
readonly CDS_DIR="$REPO_ROOT/broker-node/target/cds"
readonly CDS_ARCHIVE="$CDS_DIR/broker.jsa"
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
# Network namespace mode (start --netns). Every cluster's bridge, namespaces and veths share a
# 6-character prefix "rlXXXX" (from a hash of DIR): bridge rlXXXX-br, namespace rlXXXX-bID, veth
# rlXXXX-vID (link names must stay within 15 characters).
# A cut drops packets with a permanent neighbour (ARP) entry that maps the peer's IP to this MAC,
# which no interface has: the frames leave and are discarded by every receiver, so the sender sees
# silence exactly as in a real partition. (A blackhole route would instead fail connect() at once
# with EINVAL.) No iptables/nft needed; `heal` deletes the entries.
readonly DROP_MAC="02:72:6c:00:00:00"
# The broker's end of its veth, inside its namespace.
readonly NS_DEV="eth0"
readonly NETNS_MAX_BROKERS=200
# Serialises the choice of names and subnets, and their creation, between concurrent starts.
if [[ -d /run/lock ]]; then readonly NETNS_LOCK_FILE=/run/lock/raftlog-cluster-netns.lock; else readonly NETNS_LOCK_FILE=/tmp/raftlog-cluster-netns.lock; fi
# Exit code of `start --netns` when this machine cannot create network namespaces (not root, no
# iproute2, no permission): callers skip network faults then.
readonly EXIT_NETNS_UNAVAILABLE=3

usage() {
  cat >&2 <<EOF
Usage: $PROG COMMAND [OPTIONS]

Commands:
  start [--brokers N] [--dir DIR] [--netns] [--broker-config KEY=VALUE]...
                                    start a cluster of N brokers (default 3) in DIR (default
                                    $DEFAULT_DIR), or restart the brokers of the cluster
                                    already in DIR with the same ports and data; wait until healthy.
                                    --netns (root only): every broker in its own network namespace
                                    with its own IP on a private bridge, so the commands below can
                                    cut the network; exits $EXIT_NETNS_UNAVAILABLE if namespaces cannot be created.
                                    --broker-config KEY=VALUE (repeatable, new clusters only): an
                                    extra line in every broker.properties (keys: README)
  add-broker                        start one more broker in the running cluster and wait until it is
                                    up and registered: id = highest id + 1, new free ports, its own
                                    data dir, the metadata.voters and --broker-config lines of the
                                    other brokers (it never becomes a metadata voter); with --netns
                                    also its own namespace and IP. It hosts no partition until some
                                    are reassigned to it. Last line printed:
                                    Broker ID added (pid PID, port PORT, raft port RPORT)
  stop                              stop every broker (SIGTERM, SIGKILL after ${STOP_TIMEOUT}s)
  status [--json]                   one line per broker: broker ID pid PID alive|dead port PORT raft-port RPORT
  kill ID                           SIGKILL broker ID
  restart ID                        stop broker ID if it runs, start it again with the same config, wait until it is up
  pause ID                          SIGSTOP broker ID
  resume ID                         SIGCONT broker ID

Network faults, only for a cluster started with --netns (dropped packets vanish silently):
  cut A B                           drop all traffic between brokers A and B, both ways
  isolate ID                        cut broker ID from every other broker (clients still reach it)
  split IDS IDS                     cut every pair across two groups, e.g. split 1,2 3
  drop-client-traffic ID            drop broker ID's packets to clients (the root namespace):
                                    it receives requests but its answers never arrive
  heal                              undo every cut and drop of the cluster
  net-status                        one line per fault: cut A B | drop-client-traffic ID; or no cuts

Every command takes --dir DIR; without it, it acts on the cluster of the last start
(remembered in \$HOME/.raftlog/last-cluster).
Environment: RAFTLOG_JAVA_OPTS (broker JVM flags, default -Xmx1g -XX:+ExitOnOutOfMemoryError), JAVA_HOME,
RAFTLOG_START_TIMEOUT (default 90), RAFTLOG_STOP_TIMEOUT (default 30), RAFTLOG_CDS=0 (no class-data
sharing archive; see docs/operations.md).
With --netns, stop also removes the cluster's namespaces, veths and bridge.
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

# Extra broker.properties lines from start --broker-config.
declare -a BROKER_CONFIG=()
# Fills BROKER_IDS, PORTS[id] and RAFT_PORTS[id] from DIR/cluster.conf; for a --netns cluster also
# NETNS=1, BRIDGE_NAME, BRIDGE_CIDR, NS_NAMES[id], NS_IPS[id] and VETHS[id].
declare -a BROKER_IDS=()
declare -A PORTS=()
declare -A RAFT_PORTS=()
NETNS=0
BRIDGE_NAME=""
BRIDGE_CIDR=""
declare -A NS_NAMES=()
declare -A NS_IPS=()
declare -A VETHS=()
load_conf() {
  BROKER_IDS=()
  local kind a b c d
  while read -r kind a b c d; do
    case "$kind" in
      broker)
        BROKER_IDS+=("$a")
        PORTS[$a]="$b"
        RAFT_PORTS[$a]="$c"
        ;;
      bridge)
        BRIDGE_NAME="$a"
        BRIDGE_CIDR="$b"
        ;;
      netns)
        NS_NAMES[$a]="$b"
        NS_IPS[$a]="$c"
        VETHS[$a]="$d"
        ;;
    esac
  done <"$DIR/cluster.conf"
  ((${#BROKER_IDS[@]} > 0)) || die "$DIR/cluster.conf names no broker"
  if [[ -n "$BRIDGE_NAME" ]]; then
    NETNS=1
    local id
    for id in "${BROKER_IDS[@]}"; do
      [[ -n "${NS_NAMES[$id]:-}" && -n "${NS_IPS[$id]:-}" && -n "${VETHS[$id]:-}" ]] ||
        die "$DIR/cluster.conf has a bridge line but no complete 'netns $id NAMESPACE IP VETH' line"
    done
  fi
}

broker_dir() { echo "$DIR/broker-$1"; }

# The address broker ID binds and advertises: its namespace IP with --netns, else 127.0.0.1.
broker_host() {
  if ((NETNS)); then echo "${NS_IPS[$1]}"; else echo "$HOST"; fi
}

bootstrap_string() {
  local id out=""
  for id in "${BROKER_IDS[@]}"; do
    out+="${out:+,}$(broker_host "$id"):${PORTS[$id]}"
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

# Class-data sharing (CDS): the JVM maps an archive of the classes a broker loads while starting
# instead of reading, parsing and verifying them again, so a broker start takes well under half the
# CPU, which is what a restart on a busy machine waits for (measured in docs/operations.md, "Broker
# start time": under load 10-15 s without it, 5-7 s with it). The archive belongs to one build of the broker:
# the first broker started without a current archive records the classes it loads, and once it is
# up the archive is built from that list in the background (~10 s of CPU, once per build). Only a
# launcher optimization: without an archive, or with RAFTLOG_CDS=0, brokers start as before.
CDS_RECORDING=""   # class list being written by a broker this command launched

cds_enabled() { [[ "${RAFTLOG_CDS:-1}" != 0 ]]; }

# True when the archive exists and nothing on the broker's class path is newer.
cds_archive_current() {
  [[ -s "$CDS_ARCHIVE" && ! "$BROKER_JAR" -nt "$CDS_ARCHIVE" ]] || return 1
  [[ -z "$(find "$BROKER_LIB" -newer "$CDS_ARCHIVE" -print -quit 2>/dev/null)" ]]
}

# Sets CDS_FLAGS for the next broker launch: use the archive, or record the class list to build it.
cds_launch_flags() {
  CDS_FLAGS=()
  cds_enabled || return 0
  if cds_archive_current; then
    CDS_FLAGS=("-XX:SharedArchiveFile=$CDS_ARCHIVE")
  elif [[ -z "$CDS_RECORDING" ]] && mkdir -p "$CDS_DIR" 2>/dev/null; then
    CDS_RECORDING="$CDS_DIR/classlist.$$"
    CDS_FLAGS=("-XX:DumpLoadedClassList=$CDS_RECORDING")
  fi
}

# Once the recording broker is up: builds the archive from its class list in a detached process
# (one dump at a time; the archive is replaced atomically, so running brokers are not affected).
cds_build_in_background() {
  [[ -n "$CDS_RECORDING" && -s "$CDS_RECORDING" ]] || return 0
  local java
  java="$(java_bin)"
  nohup setsid bash -c '
    list="$1"; archive="$2"; java="$3"; classpath="$4"
    if command -v flock >/dev/null 2>&1; then
      exec 9>"$archive.lock"
      flock -n 9 || { rm -f "$list"; exit 0; }   # another dump runs; this list is not needed
    fi
    # The broker still appends to the list: keep whole lines only (the last may be partial).
    head -n -1 "$list" >"$list.snapshot"
    if "$java" -Xshare:dump -XX:SharedClassListFile="$list.snapshot" -XX:SharedArchiveFile="$archive.tmp" \
        -cp "$classpath" >"${archive%/*}/dump.log" 2>&1; then
      mv -f "$archive.tmp" "$archive"
    fi
    rm -f "$list" "$list.snapshot" "$archive.tmp"
  ' cds-dump "$CDS_RECORDING" "$CDS_ARCHIVE" "$java" "$BROKER_JAR:$BROKER_LIB/*" </dev/null >/dev/null 2>&1 8>&- 9>&- &
  CDS_RECORDING=""
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
  cds_launch_flags
  # Where this run's log starts, so readiness checks ignore lines of earlier runs.
  if [[ -f "$bdir/broker.log" ]]; then stat -c %s "$bdir/broker.log" >"$bdir/log-offset"; else echo 0 >"$bdir/log-offset"; fi
  rm -f "$bdir/pid"
  # The inner bash writes its own pid and then execs java, so the pid file holds the JVM's pid
  # whether or not setsid had to fork. `ip netns exec` execs too (it forks only in batch mode).
  local -a netns_exec=()
  if ((NETNS)); then netns_exec=(ip netns exec "${NS_NAMES[$id]}"); fi
  # Descriptor 8 (add-broker's lock) is closed for the broker, or the lock would live as long as it.
  nohup setsid bash -c 'echo "$$" >"$0"; exec "$@"' "$bdir/pid" ${netns_exec[@]+"${netns_exec[@]}"} \
    "$java" "${java_opts[@]}" ${CDS_FLAGS[@]+"${CDS_FLAGS[@]}"} -cp "$BROKER_JAR:$BROKER_LIB/*" "$BROKER_MAIN" --config "$bdir/broker.properties" \
    </dev/null >>"$bdir/broker.log" 2>&1 8>&- &
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
  while ! pid_gone "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if ! pid_gone "$pid"; then
    echo "Broker $id (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$id" "$pid"
  fi
  echo "Stopped broker $id (pid $pid)"
}

# True once process PID has exited (gone, or a zombie not yet reaped). Not running_pid: while a
# process exits, its /proc/PID/cmdline is already empty, so it no longer looks like our broker,
# but it still holds its ports and files.
pid_gone() {
  local stat state
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  state="${stat##*) }"
  [[ "${state:0:1}" == Z || "${state:0:1}" == X ]]
}

wait_gone() {
  local id="$1" pid="$2" deadline=$((SECONDS + 10))
  until pid_gone "$pid"; do
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
  json="$(describe_cluster "$(broker_host "$id"):${PORTS[$id]}")"
  # The object of broker ID (from its id to its closing brace) must itself say alive.
  grep -o "{\"id\":$id,[^}]*}" <<<"$json" | grep -qF '"alive":true'
}

# The broker logs this line once its registration is committed by the metadata group, which also
# proves the group had a leader. Checked first because it is free: each CLI probe is a JVM start,
# which on a small machine slows the very broker start it waits for. The CLI then confirms (and is
# the only check where the CLI is built but the log line is missing, e.g. a renamed message).
log_reports_registered() {
  current_log "$1" | grep -qF "registered with the metadata group"
}

# For a broker that does not come up: its network faults, which may be why (it cannot reach the
# metadata leader to register).
network_fault_hint() {
  ((NETNS)) || return 0
  local faults
  faults="$(fault_lines | grep -E "^(cut|cut-one-way) ($1 |[0-9]+ $1\$)|^drop-client-traffic $1\$" | paste -sd, - || true)"
  [[ -z "$faults" ]] || echo " (network faults on it: $faults; see net-status)"
}

# Waits until every broker process runs and the cluster is healthy; dies on a dead broker or at the deadline.
wait_healthy() {
  local deadline=$((SECONDS + START_TIMEOUT)) log_deadline=$((SECONDS + START_TIMEOUT / 3)) id healthy
  while true; do
    for id in "${BROKER_IDS[@]}"; do
      pid_gone "$(recorded_pid "$id")" && report_dead_broker "$id" # as in wait_broker_up
    done
    healthy=1
    for id in "${BROKER_IDS[@]}"; do
      log_reports_registered "$id" || { healthy=0; break; }
    done
    if ((healthy)) || ((SECONDS > log_deadline)); then
      if ! cli_available; then
        ((healthy)) && return 0
      elif cli_reports_healthy "$(bootstrap_string)" "${#BROKER_IDS[@]}"; then
        return 0
      fi
    fi
    ((SECONDS < deadline)) || die "the cluster in $DIR is not healthy after ${START_TIMEOUT}s; see $DIR/broker-*/broker.log"
    sleep 0.2
  done
}

# The broker's log says both that its public API listens and that its registration is committed:
# that is what the CLI probe would confirm, without starting a JVM.
log_reports_up() {
  local log
  log="$(current_log "$1")"
  grep -qF "registered with the metadata group" <<<"$log" && grep -qF "] started: gRPC on" <<<"$log"
}

wait_broker_up() {
  local id="$1" deadline=$((SECONDS + START_TIMEOUT)) log_deadline=$((SECONDS + START_TIMEOUT / 3))
  local registered_at=-1
  while true; do
    # Whether the process we launched has exited, not running_pid: while it execs (bash, then
    # `ip netns exec`, then java) its /proc/PID/cmdline can read empty for a moment, and a broker
    # that was starting fine was once reported dead (ChaosScenariosTest in CI, 2026-11-30).
    pid_gone "$(recorded_pid "$id")" && report_dead_broker "$id"
    log_reports_up "$id" && return 0
    if ((registered_at < 0)) && log_reports_registered "$id"; then registered_at=$SECONDS; fi
    # Registration usually comes a moment before the "started" line (the gRPC server is built in
    # parallel); a CLI probe started meanwhile costs a JVM start on a busy machine, so it is only
    # the fallback when that line does not follow within 10 s.
    if ((registered_at >= 0 && SECONDS - registered_at >= 10)) || ((SECONDS > log_deadline)); then
      if ! cli_available; then
        log_reports_registered "$id" && return 0
      elif cli_reports_alive "$id"; then
        return 0
      fi
    fi
    ((SECONDS < deadline)) || die "broker $id is not up after ${START_TIMEOUT}s; see $(broker_dir "$id")/broker.log$(network_fault_hint "$id")"
    sleep 0.1
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
# Network namespaces (start --netns) and network faults

netns_unavailable() {
  echo "$PROG: network namespaces unavailable: $*; 'start --netns' needs root and iproute2 (ip netns, veth, bridge)" >&2
  exit "$EXIT_NETNS_UNAVAILABLE"
}

# What can be checked before creating anything.
netns_preflight() {
  ((EUID == 0)) || netns_unavailable "not running as root (uid $EUID)"
  command -v ip >/dev/null 2>&1 || netns_unavailable "the 'ip' command (iproute2) is not installed"
  command -v flock >/dev/null 2>&1 || netns_unavailable "the 'flock' command (util-linux) is not installed"
  ip netns list >/dev/null 2>&1 || netns_unavailable "'ip netns list' fails: $(ip netns list 2>&1 | head -n 1)"
}

NETNS_LOCKED=0
netns_lock() {
  ((NETNS_LOCKED)) && return 0
  exec 9>"$NETNS_LOCK_FILE" || die "cannot open $NETNS_LOCK_FILE"
  flock -w 60 9 || die "another cluster.sh held $NETNS_LOCK_FILE for 60 s"
  NETNS_LOCKED=1
}

# Also closes the lock's descriptor, so that brokers launched later do not inherit it.
netns_unlock() {
  ((NETNS_LOCKED)) || return 0
  exec 9>&-
  NETNS_LOCKED=0
}

# "a.b.c.d" -> integer
ip_to_int() {
  local IFS=.
  local -a o
  read -r -a o <<<"$1"
  echo $(((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]))
}

# True when the CIDRs (or bare addresses) $1 and $2 overlap.
cidrs_overlap() {
  local a="${1%/*}" b="${2%/*}" pa=32 pb=32 p mask
  [[ "$1" == */* ]] && pa="${1#*/}"
  [[ "$2" == */* ]] && pb="${2#*/}"
  p=$((pa < pb ? pa : pb))
  mask=$((p == 0 ? 0 : (0xFFFFFFFF << (32 - p)) & 0xFFFFFFFF))
  (($(($(ip_to_int "$a") & mask)) == $(($(ip_to_int "$b") & mask))))
}

# Every IPv4 address and route destination of the root namespace (default routes excepted).
used_cidrs() {
  ip -4 -o addr show | awk '{ print $4 }'
  ip -4 route show table all | awk '{
    t = $1
    if (t ~ /^(unicast|local|broadcast|multicast|anycast|blackhole|unreachable|prohibit|throw|nat)$/) t = $2
    if (t != "default" && t ~ /^[0-9.\/]+$/) print t }'
}

# Prints the first address or route that overlaps CIDR $1; true when there is one.
subnet_in_use() {
  local cidr="$1" used
  while read -r used; do
    [[ -n "$used" ]] || continue
    if cidrs_overlap "$cidr" "$used"; then
      echo "$used"
      return 0
    fi
  done < <(used_cidrs)
  return 1
}

# Names of the namespaces, and of the links of the root namespace. (Listed before grep -q, which
# may exit early: with pipefail, the writer's SIGPIPE would turn a match into a failure.)
netns_names() {
  local names
  names="$(ip netns list 2>/dev/null)" || true
  awk '{ print $1 }' <<<"$names"
}

link_names() {
  local links
  links="$(ip -o link show)"
  awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' <<<"$links"
}

# True when a link or a namespace name starts with "$1-".
name_prefix_taken() {
  local names
  names="$(link_names; netns_names)"
  grep -q "^$1-" <<<"$names"
}

netns_exists() {
  local names
  names="$(netns_names)"
  grep -qxF -- "$1" <<<"$names"
}

link_exists() { [[ -e "/sys/class/net/$1" ]]; }

# Marks the bridge as this cluster's (ip link alias), so that a bridge of another cluster with the
# same name is never reused or removed.
bridge_alias() {
  local a="raftlog-cluster $DIR"
  echo "${a:0:250}"
}

bridge_is_ours() { [[ "$(cat "/sys/class/net/$BRIDGE_NAME/ifalias" 2>/dev/null)" == "$(bridge_alias)" ]]; }

# A fixed MAC for the bridge: otherwise it takes the lowest MAC of its ports, which changes when a
# veth is recreated and leaves stale ARP entries in the namespaces.
bridge_mac() {
  local p="${BRIDGE_NAME%-br}"
  echo "02:72:6c:${p:2:2}:${p:4:2}:01"
}

bridge_ip() { echo "${BRIDGE_CIDR%/*}"; }

prefix_len() { echo "${BRIDGE_CIDR#*/}"; }

# Chooses the names and the /24 of a new --netns cluster from a hash of DIR (salted on a
# collision), avoiding every name prefix and subnet in use on this machine. Call under the lock.
choose_network() {
  local salt hash prefix o2 o3 id
  ((${#BROKER_IDS[@]} <= NETNS_MAX_BROKERS)) || die "--netns supports at most $NETNS_MAX_BROKERS brokers"
  for ((salt = 0; salt < 64; salt++)); do
    hash="$(printf '%s#%s' "$DIR" "$salt" | sha1sum)"
    prefix="rl${hash:0:4}"
    name_prefix_taken "$prefix" && continue
    o2=$((200 + 16#${hash:4:2} % 50))
    o3=$((16#${hash:6:2}))
    subnet_in_use "10.$o2.$o3.0/24" >/dev/null && continue
    BRIDGE_NAME="$prefix-br"
    BRIDGE_CIDR="10.$o2.$o3.1/24"
    for id in "${BROKER_IDS[@]}"; do
      NS_NAMES[$id]="$prefix-b$id"
      NS_IPS[$id]="10.$o2.$o3.$((10 + id))"
      VETHS[$id]="$prefix-v$id"
    done
    return 0
  done
  netns_unlock
  die "found no free name prefix and /24 in 10.200-249.x.0 after 64 attempts"
}

# Runs an ip command of the network setup; on failure undoes the setup if no broker runs, and dies.
net() {
  local out
  if ! out="$("$@" 2>&1)"; then
    network_setup_failed "'$*' failed: $out"
  fi
}

network_setup_failed() {
  local msg="$1" id running=0
  netns_unlock
  for id in "${BROKER_IDS[@]}"; do
    [[ -z "$(running_pid "$id")" ]] || running=1
  done
  if ((!running)); then teardown_network >/dev/null 2>&1 || true; fi
  if [[ "$msg" == *"Operation not permitted"* || "$msg" == *"Permission denied"* ]]; then
    netns_unavailable "$msg"
  fi
  die "cannot set up the network namespaces of $DIR: $msg"
}

# Creates whatever is missing of the bridge, the namespaces and the veths of the cluster and keeps
# what exists (cuts included): idempotent, e.g. after stop or a reboot.
NETWORK_READY=0
setup_network() {
  ((NETWORK_READY)) && return 0
  netns_preflight
  netns_lock
  local id ns veth used len
  len="$(prefix_len)"
  if ! link_exists "$BRIDGE_NAME"; then
    if used="$(subnet_in_use "$BRIDGE_CIDR")"; then
      netns_unlock
      die "cannot create bridge $BRIDGE_NAME: its subnet $BRIDGE_CIDR overlaps $used, in use on this machine (ip route)"
    fi
    net ip link add "$BRIDGE_NAME" address "$(bridge_mac)" type bridge
    net ip link set dev "$BRIDGE_NAME" alias "$(bridge_alias)"
    echo "Created bridge $BRIDGE_NAME ($BRIDGE_CIDR)"
  elif ! bridge_is_ours; then
    netns_unlock
    die "bridge $BRIDGE_NAME exists but belongs to another cluster (alias '$(cat "/sys/class/net/$BRIDGE_NAME/ifalias" 2>/dev/null)')"
  fi
  net ip addr replace "$BRIDGE_CIDR" dev "$BRIDGE_NAME"
  net ip link set dev "$BRIDGE_NAME" up
  for id in "${BROKER_IDS[@]}"; do
    ns="${NS_NAMES[$id]}"
    veth="${VETHS[$id]}"
    if ! ip -n "$ns" link show lo >/dev/null 2>&1; then
      # A mount point left without its namespace would make `ip netns add` fail.
      ip netns delete "$ns" >/dev/null 2>&1 || true
      net ip netns add "$ns"
      echo "Created network namespace $ns for broker $id (${NS_IPS[$id]}/$len)"
    fi
    net ip -n "$ns" link set lo up
    if ! link_exists "$veth"; then
      # Its peer went with it; a stray device of that name in the namespace would block the new one.
      ip -n "$ns" link del "$NS_DEV" >/dev/null 2>&1 || true
      net ip link add "$veth" type veth peer name "$NS_DEV" netns "$ns"
      echo "Linked network namespace $ns to bridge $BRIDGE_NAME (veth $veth)"
    fi
    net ip link set dev "$veth" master "$BRIDGE_NAME"
    net ip link set dev "$veth" up
    net ip -n "$ns" addr replace "${NS_IPS[$id]}/$len" dev "$NS_DEV"
    net ip -n "$ns" link set "$NS_DEV" up
  done
  # The brokers are launched with it: fail now, clearly, rather than with a dead broker.
  net ip netns exec "${NS_NAMES[${BROKER_IDS[0]}]}" true
  netns_unlock
  NETWORK_READY=1
}

# Removes the namespace and veth of broker ID (it must be stopped). A namespace in which some
# process still runs is kept and reported; returns non-zero then.
teardown_broker_network() {
  local id="$1" ns veth pids kept=0
  ns="${NS_NAMES[$id]}"
  veth="${VETHS[$id]}"
  if netns_exists "$ns"; then
    pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    if [[ -n "${pids// /}" ]]; then
      echo "$PROG: network namespace $ns of broker $id not removed: processes still run in it (pids ${pids% })" >&2
      return 1
    fi
  fi
  # Deleting one end of a veth deletes both at once (a deleted namespace's devices go asynchronously).
  if link_exists "$veth"; then ip link del "$veth" || kept=1; fi
  if netns_exists "$ns"; then
    if ip netns delete "$ns"; then
      echo "Removed network namespace $ns and veth $veth (broker $id)"
    else
      kept=1
    fi
  fi
  return "$kept"
}

# Removes the namespaces, veths and bridge of the cluster (its brokers must be stopped). A namespace
# in which some process still runs is kept and reported; returns non-zero then.
teardown_network() {
  local id kept=0
  for id in "${BROKER_IDS[@]}"; do
    teardown_broker_network "$id" || kept=1
  done
  if link_exists "$BRIDGE_NAME" && bridge_is_ours; then
    if ((kept)); then
      echo "$PROG: bridge $BRIDGE_NAME not removed: a namespace of the cluster remains" >&2
    elif ip link del "$BRIDGE_NAME"; then
      echo "Removed bridge $BRIDGE_NAME"
    else
      kept=1
    fi
  fi
  return "$kept"
}

require_netns_cluster() {
  ((NETNS)) || die "the cluster in $DIR was not started with --netns: network faults need 'cluster.sh start --netns'"
}

# Every namespace of the cluster must exist (the cluster was started and not stopped since).
require_network() {
  local id
  for id in "${BROKER_IDS[@]}"; do
    ip -n "${NS_NAMES[$id]}" link show "$NS_DEV" >/dev/null 2>&1 ||
      die "network namespace ${NS_NAMES[$id]} of broker $id does not exist: run 'cluster.sh start --dir $DIR' first"
  done
}

# DROPS[id]: " IP IP ... ", the addresses to which broker ID's packets are dropped.
declare -A DROPS=()
load_drops() {
  local id ns ip rest
  for id in "${BROKER_IDS[@]}"; do
    DROPS[$id]=" "
    ns="${NS_NAMES[$id]}"
    netns_exists "$ns" || continue
    while read -r ip rest; do
      [[ " $rest " == *" lladdr $DROP_MAC "* ]] && DROPS[$id]+="$ip "
    done < <(ip -n "$ns" neigh show dev "$NS_DEV" nud permanent 2>/dev/null)
  done
}

drops_to() { [[ "${DROPS[$1]}" == *" $2 "* ]]; }

drop_packets() {
  local id="$1" ip="$2" out
  out="$(ip -n "${NS_NAMES[$id]}" neigh replace "$ip" lladdr "$DROP_MAC" dev "$NS_DEV" nud permanent 2>&1)" ||
    die "cannot drop broker $id's packets to $ip: $out"
  DROPS[$id]+="$ip "
}

# One line per fault, as net-status prints them.
fault_lines() {
  local i j a b
  load_drops
  for ((i = 0; i < ${#BROKER_IDS[@]}; i++)); do
    for ((j = i + 1; j < ${#BROKER_IDS[@]}; j++)); do
      a="${BROKER_IDS[$i]}"
      b="${BROKER_IDS[$j]}"
      if drops_to "$a" "${NS_IPS[$b]}" && drops_to "$b" "${NS_IPS[$a]}"; then
        echo "cut $a $b"
      elif drops_to "$a" "${NS_IPS[$b]}"; then
        echo "cut-one-way $a $b"
      elif drops_to "$b" "${NS_IPS[$a]}"; then
        echo "cut-one-way $b $a"
      fi
    done
  done
  for a in "${BROKER_IDS[@]}"; do
    if drops_to "$a" "$(bridge_ip)"; then echo "drop-client-traffic $a"; fi
  done
}

# Cuts brokers A and B apart (both ways); needs load_drops first.
cut_pair() {
  local a="$1" b="$2" t
  if ((a > b)); then
    t="$a"
    a="$b"
    b="$t"
  fi
  if drops_to "$a" "${NS_IPS[$b]}" && drops_to "$b" "${NS_IPS[$a]}"; then
    echo "Already cut $a $b"
    return 0
  fi
  drops_to "$a" "${NS_IPS[$b]}" || drop_packets "$a" "${NS_IPS[$b]}"
  drops_to "$b" "${NS_IPS[$a]}" || drop_packets "$b" "${NS_IPS[$a]}"
  echo "Cut $a $b: packets between ${NS_IPS[$a]} and ${NS_IPS[$b]} are dropped both ways"
}

cmd_cut() {
  local a="$1" b="$2"
  require_broker_id "$a"
  require_broker_id "$b"
  [[ "$a" != "$b" ]] || usage_error "cut needs two different brokers"
  require_network
  load_drops
  cut_pair "$a" "$b"
}

cmd_isolate() {
  local id="$1" other any=0
  require_broker_id "$id"
  require_network
  load_drops
  for other in "${BROKER_IDS[@]}"; do
    [[ "$other" != "$id" ]] || continue
    cut_pair "$id" "$other"
    any=1
  done
  ((any)) || echo "Broker $id is the only broker: nothing to cut"
}

# split 1,2 3,4
cmd_split() {
  local -a left right
  local a b
  IFS=, read -r -a left <<<"$1"
  IFS=, read -r -a right <<<"$2"
  for a in "${left[@]}" "${right[@]}"; do require_broker_id "$a"; done
  for a in "${left[@]}"; do
    for b in "${right[@]}"; do
      [[ "$a" != "$b" ]] || usage_error "broker $a is in both groups of split"
    done
  done
  require_network
  load_drops
  for a in "${left[@]}"; do
    for b in "${right[@]}"; do
      cut_pair "$a" "$b"
    done
  done
}

cmd_drop_client_traffic() {
  local id="$1"
  require_broker_id "$id"
  require_network
  load_drops
  if drops_to "$id" "$(bridge_ip)"; then
    echo "Already dropping client traffic of broker $id"
    return 0
  fi
  drop_packets "$id" "$(bridge_ip)"
  echo "Dropping client traffic of broker $id: its packets to $(bridge_ip) (clients in the root namespace) are dropped"
}

cmd_heal() {
  local -a faults
  local id ns ip rest fault out
  mapfile -t faults < <(fault_lines)
  # Every dropping entry goes, whatever made it, so that heal always restores the whole network.
  for id in "${BROKER_IDS[@]}"; do
    ns="${NS_NAMES[$id]}"
    netns_exists "$ns" || continue
    while read -r ip rest; do
      [[ " $rest " == *" lladdr $DROP_MAC "* ]] || continue
      out="$(ip -n "$ns" neigh del "$ip" dev "$NS_DEV" 2>&1)" || die "cannot heal broker $id's packets to $ip: $out"
    done < <(ip -n "$ns" neigh show dev "$NS_DEV" nud permanent 2>/dev/null)
  done
  if ((${#faults[@]} == 0)); then
    echo "No cuts to heal"
  else
    for fault in "${faults[@]}"; do echo "Healed $fault"; done
  fi
}

cmd_net_status() {
  local out
  out="$(fault_lines)"
  if [[ -n "$out" ]]; then echo "$out"; else echo "no cuts"; fi
}

# ---------------------------------------------------------------------------------------------
# Commands

# Picks the ids and ports of a new cluster of N brokers (BROKER_IDS, PORTS, RAFT_PORTS).
plan_cluster() {
  local n="$1" id port rport
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
}

# The line before the BROKER_CONFIG lines in broker.properties; add-broker copies what follows it.
readonly BROKER_CONFIG_MARKER="# From --broker-config:"

# Creates DIR/broker-ID/data and writes DIR/broker-ID/broker.properties (with the BROKER_CONFIG
# lines) for broker ID with metadata voters VOTERS; COMMAND names the command that wrote it.
write_broker_properties() {
  local id="$1" voters="$2" command="$3" props
  props="$(broker_dir "$id")/broker.properties"
  mkdir -p "$(broker_dir "$id")/data"
  cat >"$props" <<EOF
# Written by scripts/cluster.sh $command; keys: broker-node/.../config/BrokerConfig.java
broker.id=$id
host=$(broker_host "$id")
port=${PORTS[$id]}
raft.port=${RAFT_PORTS[$id]}
data.dir=$(broker_dir "$id")/data
metadata.voters=$voters
EOF
  if ((${#BROKER_CONFIG[@]} > 0)); then
    printf '%s\n' "$BROKER_CONFIG_MARKER" "${BROKER_CONFIG[@]}" >>"$props"
  fi
}

# Writes cluster.conf, bootstrap and every broker.properties of the cluster planned above.
write_cluster() {
  local id voters=""
  mkdir -p "$DIR"
  # The metadata group's voters are the first min(3, N) brokers; the others are observers.
  for id in "${BROKER_IDS[@]:0:3}"; do
    voters+="${voters:+,}$id@$(broker_host "$id"):${RAFT_PORTS[$id]}"
  done
  for id in "${BROKER_IDS[@]}"; do
    write_broker_properties "$id" "$voters" start
  done
  {
    echo "# Raftlog local cluster written by scripts/cluster.sh start."
    if ((NETNS)); then
      echo "# One line per broker: broker ID PORT RAFT_PORT (public gRPC port, Raft port) on its netns IP."
      echo "# Network namespaces (start --netns): bridge NAME IP/PREFIX is the root namespace's end (the"
      echo "# clients' address); netns ID NAMESPACE IP VETH: broker ID runs in NAMESPACE with address IP,"
      echo "# linked to the bridge by the veth pair VETH (root end) <-> $NS_DEV (namespace end)."
    else
      echo "# One line per broker: broker ID PORT RAFT_PORT (public gRPC port, Raft port) on $HOST."
    fi
    for id in "${BROKER_IDS[@]}"; do
      echo "broker $id ${PORTS[$id]} ${RAFT_PORTS[$id]}"
    done
    if ((NETNS)); then
      echo "bridge $BRIDGE_NAME $BRIDGE_CIDR"
      for id in "${BROKER_IDS[@]}"; do
        echo "netns $id ${NS_NAMES[$id]} ${NS_IPS[$id]} ${VETHS[$id]}"
      done
    fi
  } >"$DIR/cluster.conf"
  bootstrap_string >"$DIR/bootstrap"
}

remember_dir() {
  mkdir -p "$(dirname "$LAST_CLUSTER_FILE")"
  echo "$DIR" >"$LAST_CLUSTER_FILE"
}

cmd_start() {
  local brokers="$1" netns="$2" id pid
  require_broker_build
  if [[ -f "$DIR/cluster.conf" ]]; then
    load_conf
    if [[ -n "$brokers" && "$brokers" != "${#BROKER_IDS[@]}" ]]; then
      die "$DIR already holds a cluster of ${#BROKER_IDS[@]} brokers, not $brokers; use another --dir or remove $DIR"
    fi
    if ((${#BROKER_CONFIG[@]} > 0)); then
      die "--broker-config applies only when a cluster is created; $DIR already holds one (edit $DIR/broker-N/broker.properties and restart instead)"
    fi
    if ((netns && !NETNS)); then
      die "$DIR holds a cluster started without --netns (its brokers' addresses are 127.0.0.1); use another --dir for --netns"
    fi
  else
    plan_cluster "${brokers:-3}"
    if ((netns)); then
      netns_preflight
      NETNS=1
      netns_lock
      choose_network
      # Created before any file is written: where namespaces cannot be made, no netns cluster is left behind.
      setup_network
    fi
    write_cluster
  fi
  # An existing netns cluster: recreate what is missing (after stop or a reboot).
  if ((NETNS)); then setup_network; fi
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
  cds_build_in_background
  echo "Data and logs: $DIR"
  echo "Cluster is up: bootstrap $(bootstrap_string)"
}

cmd_stop() {
  local id
  for id in "${BROKER_IDS[@]}"; do
    stop_broker "$id"
  done
  if ((NETNS)); then
    command -v ip >/dev/null 2>&1 || die "cannot remove the network namespaces of $DIR: the 'ip' command is missing"
    teardown_network || die "some network namespaces of $DIR were not removed (see above)"
  fi
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
  # Recreates the broker's namespace if it is gone (e.g. after a reboot).
  if ((NETNS)); then setup_network; fi
  launch_broker "$id"
  wait_broker_up "$id"
  cds_build_in_background
  echo "Broker $id is up (pid $(running_pid "$id"))"
}

# The broker add-broker launched and has not yet recorded in cluster.conf: abandon_added_broker
# stops it (and removes its namespace) when add-broker fails or is interrupted.
ADDED_ID=""

# EXIT trap of add-broker.
abandon_added_broker() {
  local rc=$? id="$ADDED_ID"
  [[ -n "$id" ]] || exit "$rc"
  ADDED_ID=""
  set +e
  stop_broker "$id" >&2
  if ((NETNS)); then teardown_broker_network "$id" >&2; fi
  echo "$PROG: broker $id was not added: it is stopped and $DIR/cluster.conf is unchanged (its files stay in $(broker_dir "$id"))" >&2
  ((rc != 0)) || rc=1
  exit "$rc"
}

# Inserts the lines of broker ID into cluster.conf (after the last line of the same kind, through a
# temporary file so that readers never see half a file) and rewrites bootstrap.
record_added_broker() {
  local id="$1" netns_line="" tmp="$DIR/cluster.conf.tmp"
  if ((NETNS)); then netns_line="netns $id ${NS_NAMES[$id]} ${NS_IPS[$id]} ${VETHS[$id]}"; fi
  awk -v broker_line="broker $id ${PORTS[$id]} ${RAFT_PORTS[$id]}" -v netns_line="$netns_line" '
    { line[NR] = $0; if ($1 == "broker") last_broker = NR; if ($1 == "netns") last_netns = NR }
    END {
      if (netns_line != "" && !last_netns) last_netns = NR
      for (i = 1; i <= NR; i++) {
        print line[i]
        if (i == last_broker) print broker_line
        if (netns_line != "" && i == last_netns) print netns_line
      }
    }' "$DIR/cluster.conf" >"$tmp"
  mv -f "$tmp" "$DIR/cluster.conf"
  bootstrap_string >"$DIR/bootstrap"
}

cmd_add_broker() {
  local id max=0 pid live="" other voters first props port rport voter_id running_voters=0 voter_count=0
  require_broker_build
  for id in "${BROKER_IDS[@]}"; do
    if ((id > max)); then max="$id"; fi
    if [[ -n "$(running_pid "$id")" ]]; then live+="${live:+ }$id"; fi
  done
  [[ -n "$live" ]] || die "the cluster in $DIR is not running (no live broker): run '$PROG start --dir $DIR' first"

  # The new broker gets the metadata voters and the --broker-config lines of the first broker.
  first="${BROKER_IDS[0]}"
  props="$(broker_dir "$first")/broker.properties"
  [[ -f "$props" ]] || die "cannot copy the configuration of broker $first: $props is missing"
  voters="$(sed -n 's/^metadata\.voters=//p' "$props" | tail -n 1)"
  [[ -n "$voters" ]] || die "cannot copy the configuration of broker $first: $props has no metadata.voters line"
  mapfile -t BROKER_CONFIG < <(awk -v marker="$BROKER_CONFIG_MARKER" 'copy { print } $0 == marker { copy = 1 }' "$props")
  # Registration needs a metadata leader: fail now rather than after START_TIMEOUT.
  for voter_id in $(tr ',' '\n' <<<"$voters" | sed -n 's/@.*//p'); do
    voter_count=$((voter_count + 1))
    if [[ " $live " == *" $voter_id "* ]]; then running_voters=$((running_voters + 1)); fi
  done
  ((running_voters * 2 > voter_count)) ||
    die "only $running_voters of the $voter_count metadata voters of $DIR are running (live brokers: $live): a new broker could not register; run '$PROG start --dir $DIR' first"

  # One add-broker at a time per cluster: the next one must see this one's broker in cluster.conf.
  if command -v flock >/dev/null 2>&1; then
    exec 8<"$DIR" || die "cannot open $DIR to lock it"
    flock -n 8 || die "another '$PROG add-broker' is adding a broker to $DIR; wait until it is done"
  fi

  id=$((max + 1))
  pid="$(running_pid "$id")"
  [[ -z "$pid" ]] || die "broker $id (pid $pid) runs but is not in $DIR/cluster.conf (left by an interrupted add-broker?); stop it (kill $pid) and run add-broker again"
  # Also the ports of brokers that are down now: they take them back when restarted.
  for other in "${BROKER_IDS[@]}"; do
    TAKEN_PORTS[${PORTS[$other]}]=1
    TAKEN_PORTS[${RAFT_PORTS[$other]}]=1
  done
  port="$(pick_free_port)"
  TAKEN_PORTS[$port]=1
  rport="$(pick_free_port)"
  if ((NETNS)); then
    ((id <= NETNS_MAX_BROKERS)) || die "--netns supports broker ids up to $NETNS_MAX_BROKERS, and this one would be $id"
    netns_preflight
  fi

  # From here on a failure or an interrupt stops the new broker and leaves cluster.conf as it was.
  ADDED_ID="$id"
  trap abandon_added_broker EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  BROKER_IDS+=("$id")
  PORTS[$id]="$port"
  RAFT_PORTS[$id]="$rport"
  if ((NETNS)); then
    # Named and numbered like choose_network does for the brokers of start.
    local prefix="${BRIDGE_NAME%-br}" bridge_addr
    bridge_addr="$(bridge_ip)"
    NS_NAMES[$id]="$prefix-b$id"
    NS_IPS[$id]="${bridge_addr%.*}.$((10 + id))"
    VETHS[$id]="$prefix-v$id"
    # Creates the new broker's namespace and veth; what exists stays as it is (cuts included).
    setup_network
  fi
  write_broker_properties "$id" "$voters" add-broker
  launch_broker "$id" >/dev/null
  wait_broker_up "$id"
  cds_build_in_background
  pid="$(running_pid "$id")"
  [[ -n "$pid" ]] || report_dead_broker "$id"
  record_added_broker "$id"
  ADDED_ID=""
  trap - EXIT INT TERM
  echo "Broker $id added (pid $pid, port $port, raft port $rport)"
}

main() {
  (($# > 0)) || usage_error "missing command"
  local cmd="$1"
  shift
  case "$cmd" in
    start | stop | status | kill | restart | pause | resume | add-broker) ;;
    cut | isolate | split | drop-client-traffic | heal | net-status) ;;
    -h | --help | help)
      usage
      exit 0
      ;;
    *) usage_error "unknown command '$cmd'" ;;
  esac

  local dir="" brokers="" json=0 netns=0
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
      --netns)
        [[ "$cmd" == start ]] || usage_error "--netns applies only to start"
        netns=1
        shift
        ;;
      --broker-config)
        [[ "$cmd" == start ]] || usage_error "--broker-config applies only to start"
        (($# > 1)) || usage_error "--broker-config needs KEY=VALUE"
        [[ "$2" =~ ^[a-z][a-z0-9.]*=.*$ ]] || usage_error "--broker-config needs KEY=VALUE (a broker.properties key), got '$2'"
        BROKER_CONFIG+=("$2")
        shift 2
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
    kill | restart | pause | resume | isolate | drop-client-traffic)
      ((${#positional[@]} == 1)) || usage_error "$cmd needs exactly one broker ID"
      [[ "${positional[0]}" =~ ^[0-9]+$ ]] || usage_error "broker ID must be a number, got '${positional[0]}'"
      ;;
    cut)
      ((${#positional[@]} == 2)) || usage_error "cut needs exactly two broker IDs"
      [[ "${positional[0]}" =~ ^[0-9]+$ && "${positional[1]}" =~ ^[0-9]+$ ]] ||
        usage_error "broker IDs must be numbers, got '${positional[0]}' '${positional[1]}'"
      ;;
    split)
      ((${#positional[@]} == 2)) || usage_error "split needs two groups of broker IDs, e.g. split 1,2 3"
      [[ "${positional[0]}" =~ ^[0-9]+(,[0-9]+)*$ && "${positional[1]}" =~ ^[0-9]+(,[0-9]+)*$ ]] ||
        usage_error "split groups must be comma-separated broker IDs, got '${positional[0]}' '${positional[1]}'"
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
    start) cmd_start "$brokers" "$netns" ;;
    stop) cmd_stop ;;
    status) cmd_status "$json" ;;
    kill | pause | resume) cmd_signal "$cmd" "${positional[0]}" ;;
    restart) cmd_restart "${positional[0]}" ;;
    add-broker) cmd_add_broker ;;
    cut | isolate | split | drop-client-traffic | heal | net-status)
      require_netns_cluster
      case "$cmd" in
        cut) cmd_cut "${positional[0]}" "${positional[1]}" ;;
        isolate) cmd_isolate "${positional[0]}" ;;
        split) cmd_split "${positional[0]}" "${positional[1]}" ;;
        drop-client-traffic) cmd_drop_client_traffic "${positional[0]}" ;;
        heal) cmd_heal ;;
        net-status) cmd_net_status ;;
      esac
      ;;
  esac
}

main "$@"
