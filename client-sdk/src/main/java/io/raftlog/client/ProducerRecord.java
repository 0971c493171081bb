package io.raftlog.client;

import java.util.List;
import java.util.Objects;

/**
 * A record to send.
 *
 * @param topic target topic
 * @param partition explicit partition, or {@code null} to let the partitioner choose (murmur2 of
 *     the key bytes for keyed records, round-robin per topic for keyless ones)
 * @param key key, may be {@code null} (keyless)
 * @param value value, may be {@code null}
 * @param timestampMs create time in ms since the epoch; 0 means the time of {@code send}; never negative
 * @param headers headers, never {@code null}
 */
public record ProducerRecord<K, V>(String topic, Integer partition, K key, V value, long timestampMs,
                                   List<Header> headers) {
    public ProducerRecord {
        Objects.requireNonNull(topic, "topic");
        headers = headers == null ? List.of() : List.copyOf(headers);
    }

    public ProducerRecord(String topic, K key, V value) {
        this(topic, null, key, value, 0L, List.of());
    }

    public ProducerRecord(String topic, Integer partition, K key, V value) {
        this(topic, partition, key, value, 0L, List.of());
    }

    public ProducerRecord(String topic, V value) {
        this(topic, null, null, value, 0L, List.of());
    }
}
