package io.raftlog.client;

import java.util.Objects;

/**
 * What {@link Admin#createPartitions} did.
 *
 * @param topic topic name
 * @param previousPartitions the topic's partition count before the call
 * @param partitions the topic's partition count now (the requested total)
 */
public record CreatePartitionsResult(String topic, int previousPartitions, int partitions) {

    public CreatePartitionsResult {
        Objects.requireNonNull(topic, "topic");
    }
}
