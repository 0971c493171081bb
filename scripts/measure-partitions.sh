#!/bin/bash
# Idle cost of many partitions (issue 7): for each replica count, a fresh 3-broker cluster gets topics
# with that many partition replicas in total (RF 3, at most 1,000 partitions per topic), waits until
# every partition has a leader, lets it settle, then measures over an idle window:
#   - the brokers' CPU (utime+stime of the three processes from /proc, as % of one core),
#   - each broker's heap in use after a full GC (jcmd GC.run, then GC.heap_info), RSS and thread count.
# Nothing produces or consumes meanwhile: this is what the Raft groups cost on their own (Ratis sends
# heartbeats per group). Leaves nothing running; each cluster lives under a temp dir that is deleted.
#
# Usage: scripts/measure-partitions.sh [--replicas N]... [--idle-seconds S] [--settle-seconds S]
#        [--create-timeout S] [--broker-config KEY=VALUE]...
# Defaults: --replicas 1000 --replicas 10000 --idle-seconds 60 --settle-seconds 30 --create-timeout 1800.
# --broker-config (repeatable) is passed to scripts/cluster.sh start, e.g. --broker-config
# raft.election.timeout.min.ms=3000. Broker JVM flags come from RAFTLOG_JAVA_OPTS as for cluster.sh.
set -u
cd "$(dirname "$0")/.."

REPLICAS=()
IDLE=60
SETTLE=30
CREATE_TIMEOUT=1800
BROKER_CONFIG=()
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --replicas) REPLICAS+=("${2:?--replicas needs a value}"); shift ;;
    --idle-seconds) IDLE="${2:?}"; shift ;;
    --settle-seconds) SETTLE="${2:?}"; shift ;;
    --create-timeout) CREATE_TIMEOUT="${2:?}"; shift ;;
    --broker-config) BROKER_CONFIG+=(--broker-config "${2:?--broker-config needs KEY=VALUE}"); shift ;;
    -h|--help) usage 0 ;;
    *) echo "measure-partitions: unknown argument '$1'" >&2; usage 2 ;;
  esac
  shift
done
((${#REPLICAS[@]})) || REPLICAS=(1000 10000)
for n in "${REPLICAS[@]}" "$IDLE" "$SETTLE" "$CREATE_TIMEOUT"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "measure-partitions: '$n' is not a positive integer" >&2; exit 2; }
done

ROOT=$(mktemp -d /tmp/raftlog-measure-partitions.XXXXXX)
D=""
cleanup() {
  trap '' INT TERM # a second Ctrl-C must not leave the brokers running
  [ -n "$D" ] && scripts/cluster.sh stop --dir "$D" >/dev/null 2>&1
  rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ticks() { # utime+stime of the brokers, in clock ticks (parsed as bench-vs-kafka.sh does)
  local s=0 p stat
  local -a f
  for p in $(cat "$D"/broker-*/pid); do
    stat="$(cat "/proc/$p/stat")" || exit 1
    # comm may hold spaces: split after its last ')'; there utime and stime are at 11 and 12.
    read -r -a f <<<"${stat##*) }"
    s=$((s + f[11] + f[12]))
  done
  echo "$s"
}

leaderless() { # partitions of topic $1 without a leader (or the whole count when describe fails)
  scripts/raftlog topic describe "$1" --json 2>/dev/null | python3 -c '
import json, sys
try:
    t = json.load(sys.stdin)
    print(sum(1 for p in t["partitions"] if p["leader"] < 0))
except Exception:
    print(-1)'
}

echo "| partition replicas | partitions | idle CPU, 3 brokers (% of one core) | heap used after GC per broker (MB) | RSS per broker (MB) | threads per broker | time to create and elect (s) |"
echo "|---|---|---|---|---|---|---|"
for n in "${REPLICAS[@]}"; do
  D="$ROOT/cluster-$n"
  partitions=$(((n + 2) / 3))
  if ! RAFTLOG_START_TIMEOUT=${RAFTLOG_START_TIMEOUT:-150} scripts/cluster.sh start --dir "$D" ${BROKER_CONFIG[@]+"${BROKER_CONFIG[@]}"} >"$ROOT/start-$n.log" 2>&1; then
    echo "measure-partitions: cluster for $n replicas did not start:" >&2; tail -20 "$ROOT/start-$n.log" >&2; exit 1
  fi
  t0=$(date +%s)
  topics=()
  left=$partitions i=0
  while ((left > 0)); do
    p=$((left > 1000 ? 1000 : left))
    scripts/raftlog topic create "idle-$i" --partitions "$p" --replication-factor 3 >/dev/null || exit 1
    topics+=("idle-$i"); left=$((left - p)); i=$((i + 1))
  done
  for t in "${topics[@]}"; do
    while true; do
      m=$(leaderless "$t")
      [ "$m" = 0 ] && break
      if (($(date +%s) - t0 > CREATE_TIMEOUT)); then
        echo "measure-partitions: $t still has $m partitions without a leader after ${CREATE_TIMEOUT}s" >&2; exit 1
      fi
      sleep 5 # each check is a CLI JVM: not too often on a small machine
    done
  done
  created=$(($(date +%s) - t0))
  sleep "$SETTLE" # settle: elections and leader balancing are over before the idle window
  a=$(ticks); sleep "$IDLE"; b=$(ticks)
  cpu=$(python3 -c "print(f'{($b - $a) * 100 / ($(getconf CLK_TCK) * $IDLE):.1f}')")
  heap=() rss=() thr=()
  for p in $(cat "$D"/broker-*/pid); do
    jcmd "$p" GC.run >/dev/null
    heap+=("$(jcmd "$p" GC.heap_info | grep -oE 'used [0-9]+K' | head -1 | grep -oE '[0-9]+' | awk '{printf "%d", $1/1024}')")
    rss+=("$(awk '/VmRSS/ {printf "%d", $2/1024}' "/proc/$p/status")")
    thr+=("$(awk '/Threads/ {print $2}' "/proc/$p/status")")
  done
  echo "| $n | $partitions | $cpu | ${heap[*]} | ${rss[*]} | ${thr[*]} | $created |"
  scripts/cluster.sh stop --dir "$D" >/dev/null 2>&1
  rm -rf "$D"
done
