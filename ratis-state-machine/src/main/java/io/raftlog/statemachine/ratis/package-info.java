/**
 * Ratis adapters: the partition and metadata state machines, their snapshots and safe Raft log
 * purge, long-poll waiters, and the repair of segment files that lost committed batches below the
 * snapshot ({@link io.raftlog.statemachine.ratis.ReplicaRepair}, fed by a
 * {@link io.raftlog.statemachine.ratis.ReplicaRepairSource} the broker provides). They decode entries,
 * delegate to the pure packages and wrap results.
 */
package io.raftlog.statemachine.ratis;
