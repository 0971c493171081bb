package io.raftlog.statemachine.group;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * Kafka's RoundRobinAssignor: all partitions, sorted by topic then partition, dealt out to the
 * members in id order around a circle; a member not subscribed to a partition's topic is skipped.
 * Balanced to within one partition when all members subscribe to the same topics; with different
 * subscriptions it can be far from balanced.
 */
public final class RoundRobinAssignor implements PartitionAssignor {

  public static final String NAME = "roundrobin";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, SortedSet<GroupPartition>> assign(Map<String, Set<String>> subscriptions,
      Map<String, Integer> partitionCounts, Map<String, Set<GroupPartition>> previousTarget) {
    AssignmentInput in = AssignmentInput.of(subscriptions, partitionCounts);
    SortedMap<String, SortedSet<GroupPartition>> result = in.emptyAssignment();
    List<String> circle = in.members;
    int next = 0;
    for (Map.Entry<String, Integer> e : in.partitionCounts.entrySet()) {
      String topic = e.getKey();
      for (int p = 0; p < e.getValue(); p++) {
        // terminates: every topic here has at least one subscriber
        while (!in.subscribes(circle.get(next), topic)) {
          next = (next + 1) % circle.size();
        }
        result.get(circle.get(next)).add(new GroupPartition(topic, p));
        next = (next + 1) % circle.size();
      }
    }
    return AssignmentInput.freeze(result);
  }
}
