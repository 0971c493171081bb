/**
 * Partition replicas hosted by this broker: reconciliation of local Raft groups with metadata
 * ({@link io.raftlog.broker.partition.PartitionManager}), proposing batches with the requested acks
 * ({@link io.raftlog.broker.partition.PartitionWriter}), reading committed records
 * ({@link io.raftlog.broker.partition.PartitionReader}) and in-sync replica tracking.
 */
package io.raftlog.broker.partition;
