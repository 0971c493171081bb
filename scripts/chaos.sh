#!/usr/bin/env bash
# Fault-injection suite: starts a local cluster of real broker processes (scripts/cluster.sh),
# runs idempotent acks=all producers and following consumers, injects faults from a seeded
# schedule, heals, reads everything back and checks. See `scripts/chaos.sh --help` and
# docs/reliability.md.
#
# The last line of output is the contract scripts rely on:
#   seed=S lost=N duplicate=N inconsistent=N nonmonotonic=N mismatch=N acked=N max_unavailable_ms=N
# followed, only when --group-members N ran consumer-group members, by
#   unprocessed=N double_owner=N offset_regressions=N
# Exit code: 0 no anomaly, 1 anomaly found (or no recovery in time), 2 bad arguments, 3 the run failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/cluster-tests/target/raftlog-cluster-tests-0.1.0-SNAPSHOT.jar"

if [[ ! -f "$JAR" || ! -d "$ROOT/cluster-tests/target/lib" || ! -f "$ROOT/broker-node/target/raftlog-broker-node-0.1.0-SNAPSHOT.jar" ]]; then
  echo "chaos.sh: not built; build first: (cd \"$ROOT\" && mvn -q -B -DskipTests install)" >&2
  exit 3
fi

# RAFTLOG_CHAOS_JAVA_OPTS: JVM flags of the harness (brokers take RAFTLOG_JAVA_OPTS, see cluster.sh).
# shellcheck disable=SC2086
exec java ${RAFTLOG_CHAOS_JAVA_OPTS:--Xmx1g} -Draftlog.repo.root="$ROOT" \
  -cp "$JAR:$ROOT/cluster-tests/target/lib/*" io.raftlog.chaos.ChaosMain "$@"
