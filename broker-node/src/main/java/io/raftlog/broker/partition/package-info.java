/**
 * Partition replicas hosted by this broker: reconciliation of local Raft groups with metadata
 * ({@link io.raftlog.broker.partition.PartitionManager}), proposing batches with the requested acks
 * ({@link io.raftlog.broker.partition.PartitionWriter}), reading committed records
 * ({@link io.raftlog.broker.partition.PartitionReader}), in-sync replica tracking, and keeping
 * replicas that repair their segment files out of leadership through Raft priorities
 * ({@link io.raftlog.broker.partition.LeadershipGuard}).
 */
package io.raftlog.broker.partition;
