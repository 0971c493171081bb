package io.raftlog.client.internals.consumer.group;

import io.raftlog.client.TopicPartition;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The fetcher as a map of positions; assign/seek are logged to the shared event list. */
final class FakePartitions implements AssignedPartitions {
    final Set<TopicPartition> assigned = new LinkedHashSet<>();
    final Map<TopicPartition, Long> positions = new LinkedHashMap<>();
    final List<String> events;

    FakePartitions(List<String> events) {
        this.events = events;
    }

    @Override
    public Set<TopicPartition> assignment() {
        return new LinkedHashSet<>(assigned);
    }

    @Override
    public void assign(Collection<TopicPartition> partitions) {
        assigned.clear();
        assigned.addAll(partitions);
        positions.keySet().retainAll(assigned);
        events.add("fetcher " + MembershipManager.sorted(assigned));
    }

    @Override
    public void seek(TopicPartition tp, long offset) {
        if (!assigned.contains(tp)) {
            throw new IllegalStateException(tp + " is not assigned");
        }
        positions.put(tp, offset);
        events.add("seek " + tp + "=" + offset);
    }

    @Override
    public Map<TopicPartition, Long> positions() {
        return new LinkedHashMap<>(positions);
    }
}
