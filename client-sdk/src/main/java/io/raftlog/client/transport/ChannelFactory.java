package io.raftlog.client.transport;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/** Creates a channel to a broker address ({@code host:port}). Must be thread-safe. */
@FunctionalInterface
public interface ChannelFactory {
    /** Largest response accepted; fetch responses can carry several MiB of records. */
    int MAX_INBOUND_MESSAGE_BYTES = 64 << 20;

    ManagedChannel create(String address);

    /** Plaintext HTTP/2 channels (the default). */
    static ChannelFactory plaintext() {
        return address -> ManagedChannelBuilder.forTarget(address)
                .usePlaintext()
                .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                .build();
    }
}
