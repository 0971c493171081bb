package io.raftlog.client;

import java.util.List;

/**
 * State of one partition as described by the cluster.
 *
 * @param partition partition number
 * @param leader broker id of the leader, or -1 when the partition has no leader
 * @param replicas broker ids of all replicas
 * @param isr broker ids of the in-sync replicas
 * @param logStartOffset first offset still in the log
 * @param logEndOffset high watermark: offset of the next committed record
 * @param targetReplicas while the partition is being reassigned, the replicas it is moving to;
 *     empty otherwise
 */
public record PartitionInfo(int partition, int leader, List<Integer> replicas, List<Integer> isr,
                            long logStartOffset, long logEndOffset, List<Integer> targetReplicas) {
    public PartitionInfo {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
        targetReplicas = List.copyOf(targetReplicas);
    }

    /** A partition that is not being reassigned. */
    public PartitionInfo(int partition, int leader, List<Integer> replicas, List<Integer> isr,
                         long logStartOffset, long logEndOffset) {
        this(partition, leader, replicas, isr, logStartOffset, logEndOffset, List.of());
    }
}
