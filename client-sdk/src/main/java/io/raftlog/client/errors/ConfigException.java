package io.raftlog.client.errors;

/**
 * A client setting is missing, unknown or out of range. Thrown synchronously while building a
 * configuration, so it extends {@link IllegalArgumentException} (a programming or deployment
 * error) rather than {@link RaftlogException}; {@link #key()} names the offending setting.
 */
public class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    public ConfigException(String key, String message, Throwable cause) {
        super(key + ": " + message, cause);
        this.key = key;
    }

    /** The configuration key (Kafka-style name, e.g. {@code linger.ms}). */
    public String key() {
        return key;
    }
}
