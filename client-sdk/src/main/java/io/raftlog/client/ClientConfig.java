package io.raftlog.client;

import io.raftlog.client.transport.ChannelFactory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Settings shared by {@link AdminConfig}, {@link ProducerConfig} and {@link ConsumerConfig}.
 * Instances are immutable and thread-safe; build them with the subclasses' builders.
 */
public abstract class ClientConfig {
    /** Default of {@link #metadataMaxAgeMs()}: 5 minutes, Kafka's. */
    public static final long DEFAULT_METADATA_MAX_AGE_MS = 300_000;

    private final List<String> bootstrapServers;
    private final int requestTimeoutMs;
    private final long retryBackoffMs;
    private final long metadataMaxAgeMs;
    private final ChannelFactory channelFactory;
    private final Clock clock;

    protected ClientConfig(Builder<?> b) {
        if (b.bootstrapServers.isEmpty()) {
            throw new IllegalArgumentException("at least one bootstrap server (host:port) is required");
        }
        for (String address : b.bootstrapServers) {
            validateAddress(address);
        }
        if (b.requestTimeoutMs <= 0) {
            throw new IllegalArgumentException("requestTimeoutMs must be > 0");
        }
        if (b.retryBackoffMs < 0) {
            throw new IllegalArgumentException("retryBackoffMs must be >= 0");
        }
        if (b.metadataMaxAgeMs < 0) {
            throw new IllegalArgumentException("metadata.max.age.ms must be >= 0, got " + b.metadataMaxAgeMs);
        }
        this.bootstrapServers = List.copyOf(b.bootstrapServers);
        this.requestTimeoutMs = b.requestTimeoutMs;
        this.retryBackoffMs = b.retryBackoffMs;
        this.metadataMaxAgeMs = b.metadataMaxAgeMs;
        this.channelFactory = Objects.requireNonNull(b.channelFactory, "channelFactory");
        this.clock = Objects.requireNonNull(b.clock, "clock");
    }

    private static void validateAddress(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("bootstrap server must be host:port: '" + address + "'");
        }
        try {
            int port = Integer.parseInt(address.substring(colon + 1));
            if (port <= 0 || port > 65535) {
                throw new IllegalArgumentException("bad port in bootstrap server '" + address + "'");
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in bootstrap server '" + address + "'", e);
        }
    }

    /** Addresses ({@code host:port}) used to discover the cluster. */
    public List<String> bootstrapServers() {
        return bootstrapServers;
    }

    /** Deadline of a single RPC (default 30000). */
    public int requestTimeoutMs() {
        return requestTimeoutMs;
    }

    /** Pause before retrying after a retriable error, and minimum gap between metadata refreshes (default 100). */
    public long retryBackoffMs() {
        return retryBackoffMs;
    }

    /**
     * Longest cached cluster metadata is used before it is refreshed even though nothing failed
     * ({@code metadata.max.age.ms}, default 300000 as in Kafka). It bounds how long a running
     * producer, or a consumer with assigned partitions, takes to see partitions added to a topic.
     */
    public long metadataMaxAgeMs() {
        return metadataMaxAgeMs;
    }

    /** Creates gRPC channels to brokers; replaceable for tests (in-process transport). */
    public ChannelFactory channelFactory() {
        return channelFactory;
    }

    /** Time source for timeouts and backoff (default: system UTC clock). */
    public Clock clock() {
        return clock;
    }

    /** Builder base using the self-type idiom so subclass setters chain. */
    public abstract static class Builder<B extends Builder<B>> {
        private final List<String> bootstrapServers = new ArrayList<>();
        private int requestTimeoutMs = 30_000;
        private long retryBackoffMs = 100;
        private long metadataMaxAgeMs = DEFAULT_METADATA_MAX_AGE_MS;
        private ChannelFactory channelFactory = ChannelFactory.plaintext();
        private Clock clock = Clock.systemUTC();

        protected abstract B self();

        /** Adds bootstrap servers; each argument may itself be a comma-separated list. */
        public B bootstrapServers(String... addresses) {
            return bootstrapServers(Arrays.asList(addresses));
        }

        /** Adds bootstrap servers; each element may itself be a comma-separated list. */
        public B bootstrapServers(List<String> addresses) {
            for (String entry : addresses) {
                for (String address : entry.split(",")) {
                    if (!address.isBlank()) {
                        bootstrapServers.add(address.trim());
                    }
                }
            }
            return self();
        }

        public B requestTimeoutMs(int ms) {
            this.requestTimeoutMs = ms;
            return self();
        }

        public B retryBackoffMs(long ms) {
            this.retryBackoffMs = ms;
            return self();
        }

        /** See {@link ClientConfig#metadataMaxAgeMs()}. */
        public B metadataMaxAgeMs(long ms) {
            this.metadataMaxAgeMs = ms;
            return self();
        }

        public B channelFactory(ChannelFactory factory) {
            this.channelFactory = factory;
            return self();
        }

        public B clock(Clock clock) {
            this.clock = clock;
            return self();
        }
    }
}
