package io.raftlog.client.transport;

import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lazily created, cached channels keyed by broker address. Thread-safe. gRPC channels reconnect
 * by themselves, so a channel is kept for the life of the pool.
 */
public final class ChannelPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChannelPool.class);

    private final ChannelFactory factory;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ChannelPool(ChannelFactory factory) {
        this.factory = factory;
    }

    /** The channel to {@code address}, created on first use. */
    public ManagedChannel channel(String address) {
        if (closed) {
            throw new IllegalStateException("channel pool is closed");
        }
        return channels.computeIfAbsent(address, factory::create);
    }

    /** Shuts every channel down, waiting briefly for in-flight calls to finish. */
    @Override
    public void close() {
        closed = true;
        List<ManagedChannel> all = new ArrayList<>(channels.values());
        channels.clear();
        all.forEach(ManagedChannel::shutdown);
        for (ManagedChannel channel : all) {
            try {
                if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
                    channel.shutdownNow();
                }
            } catch (InterruptedException e) {
                channel.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        log.debug("closed {} channel(s)", all.size());
    }
}
