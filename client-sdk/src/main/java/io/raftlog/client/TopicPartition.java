package io.raftlog.client;

import java.util.Objects;

/** A partition of a topic. Immutable. */
public record TopicPartition(String topic, int partition) {
    public TopicPartition {
        Objects.requireNonNull(topic, "topic");
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0: " + partition);
        }
    }

    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
