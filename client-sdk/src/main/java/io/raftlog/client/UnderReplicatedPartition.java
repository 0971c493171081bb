package io.raftlog.client;

import java.util.List;

/**
 * A partition whose in-sync replicas are fewer than its replicas, or that has no leader.
 *
 * @param topic topic name
 * @param partition partition id
 * @param leaderId the leader's broker id, -1 when the partition has none (offline)
 * @param replicas the assigned replicas
 * @param isr the in-sync replicas as the leader reports them (empty without a leader)
 */
public record UnderReplicatedPartition(String topic, int partition, int leaderId, List<Integer> replicas,
        List<Integer> isr) {
    public UnderReplicatedPartition {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    /** True when no replica leads the partition: it takes no writes and serves no reads. */
    public boolean offline() {
        return leaderId < 0;
    }
}
