package io.raftlog.client;

import java.util.List;

/** A record read by the {@link Consumer}. */
public record ConsumerRecord<K, V>(String topic, int partition, long offset, K key, V value,
                                   List<Header> headers, long timestampMs) {
    public ConsumerRecord {
        headers = List.copyOf(headers);
    }

    public TopicPartition topicPartition() {
        return new TopicPartition(topic, partition);
    }
}
