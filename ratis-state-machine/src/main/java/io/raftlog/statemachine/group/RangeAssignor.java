package io.raftlog.statemachine.group;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * Kafka's RangeAssignor: each topic on its own, split into contiguous ranges over its subscribers
 * in member id order, the first {@code count % subscribers} members getting one extra. Keeps a
 * member's partitions of co-partitioned topics aligned (same numbers), at the price of balance
 * across topics: the first members get the extra partition of every topic.
 */
public final class RangeAssignor implements PartitionAssignor {

  public static final String NAME = "range";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, SortedSet<GroupPartition>> assign(Map<String, Set<String>> subscriptions,
      Map<String, Integer> partitionCounts, Map<String, Set<GroupPartition>> previousTarget) {
    AssignmentInput in = AssignmentInput.of(subscriptions, partitionCounts);
    SortedMap<String, SortedSet<GroupPartition>> result = in.emptyAssignment();
    for (Map.Entry<String, List<String>> e : in.membersByTopic.entrySet()) {
      String topic = e.getKey();
      List<String> members = e.getValue();
      int count = in.partitionCounts.get(topic);
      int base = count / members.size();
      int extra = count % members.size();
      int next = 0;
      for (int i = 0; i < members.size(); i++) {
        int length = base + (i < extra ? 1 : 0);
        SortedSet<GroupPartition> owned = result.get(members.get(i));
        for (int p = next; p < next + length; p++) {
          owned.add(new GroupPartition(topic, p));
        }
        next += length;
      }
    }
    return AssignmentInput.freeze(result);
  }
}
