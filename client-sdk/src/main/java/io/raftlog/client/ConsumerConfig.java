package io.raftlog.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Configuration of a {@link Consumer}. Immutable and thread-safe. Build it with {@link #builder()}
 * or from Kafka-style properties with {@link #fromProperties(Map)}:
 *
 * <table>
 *   <caption>Consumer properties</caption>
 *   <tr><th>Property</th><th>Default</th><th>Meaning</th></tr>
 *   <tr><td>bootstrap.servers</td><td>(required)</td><td>comma-separated host:port list</td></tr>
 *   <tr><td>auto.offset.reset</td><td>latest</td><td>earliest | latest | none</td></tr>
 *   <tr><td>fetch.min.bytes</td><td>1</td><td>bytes a long-poll fetch waits for</td></tr>
 *   <tr><td>fetch.max.wait.ms</td><td>500</td><td>longest a fetch waits for fetch.min.bytes (0..30000)</td></tr>
 *   <tr><td>max.partition.fetch.bytes</td><td>1048576</td><td>per-partition byte limit of a fetch</td></tr>
 *   <tr><td>max.poll.records</td><td>500</td><td>most records one poll returns</td></tr>
 *   <tr><td>request.timeout.ms</td><td>30000</td><td>deadline of one RPC (on top of the long-poll wait)</td></tr>
 *   <tr><td>retry.backoff.ms</td><td>100</td><td>first retry pause (doubles up to 1 s)</td></tr>
 * </table>
 */
public final class ConsumerConfig extends ClientConfig {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String AUTO_OFFSET_RESET = "auto.offset.reset";
    public static final String FETCH_MIN_BYTES = "fetch.min.bytes";
    public static final String FETCH_MAX_WAIT_MS = "fetch.max.wait.ms";
    public static final String MAX_PARTITION_FETCH_BYTES = "max.partition.fetch.bytes";
    public static final String MAX_POLL_RECORDS = "max.poll.records";
    public static final String REQUEST_TIMEOUT_MS = "request.timeout.ms";
    public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";

    /** Every key {@link #fromProperties} accepts. */
    public static final Set<String> KEYS = Set.of(BOOTSTRAP_SERVERS, AUTO_OFFSET_RESET, FETCH_MIN_BYTES,
            FETCH_MAX_WAIT_MS, MAX_PARTITION_FETCH_BYTES, MAX_POLL_RECORDS, REQUEST_TIMEOUT_MS, RETRY_BACKOFF_MS);

    /** The broker rejects longer long-polls. */
    public static final int MAX_FETCH_WAIT_MS = 30_000;

    private final AutoOffsetReset autoOffsetReset;
    private final int fetchMinBytes;
    private final int fetchMaxWaitMs;
    private final int maxPartitionFetchBytes;
    private final int maxPollRecords;

    private ConsumerConfig(Builder b) {
        super(b);
        require(b.fetchMinBytes >= 0, FETCH_MIN_BYTES + " must be >= 0, got " + b.fetchMinBytes);
        require(b.fetchMaxWaitMs >= 0 && b.fetchMaxWaitMs <= MAX_FETCH_WAIT_MS,
                FETCH_MAX_WAIT_MS + " must be between 0 and " + MAX_FETCH_WAIT_MS + ", got " + b.fetchMaxWaitMs);
        require(b.maxPartitionFetchBytes > 0, MAX_PARTITION_FETCH_BYTES + " must be > 0, got " + b.maxPartitionFetchBytes);
        require(b.maxPollRecords > 0, MAX_POLL_RECORDS + " must be > 0, got " + b.maxPollRecords);
        this.autoOffsetReset = b.autoOffsetReset;
        this.fetchMinBytes = b.fetchMinBytes;
        this.fetchMaxWaitMs = b.fetchMaxWaitMs;
        this.maxPartitionFetchBytes = b.maxPartitionFetchBytes;
        this.maxPollRecords = b.maxPollRecords;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A configuration from Kafka-style properties (see the class table). Unset keys keep their
     * defaults; {@code bootstrap.servers} is required.
     *
     * @throws IllegalArgumentException naming the key, for an unknown key or an invalid value
     */
    public static ConsumerConfig fromProperties(Map<String, String> properties) {
        return builder().properties(properties).build();
    }

    /** Used when a position is unknown or out of range (default {@link AutoOffsetReset#LATEST}). */
    public AutoOffsetReset autoOffsetReset() {
        return autoOffsetReset;
    }

    /** Bytes the broker waits for before answering a fetch (default 1: answer as soon as any data). */
    public int fetchMinBytes() {
        return fetchMinBytes;
    }

    /** Longest a fetch waits at the broker for {@link #fetchMinBytes} (default 500, at most 30000). */
    public int fetchMaxWaitMs() {
        return fetchMaxWaitMs;
    }

    /** Per-partition byte limit of a fetch (default 1 MiB); at least one batch is returned even if larger. */
    public int maxPartitionFetchBytes() {
        return maxPartitionFetchBytes;
    }

    /** Most records one {@link Consumer#poll} returns (default 500). */
    public int maxPollRecords() {
        return maxPollRecords;
    }

    /** Builder of {@link ConsumerConfig}; not thread-safe. */
    public static final class Builder extends ClientConfig.Builder<Builder> {
        private AutoOffsetReset autoOffsetReset = AutoOffsetReset.LATEST;
        private int fetchMinBytes = 1;
        private int fetchMaxWaitMs = 500;
        private int maxPartitionFetchBytes = 1 << 20;
        private int maxPollRecords = 500;

        @Override
        protected Builder self() {
            return this;
        }

        public Builder autoOffsetReset(AutoOffsetReset reset) {
            this.autoOffsetReset = Objects.requireNonNull(reset);
            return this;
        }

        public Builder fetchMinBytes(int bytes) {
            this.fetchMinBytes = bytes;
            return this;
        }

        public Builder fetchMaxWaitMs(int ms) {
            this.fetchMaxWaitMs = ms;
            return this;
        }

        public Builder maxPartitionFetchBytes(int bytes) {
            this.maxPartitionFetchBytes = bytes;
            return this;
        }

        public Builder maxPollRecords(int records) {
            this.maxPollRecords = records;
            return this;
        }

        /**
         * Applies Kafka-style properties (see {@link ConsumerConfig}); values are trimmed.
         *
         * @throws IllegalArgumentException naming the key, for an unknown key or a malformed value
         */
        public Builder properties(Map<String, String> properties) {
            Set<String> unknown = new TreeSet<>(properties.keySet());
            unknown.removeAll(KEYS);
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("unknown consumer config key(s) " + unknown + "; known keys: "
                        + new TreeSet<>(KEYS));
            }
            Map<String, String> p = new LinkedHashMap<>();
            properties.forEach((k, v) -> p.put(k, Objects.requireNonNull(v, "value of " + k).trim()));
            if (p.containsKey(BOOTSTRAP_SERVERS)) {
                bootstrapServers(List.of(p.get(BOOTSTRAP_SERVERS)));
            }
            if (p.containsKey(AUTO_OFFSET_RESET)) {
                String v = p.get(AUTO_OFFSET_RESET);
                try {
                    autoOffsetReset(AutoOffsetReset.valueOf(v.toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(AUTO_OFFSET_RESET + " must be earliest, latest or none, got '"
                            + v + "'", e);
                }
            }
            if (p.containsKey(FETCH_MIN_BYTES)) {
                fetchMinBytes(parseInt(p, FETCH_MIN_BYTES));
            }
            if (p.containsKey(FETCH_MAX_WAIT_MS)) {
                fetchMaxWaitMs(parseInt(p, FETCH_MAX_WAIT_MS));
            }
            if (p.containsKey(MAX_PARTITION_FETCH_BYTES)) {
                maxPartitionFetchBytes(parseInt(p, MAX_PARTITION_FETCH_BYTES));
            }
            if (p.containsKey(MAX_POLL_RECORDS)) {
                maxPollRecords(parseInt(p, MAX_POLL_RECORDS));
            }
            if (p.containsKey(REQUEST_TIMEOUT_MS)) {
                int v = parseInt(p, REQUEST_TIMEOUT_MS);
                if (v <= 0) {
                    throw new IllegalArgumentException(REQUEST_TIMEOUT_MS + " must be > 0, got " + v);
                }
                requestTimeoutMs(v);
            }
            if (p.containsKey(RETRY_BACKOFF_MS)) {
                long v = parseLong(p, RETRY_BACKOFF_MS);
                if (v < 0) {
                    throw new IllegalArgumentException(RETRY_BACKOFF_MS + " must be >= 0, got " + v);
                }
                retryBackoffMs(v);
            }
            return this;
        }

        private static int parseInt(Map<String, String> p, String key) {
            long v = parseLong(p, key);
            if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
                throw new IllegalArgumentException(key + " is too large: " + v);
            }
            return (int) v;
        }

        private static long parseLong(Map<String, String> p, String key) {
            try {
                return Long.parseLong(p.get(key));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " must be an integer, got '" + p.get(key) + "'", e);
            }
        }

        public ConsumerConfig build() {
            return new ConsumerConfig(this);
        }
    }
}
