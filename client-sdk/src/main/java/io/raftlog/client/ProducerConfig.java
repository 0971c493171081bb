package io.raftlog.client;

import io.raftlog.client.errors.ConfigException;
import io.raftlog.client.internals.Partitioner;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Configuration of a {@link Producer}. Immutable and thread-safe.
 *
 * <p>Build it with {@link #builder()} or from Kafka-style properties with
 * {@link #fromProperties(Map)}. Every setting is validated when the configuration is built; a bad
 * value throws {@link ConfigException} naming the Kafka-style key. See {@code docs/client.md} (Producer)
 * for the full table.
 *
 * <p>Idempotence (default on) only applies to {@code acks=1} and {@code acks=all}: with
 * {@code acks=0} nothing is acknowledged, so sequences cannot be tracked and it is disabled.
 */
public final class ProducerConfig extends ClientConfig {
    /** Kafka-style property names accepted by {@link #fromProperties(Map)}. */
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String ACKS = "acks";
    public static final String ENABLE_IDEMPOTENCE = "enable.idempotence";
    public static final String LINGER_MS = "linger.ms";
    public static final String BATCH_SIZE = "batch.size";
    public static final String BUFFER_MEMORY = "buffer.memory";
    public static final String MAX_BLOCK_MS = "max.block.ms";
    public static final String MAX_IN_FLIGHT = "max.in.flight.requests.per.partition";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String DELIVERY_TIMEOUT_MS = "delivery.timeout.ms";
    public static final String REQUEST_TIMEOUT_MS = "request.timeout.ms";
    public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
    public static final String METADATA_MAX_AGE_MS = "metadata.max.age.ms";

    /** The broker's duplicate detection remembers this many batches per producer and partition. */
    public static final int MAX_IN_FLIGHT_WITH_IDEMPOTENCE = 5;

    private static final Set<String> KEYS = Set.of(BOOTSTRAP_SERVERS, ACKS, ENABLE_IDEMPOTENCE, LINGER_MS, BATCH_SIZE,
            BUFFER_MEMORY, MAX_BLOCK_MS, MAX_IN_FLIGHT, COMPRESSION_TYPE, DELIVERY_TIMEOUT_MS, REQUEST_TIMEOUT_MS,
            RETRY_BACKOFF_MS, METADATA_MAX_AGE_MS);

    /** Codec applied to each record batch by the producer; the broker stores batches as sent. */
    public enum CompressionType {
        NONE, GZIP, LZ4;

        /** Parses {@code none}, {@code gzip}, {@code lz4} (case-insensitive). */
        public static CompressionType parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "none" -> NONE;
                case "gzip" -> GZIP;
                case "lz4" -> LZ4;
                default -> throw new ConfigException(COMPRESSION_TYPE,
                        "must be none, gzip or lz4 (the broker rejects other codecs): " + text);
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Acks acks;
    private final boolean idempotence;
    private final long lingerMs;
    private final int batchSizeBytes;
    private final long bufferMemoryBytes;
    private final long maxBlockMs;
    private final int maxInFlightPerPartition;
    private final CompressionType compression;
    private final long deliveryTimeoutMs;
    private final RecordPartitioner partitioner;

    private ProducerConfig(Builder b) {
        super(b);
        this.acks = b.acks;
        this.idempotence = b.idempotence;
        this.lingerMs = b.lingerMs;
        this.batchSizeBytes = b.batchSizeBytes;
        this.bufferMemoryBytes = b.bufferMemoryBytes;
        this.maxBlockMs = b.maxBlockMs;
        this.maxInFlightPerPartition = b.maxInFlightPerPartition;
        this.compression = b.compression;
        this.deliveryTimeoutMs = b.deliveryTimeoutMs;
        this.partitioner = b.partitioner;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds a configuration from Kafka-style properties (see the {@code *_MS} and other constants).
     * {@code bootstrap.servers} is required; unknown keys are rejected.
     *
     * @throws ConfigException naming the first bad key
     */
    public static ProducerConfig fromProperties(Map<String, String> properties) {
        return builder().properties(properties).build();
    }

    /** Default {@link Acks#ALL}. */
    public Acks acks() {
        return acks;
    }

    /** Whether idempotence was requested (default true). */
    public boolean idempotence() {
        return idempotence;
    }

    /** Whether the producer actually sends idempotent batches (requested and acks != 0). */
    public boolean idempotenceEffective() {
        return idempotence && acks != Acks.NONE;
    }

    /** How long a non-full batch waits for more records before it is sent, in ms (default 5). */
    public long lingerMs() {
        return lingerMs;
    }

    /**
     * Target uncompressed size of one batch in bytes (default 262144); a larger record travels alone.
     * Larger than Kafka's 16384 because each batch becomes one Raft entry, whose fixed cost dominates
     * small batches (see docs/client.md).
     */
    public int batchSizeBytes() {
        return batchSizeBytes;
    }

    /** Bytes of records the producer may hold before {@code send} blocks (default 32 MiB). */
    public long bufferMemoryBytes() {
        return bufferMemoryBytes;
    }

    /** Longest {@code send} blocks for metadata or buffer memory, in ms (default 60000). */
    public long maxBlockMs() {
        return maxBlockMs;
    }

    /** Most unacknowledged batches per partition (default 5; at most 5 with idempotence). */
    public int maxInFlightPerPartition() {
        return maxInFlightPerPartition;
    }

    /** Batch compression (default none). */
    public CompressionType compression() {
        return compression;
    }

    /** Upper bound from {@code send} to the completion of its future, retries included (default 120000). */
    public long deliveryTimeoutMs() {
        return deliveryTimeoutMs;
    }

    /** Chooses partitions (default: Kafka-compatible murmur2 / round-robin). */
    public RecordPartitioner partitioner() {
        return partitioner;
    }

    /** Builder of {@link ProducerConfig}; not thread-safe. */
    public static final class Builder extends ClientConfig.Builder<Builder> {
        private Acks acks = Acks.ALL;
        private boolean idempotence = true;
        private long lingerMs = 5;
        private int batchSizeBytes = 262_144;
        private long bufferMemoryBytes = 32L << 20;
        private long maxBlockMs = 60_000;
        private int maxInFlightPerPartition = 5;
        private CompressionType compression = CompressionType.NONE;
        private long deliveryTimeoutMs = 120_000;
        private RecordPartitioner partitioner = new Partitioner();
        // Mirrors of the inherited settings so build() can name the key in its error.
        private int requestTimeoutMs = 30_000;
        private long retryBackoffMs = 100;
        private long metadataMaxAgeMs = DEFAULT_METADATA_MAX_AGE_MS;
        private boolean bootstrapSet;

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        public Builder bootstrapServers(java.util.List<String> addresses) {
            bootstrapSet |= addresses.stream().anyMatch(a -> !a.isBlank());
            return super.bootstrapServers(addresses);
        }

        @Override
        public Builder requestTimeoutMs(int ms) {
            this.requestTimeoutMs = ms;
            return super.requestTimeoutMs(ms);
        }

        @Override
        public Builder retryBackoffMs(long ms) {
            this.retryBackoffMs = ms;
            return super.retryBackoffMs(ms);
        }

        @Override
        public Builder metadataMaxAgeMs(long ms) {
            this.metadataMaxAgeMs = ms;
            return super.metadataMaxAgeMs(ms);
        }

        public Builder acks(Acks acks) {
            this.acks = Objects.requireNonNull(acks);
            return this;
        }

        public Builder idempotence(boolean enabled) {
            this.idempotence = enabled;
            return this;
        }

        public Builder lingerMs(long ms) {
            this.lingerMs = ms;
            return this;
        }

        public Builder batchSizeBytes(int bytes) {
            this.batchSizeBytes = bytes;
            return this;
        }

        public Builder bufferMemoryBytes(long bytes) {
            this.bufferMemoryBytes = bytes;
            return this;
        }

        public Builder maxBlockMs(long ms) {
            this.maxBlockMs = ms;
            return this;
        }

        public Builder maxInFlightPerPartition(int batches) {
            this.maxInFlightPerPartition = batches;
            return this;
        }

        public Builder compression(CompressionType compression) {
            this.compression = Objects.requireNonNull(compression);
            return this;
        }

        public Builder deliveryTimeoutMs(long ms) {
            this.deliveryTimeoutMs = ms;
            return this;
        }

        public Builder partitioner(RecordPartitioner partitioner) {
            this.partitioner = Objects.requireNonNull(partitioner);
            return this;
        }

        /**
         * Applies Kafka-style properties on top of the current settings.
         *
         * @throws ConfigException for an unknown key or an unparsable value
         */
        public Builder properties(Map<String, String> properties) {
            for (Map.Entry<String, String> e : new LinkedHashMap<>(properties).entrySet()) {
                String key = e.getKey();
                String value = Objects.requireNonNull(e.getValue(), key).trim();
                if (!KEYS.contains(key)) {
                    throw new ConfigException(key, "unknown producer setting; known: " + new java.util.TreeSet<>(KEYS));
                }
                switch (key) {
                    case BOOTSTRAP_SERVERS -> bootstrapServers(value);
                    case ACKS -> parse(key, value, v -> acks(Acks.parse(v)));
                    case ENABLE_IDEMPOTENCE -> idempotence(parseBoolean(key, value));
                    case LINGER_MS -> lingerMs(parseLong(key, value));
                    case BATCH_SIZE -> batchSizeBytes(parseInt(key, value));
                    case BUFFER_MEMORY -> bufferMemoryBytes(parseLong(key, value));
                    case MAX_BLOCK_MS -> maxBlockMs(parseLong(key, value));
                    case MAX_IN_FLIGHT -> maxInFlightPerPartition(parseInt(key, value));
                    case COMPRESSION_TYPE -> compression(CompressionType.parse(value));
                    case DELIVERY_TIMEOUT_MS -> deliveryTimeoutMs(parseLong(key, value));
                    case REQUEST_TIMEOUT_MS -> requestTimeoutMs(parseInt(key, value));
                    case RETRY_BACKOFF_MS -> retryBackoffMs(parseLong(key, value));
                    case METADATA_MAX_AGE_MS -> metadataMaxAgeMs(parseLong(key, value));
                    default -> throw new AssertionError(key);
                }
            }
            return this;
        }

        /** @throws ConfigException naming the first invalid setting */
        public ProducerConfig build() {
            if (!bootstrapSet) {
                throw new ConfigException(BOOTSTRAP_SERVERS, "at least one bootstrap server (host:port) is required");
            }
            positive(REQUEST_TIMEOUT_MS, requestTimeoutMs);
            atLeast(RETRY_BACKOFF_MS, retryBackoffMs, 0);
            atLeast(METADATA_MAX_AGE_MS, metadataMaxAgeMs, 0);
            atLeast(LINGER_MS, lingerMs, 0);
            positive(BATCH_SIZE, batchSizeBytes);
            positive(BUFFER_MEMORY, bufferMemoryBytes);
            if (bufferMemoryBytes < batchSizeBytes) {
                throw new ConfigException(BUFFER_MEMORY, "must be >= " + BATCH_SIZE + " (" + batchSizeBytes + ")");
            }
            atLeast(MAX_BLOCK_MS, maxBlockMs, 0);
            positive(MAX_IN_FLIGHT, maxInFlightPerPartition);
            if (idempotence && acks != Acks.NONE && maxInFlightPerPartition > MAX_IN_FLIGHT_WITH_IDEMPOTENCE) {
                throw new ConfigException(MAX_IN_FLIGHT, "must be <= " + MAX_IN_FLIGHT_WITH_IDEMPOTENCE
                        + " with idempotence (the broker remembers only the last 5 batches per producer)");
            }
            positive(DELIVERY_TIMEOUT_MS, deliveryTimeoutMs);
            try {
                return new ProducerConfig(this);
            } catch (ConfigException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                // Only the bootstrap addresses are left to ClientConfig's validation.
                throw new ConfigException(BOOTSTRAP_SERVERS, e.getMessage(), e);
            }
        }

        private static void positive(String key, long value) {
            atLeast(key, value, 1);
        }

        private static void atLeast(String key, long value, long min) {
            if (value < min) {
                throw new ConfigException(key, "must be >= " + min + ", got " + value);
            }
        }

        private static void parse(String key, String value, Consumer<String> apply) {
            try {
                apply.accept(value);
            } catch (ConfigException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key, e.getMessage(), e);
            }
        }

        private static long parseLong(String key, String value) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new ConfigException(key, "not a number: '" + value + "'", e);
            }
        }

        private static int parseInt(String key, String value) {
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new ConfigException(key, "not a 32-bit number: '" + value + "'", e);
            }
        }

        private static boolean parseBoolean(String key, String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new ConfigException(key, "must be true or false: '" + value + "'");
            };
        }
    }
}
