package io.raftlog.statemachine.group;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The assignors' inputs copied once into sorted collections (for iteration) and hash maps (for
 * lookups), so that no assignor can depend on the iteration order of the caller's maps. Only
 * "effective" subscriptions are kept: a topic that does not exist, or has no partitions, cannot be
 * assigned, so it is dropped here and the assignors never see it.
 */
final class AssignmentInput {

  /** Member ids, sorted. */
  final List<String> members;
  /** Member id -> its effective topics, sorted. */
  final Map<String, List<String>> topicsByMember;
  /** Topic -> its subscribers, sorted; only topics with at least one subscriber and partition. */
  final SortedMap<String, List<String>> membersByTopic;
  /** Topic -> partition count, for the topics of {@link #membersByTopic}, sorted by topic. */
  final SortedMap<String, Integer> partitionCounts;
  private final Map<String, Set<String>> lookup;

  private AssignmentInput(List<String> members, Map<String, List<String>> topicsByMember,
      Map<String, Set<String>> lookup, SortedMap<String, List<String>> membersByTopic,
      SortedMap<String, Integer> partitionCounts) {
    this.members = members;
    this.topicsByMember = topicsByMember;
    this.lookup = lookup;
    this.membersByTopic = membersByTopic;
    this.partitionCounts = partitionCounts;
  }

  static AssignmentInput of(Map<String, Set<String>> subscriptions, Map<String, Integer> partitionCounts) {
    List<String> members = new ArrayList<>(subscriptions.keySet());
    Collections.sort(members);
    Map<String, List<String>> topicsByMember = new HashMap<>();
    Map<String, Set<String>> lookup = new HashMap<>();
    Map<String, List<String>> membersByTopic = new HashMap<>();
    for (String member : members) {
      List<String> topics = new ArrayList<>();
      Set<String> subscribed = subscriptions.get(member);
      if (subscribed != null) {
        for (String topic : subscribed) {
          Integer count = topic == null ? null : partitionCounts.get(topic);
          if (count != null && count > 0) {
            topics.add(topic);
          }
        }
      }
      Collections.sort(topics);
      topicsByMember.put(member, topics);
      lookup.put(member, new HashSet<>(topics));
      for (String topic : topics) {
        // members are visited in order, so each subscriber list comes out sorted
        membersByTopic.computeIfAbsent(topic, t -> new ArrayList<>()).add(member);
      }
    }
    SortedMap<String, Integer> counts = new TreeMap<>();
    for (String topic : membersByTopic.keySet()) {
      counts.put(topic, partitionCounts.get(topic));
    }
    return new AssignmentInput(List.copyOf(members), topicsByMember, lookup, new TreeMap<>(membersByTopic),
        counts);
  }

  boolean subscribes(String member, String topic) {
    Set<String> topics = lookup.get(member);
    return topics != null && topics.contains(topic);
  }

  /** Whether the partition exists and the member's effective subscriptions include its topic. */
  boolean canOwn(String member, GroupPartition partition) {
    Integer count = partitionCounts.get(partition.topic());
    return count != null && partition.partition() >= 0 && partition.partition() < count
        && subscribes(member, partition.topic());
  }

  /** Every member mapped to a fresh empty set, so that each member has an entry. */
  SortedMap<String, SortedSet<GroupPartition>> emptyAssignment() {
    SortedMap<String, SortedSet<GroupPartition>> result = new TreeMap<>();
    for (String member : members) {
      result.put(member, new TreeSet<>());
    }
    return result;
  }

  /** Read-only view, so that an assignment stored in group state cannot be changed by accident. */
  static Map<String, SortedSet<GroupPartition>> freeze(SortedMap<String, SortedSet<GroupPartition>> assignment) {
    for (Map.Entry<String, SortedSet<GroupPartition>> e : assignment.entrySet()) {
      e.setValue(Collections.unmodifiableSortedSet(e.getValue()));
    }
    return Collections.unmodifiableSortedMap(assignment);
  }
}
