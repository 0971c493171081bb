package io.raftlog.client;

/** Configuration of a {@link Consumer}. Immutable. */
public final class ConsumerConfig extends ClientConfig {
    private final AutoOffsetReset autoOffsetReset;
    private final int fetchMaxWaitMs;
    private final int maxPartitionFetchBytes;

    private ConsumerConfig(Builder b) {
        super(b);
        if (b.fetchMaxWaitMs < 0 || b.maxPartitionFetchBytes < 0) {
            throw new IllegalArgumentException("fetch limits must be >= 0");
        }
        this.autoOffsetReset = b.autoOffsetReset;
        this.fetchMaxWaitMs = b.fetchMaxWaitMs;
        this.maxPartitionFetchBytes = b.maxPartitionFetchBytes;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Used when a position is unknown or out of range (default {@link AutoOffsetReset#LATEST}). */
    public AutoOffsetReset autoOffsetReset() {
        return autoOffsetReset;
    }

    /** Long-poll wait sent with each fetch (default 500). */
    public int fetchMaxWaitMs() {
        return fetchMaxWaitMs;
    }

    /** Per-partition byte limit of a fetch; 0 lets the broker use 1 MiB (default 0). */
    public int maxPartitionFetchBytes() {
        return maxPartitionFetchBytes;
    }

    /** Builder of {@link ConsumerConfig}; not thread-safe. */
    public static final class Builder extends ClientConfig.Builder<Builder> {
        private AutoOffsetReset autoOffsetReset = AutoOffsetReset.LATEST;
        private int fetchMaxWaitMs = 500;
        private int maxPartitionFetchBytes = 0;

        @Override
        protected Builder self() {
            return this;
        }

        public Builder autoOffsetReset(AutoOffsetReset reset) {
            this.autoOffsetReset = java.util.Objects.requireNonNull(reset);
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

        public ConsumerConfig build() {
            return new ConsumerConfig(this);
        }
    }
}
