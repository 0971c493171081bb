package io.raftlog.client;

/** Turns keys or values into bytes. Implementations must be thread-safe. */
@FunctionalInterface
public interface Serializer<T> {
    /** Returns the bytes of {@code data}, or {@code null} for a {@code null} input. */
    byte[] serialize(String topic, T data);
}
