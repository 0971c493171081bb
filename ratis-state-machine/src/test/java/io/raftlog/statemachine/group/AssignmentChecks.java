package io.raftlog.statemachine.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/** Shared checks and builders for the assignor tests. */
final class AssignmentChecks {

  private AssignmentChecks() {}

  /** Partitions {@code topic-from .. topic-(to-1)}. */
  static SortedSet<GroupPartition> range(String topic, int from, int to) {
    SortedSet<GroupPartition> s = new TreeSet<>();
    for (int p = from; p < to; p++) {
      s.add(new GroupPartition(topic, p));
    }
    return s;
  }

  static SortedSet<GroupPartition> parts(String... topicDashPartition) {
    SortedSet<GroupPartition> s = new TreeSet<>();
    for (String tp : topicDashPartition) {
      int dash = tp.lastIndexOf('-');
      s.add(new GroupPartition(tp.substring(0, dash), Integer.parseInt(tp.substring(dash + 1))));
    }
    return s;
  }

  /** A result in the type {@link PartitionAssignor#assign} takes as the previous target. */
  static Map<String, Set<GroupPartition>> asPrevious(Map<String, SortedSet<GroupPartition>> result) {
    return new HashMap<>(result);
  }

  /** Every member subscribing to the same topics. */
  static Map<String, Set<String>> same(Set<String> topics, String... members) {
    Map<String, Set<String>> subs = new HashMap<>();
    for (String m : members) {
      subs.put(m, topics);
    }
    return subs;
  }

  /**
   * The contract of {@link PartitionAssignor#assign}: an entry for every member and nothing else;
   * every existing partition of a subscribed topic exactly once, to a subscriber of its topic;
   * nothing that does not exist or is not subscribed.
   */
  static void assertValid(String context, Map<String, Set<String>> subscriptions, Map<String, Integer> counts,
      Map<String, SortedSet<GroupPartition>> result) {
    assertEquals(new TreeSet<>(subscriptions.keySet()), new TreeSet<>(result.keySet()),
        context + ": one entry per member");
    Map<GroupPartition, String> owner = new HashMap<>();
    for (Map.Entry<String, SortedSet<GroupPartition>> e : result.entrySet()) {
      assertNotNull(e.getValue(), context + ": null set for " + e.getKey());
      for (GroupPartition p : e.getValue()) {
        Integer count = counts.get(p.topic());
        assertTrue(count != null && p.partition() >= 0 && p.partition() < count,
            context + ": " + p + " does not exist but went to " + e.getKey());
        assertTrue(subscriptions.get(e.getKey()).contains(p.topic()),
            context + ": " + p + " went to " + e.getKey() + ", which does not subscribe to its topic");
        String before = owner.put(p, e.getKey());
        assertNull(before, context + ": " + p + " assigned to both " + before + " and " + e.getKey());
      }
    }
    Set<String> subscribed = new TreeSet<>();
    subscriptions.values().forEach(subscribed::addAll);
    int expected = 0;
    for (String topic : subscribed) {
      Integer count = counts.get(topic);
      if (count != null && count > 0) {
        expected += count;
        for (int p = 0; p < count; p++) {
          if (!owner.containsKey(new GroupPartition(topic, p))) {
            fail(context + ": " + topic + "-" + p + " is not assigned");
          }
        }
      }
    }
    assertEquals(expected, owner.size(), context + ": assigned partitions");
  }

  /** Partitions whose owner in result is not a member that listed it in previous. */
  static int moves(Map<String, ? extends Set<GroupPartition>> previous, Map<String, SortedSet<GroupPartition>> result) {
    int moved = 0;
    for (Map.Entry<String, SortedSet<GroupPartition>> e : result.entrySet()) {
      Set<GroupPartition> had = previous.get(e.getKey());
      for (GroupPartition p : e.getValue()) {
        if (had == null || !had.contains(p)) {
          moved++;
        }
      }
    }
    return moved;
  }

  /** Largest minus smallest partition count over all members. */
  static int spread(Map<String, SortedSet<GroupPartition>> result) {
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (SortedSet<GroupPartition> s : result.values()) {
      min = Math.min(min, s.size());
      max = Math.max(max, s.size());
    }
    return result.isEmpty() ? 0 : max - min;
  }

  static Map<String, Integer> sizes(Map<String, SortedSet<GroupPartition>> result) {
    Map<String, Integer> sizes = new TreeMap<>();
    result.forEach((m, s) -> sizes.put(m, s.size()));
    return sizes;
  }

  /**
   * No single move helps: the owner of each partition has at most one partition more than any
   * other subscriber of its topic. Holds for the sticky assignor with any subscriptions.
   */
  static void assertNoImprovingMove(String context, Map<String, Set<String>> subscriptions,
      Map<String, SortedSet<GroupPartition>> result) {
    for (Map.Entry<String, SortedSet<GroupPartition>> owner : result.entrySet()) {
      for (GroupPartition p : owner.getValue()) {
        for (Map.Entry<String, SortedSet<GroupPartition>> other : result.entrySet()) {
          if (subscriptions.get(other.getKey()).contains(p.topic())) {
            assertTrue(owner.getValue().size() <= other.getValue().size() + 1,
                context + ": " + owner.getKey() + " (" + owner.getValue().size() + ") owns " + p + " but "
                    + other.getKey() + " (" + other.getValue().size() + ") subscribes too");
          }
        }
      }
    }
  }
}
