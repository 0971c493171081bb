package io.raftlog.client;

import java.util.List;
import java.util.Objects;

/**
 * A partition's move to other replicas ({@link Admin#reassignPartitions}).
 *
 * @param topic topic name
 * @param partition partition id
 * @param replicas the partition's replicas when the reassignment started
 * @param targetReplicas the replicas it is moving to, preferred leader first; empty when nothing
 *     moves (the request asked for the current replicas, or cancelled)
 * @param addingReplicas target replicas that are not replicas yet
 * @param removingReplicas replicas that are not in the target
 */
public record PartitionReassignment(String topic, int partition, List<Integer> replicas, List<Integer> targetReplicas,
        List<Integer> addingReplicas, List<Integer> removingReplicas) {

    public PartitionReassignment {
        Objects.requireNonNull(topic, "topic");
        replicas = List.copyOf(replicas);
        targetReplicas = List.copyOf(targetReplicas);
        addingReplicas = List.copyOf(addingReplicas);
        removingReplicas = List.copyOf(removingReplicas);
    }

    /** The partition this reassignment is about. */
    public TopicPartition topicPartition() {
        return new TopicPartition(topic, partition);
    }
}
