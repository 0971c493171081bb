package io.raftlog.client;

/** Configuration of an {@link Admin}. Immutable. */
public final class AdminConfig extends ClientConfig {
    private AdminConfig(Builder b) {
        super(b);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link AdminConfig}; not thread-safe. */
    public static final class Builder extends ClientConfig.Builder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }

        public AdminConfig build() {
            return new AdminConfig(this);
        }
    }
}
