package io.raftlog.client;

/**
 * How much of the cluster's partitions a broker carries.
 *
 * @param brokerId broker id
 * @param leaders partitions the broker leads now
 * @param replicas partition replicas assigned to the broker
 */
public record BrokerLoad(int brokerId, int leaders, int replicas) {}
