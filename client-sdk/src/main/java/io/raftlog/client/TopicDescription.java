package io.raftlog.client;

import java.util.List;

/** A topic and all of its partitions, in partition order. */
public record TopicDescription(String name, String topicId, int replicationFactor,
                               List<PartitionInfo> partitions) {
    public TopicDescription {
        partitions = List.copyOf(partitions);
    }
}
