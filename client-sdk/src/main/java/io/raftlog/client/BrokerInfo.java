package io.raftlog.client;

/**
 * A broker as reported by the cluster.
 *
 * @param id broker id
 * @param host host of the public gRPC endpoint
 * @param port port of the public gRPC endpoint
 * @param alive whether the metadata leader heard from the broker within its session timeout
 * @param decommissioned whether the broker was decommissioned: it takes no new replicas
 */
public record BrokerInfo(int id, String host, int port, boolean alive, boolean decommissioned) {
    /** A broker that is not decommissioned. */
    public BrokerInfo(int id, String host, int port, boolean alive) {
        this(id, host, port, alive, false);
    }

    /** {@code host:port} of the public endpoint. */
    public String address() {
        return host + ":" + port;
    }
}
