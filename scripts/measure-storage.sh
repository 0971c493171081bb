#!/bin/bash
# Storage figures for docs/operations.md: 1 GB of produce on 3 brokers, then disk use, broker restart time and
# catch-up time of a broker whose partition replicas were deleted. Leaves nothing running. Usage: scripts/measure-storage.sh [DIR]
set -u
D=${1:-/tmp/raftlog-measure-storage}
cd "$(dirname "$0")/.."
if [ -e "$D" ] && [ ! -f "$D/cluster.conf" ]; then
  echo "measure-storage: $D exists and is not a cluster directory of an earlier run; not touching it" >&2
  exit 2
fi
scripts/cluster.sh stop --dir "$D" >/dev/null 2>&1; rm -rf "$D"
trap 'scripts/cluster.sh stop --dir "$D" >/dev/null 2>&1' EXIT
scripts/cluster.sh start --dir "$D" >/dev/null || exit 1
scripts/raftlog topic create big --partitions 3 --replication-factor 3
scripts/raftlog perf produce --topic big --num-records 1000000 --record-size 1024 --throughput -1 --acks all | tail -2
echo "== disk after 1 GB (bytes): raft log vs segment files, per broker"
for b in 1 2 3; do
  echo "broker $b: raft $(du -sb $D/broker-$b/data/raft | cut -f1) partitions $(du -sb $D/broker-$b/data/partitions | cut -f1)"
done
scripts/raftlog topic describe big
echo "== restart of broker 2 (holding ~1 GB): time until cluster.sh reports it up"
t0=$(date +%s%N); scripts/cluster.sh restart 2 --dir $D >/dev/null; t1=$(date +%s%N)
echo "restart_ms=$(( (t1-t0)/1000000 ))"
echo "== catch-up of broker 3 after its partition replicas are deleted"
scripts/cluster.sh kill 3 --dir $D
for p in $D/broker-3/data/partitions/*/; do u=$(basename $p); rm -rf $D/broker-3/data/partitions/$u $D/broker-3/data/raft/$u; done
t0=$(date +%s%N); scripts/cluster.sh restart 3 --dir $D >/dev/null; t1=$(date +%s%N)
echo "broker_3_up_ms=$(( (t1-t0)/1000000 ))"
target=$(du -sb $D/broker-1/data/partitions | cut -f1)
while true; do
  have=$(du -sb $D/broker-3/data/partitions | cut -f1)
  [ "$have" -ge "$target" ] && break
  sleep 0.5
done
t2=$(date +%s%N)
echo "segment files complete (bytes $have of $target)"; echo "catchup_ms_from_restart=$(( (t2-t0)/1000000 ))"
grep -h "copying the state\|copied the snapshot\|repaired \[" $D/broker-3/broker.log | cut -c1-200
echo "broker 3 after catch-up: raft $(du -sb $D/broker-3/data/raft | cut -f1) partitions $(du -sb $D/broker-3/data/partitions | cut -f1)"
