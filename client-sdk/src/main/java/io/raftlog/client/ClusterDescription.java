package io.raftlog.client;

import java.util.List;
import java.util.Optional;

/**
 * The cluster as seen by the broker that answered.
 *
 * @param clusterId cluster id
 * @param metadataLeaderId broker id leading the metadata Raft group, -1 when unknown
 * @param brokers all registered brokers
 * @param loads per registered broker, the partitions it leads and hosts (a broker that did not answer
 *     in time counts as leading nothing)
 * @param underReplicatedPartitions partitions with fewer in-sync replicas than replicas, or without a
 *     leader, ordered by topic and partition
 */
public record ClusterDescription(String clusterId, int metadataLeaderId, List<BrokerInfo> brokers,
        List<BrokerLoad> loads, List<UnderReplicatedPartition> underReplicatedPartitions) {
    public ClusterDescription {
        brokers = List.copyOf(brokers);
        loads = List.copyOf(loads);
        underReplicatedPartitions = List.copyOf(underReplicatedPartitions);
    }

    /** Without loads or under-replicated partitions (as reported by brokers before they were added). */
    public ClusterDescription(String clusterId, int metadataLeaderId, List<BrokerInfo> brokers) {
        this(clusterId, metadataLeaderId, brokers, List.of(), List.of());
    }

    /** The load of one broker, empty when it was not reported. */
    public Optional<BrokerLoad> load(int brokerId) {
        return loads.stream().filter(l -> l.brokerId() == brokerId).findFirst();
    }
}
