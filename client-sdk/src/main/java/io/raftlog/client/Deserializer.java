package io.raftlog.client;

/** Turns bytes back into keys or values. Implementations must be thread-safe. */
@FunctionalInterface
public interface Deserializer<T> {
    /** Returns the object for {@code data}, or {@code null} when {@code data} is {@code null}. */
    T deserialize(String topic, byte[] data);
}
