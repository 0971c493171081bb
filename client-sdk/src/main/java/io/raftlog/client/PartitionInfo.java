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
 */
public record PartitionInfo(int partition, int leader, List<Integer> replicas, List<Integer> isr,
                            long logStartOffset, long logEndOffset) {
    public PartitionInfo {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }
}
