package io.raftlog.client;

/**
 * Configuration of a {@link Producer}. Immutable.
 *
 * <p>Idempotence (default on) only applies to {@code acks=1} and {@code acks=all}: with
 * {@code acks=0} nothing is acknowledged, so sequences cannot be tracked and it is disabled.
 */
public final class ProducerConfig extends ClientConfig {
    private final Acks acks;
    private final boolean idempotence;
    private final long deliveryTimeoutMs;
    private final int maxBatchRecords;
    private final int maxBatchBytes;

    private ProducerConfig(Builder b) {
        super(b);
        if (b.deliveryTimeoutMs <= 0) {
            throw new IllegalArgumentException("deliveryTimeoutMs must be > 0");
        }
        if (b.maxBatchRecords <= 0 || b.maxBatchBytes <= 0) {
            throw new IllegalArgumentException("batch limits must be > 0");
        }
        this.acks = b.acks;
        this.idempotence = b.idempotence;
        this.deliveryTimeoutMs = b.deliveryTimeoutMs;
        this.maxBatchRecords = b.maxBatchRecords;
        this.maxBatchBytes = b.maxBatchBytes;
    }

    public static Builder builder() {
        return new Builder();
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

    /** Upper bound from {@code send} to the completion of its future, retries included (default 120000). */
    public long deliveryTimeoutMs() {
        return deliveryTimeoutMs;
    }

    /** Most records in one batch (default 1000). */
    public int maxBatchRecords() {
        return maxBatchRecords;
    }

    /** Approximate most key+value bytes in one batch (default 1 MiB); a single larger record still goes alone. */
    public int maxBatchBytes() {
        return maxBatchBytes;
    }

    /** Builder of {@link ProducerConfig}; not thread-safe. */
    public static final class Builder extends ClientConfig.Builder<Builder> {
        private Acks acks = Acks.ALL;
        private boolean idempotence = true;
        private long deliveryTimeoutMs = 120_000;
        private int maxBatchRecords = 1000;
        private int maxBatchBytes = 1 << 20;

        @Override
        protected Builder self() {
            return this;
        }

        public Builder acks(Acks acks) {
            this.acks = java.util.Objects.requireNonNull(acks);
            return this;
        }

        public Builder idempotence(boolean enabled) {
            this.idempotence = enabled;
            return this;
        }

        public Builder deliveryTimeoutMs(long ms) {
            this.deliveryTimeoutMs = ms;
            return this;
        }

        public Builder maxBatchRecords(int records) {
            this.maxBatchRecords = records;
            return this;
        }

        public Builder maxBatchBytes(int bytes) {
            this.maxBatchBytes = bytes;
            return this;
        }

        public ProducerConfig build() {
            return new ProducerConfig(this);
        }
    }
}
