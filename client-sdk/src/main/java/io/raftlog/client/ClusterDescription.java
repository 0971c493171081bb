package io.raftlog.client;

import java.util.List;

/**
 * The cluster as seen by the broker that answered.
 *
 * @param clusterId cluster id
 * @param metadataLeaderId broker id leading the metadata Raft group, -1 when unknown
 * @param brokers all registered brokers
 */
public record ClusterDescription(String clusterId, int metadataLeaderId, List<BrokerInfo> brokers) {
    public ClusterDescription {
        brokers = List.copyOf(brokers);
    }
}
