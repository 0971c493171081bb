package io.raftlog.client.internals.consumer.group;

import io.raftlog.client.TopicPartition;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * The fetch state the group logic drives (the consumer's {@code Fetcher} in production).
 * Application thread only.
 */
public interface AssignedPartitions {

    /** The partitions being fetched. */
    Set<TopicPartition> assignment();

    /**
     * Replaces the fetched partitions; partitions that stay keep their position and buffered
     * records, removed ones lose both and their in-flight fetches.
     */
    void assign(Collection<TopicPartition> partitions);

    /** Sets the position of an assigned partition (discarding its buffered data). */
    void seek(TopicPartition tp, long offset);

    /** The known positions (next offset to return) of assigned partitions; partitions without one are absent. */
    Map<TopicPartition, Long> positions();
}
