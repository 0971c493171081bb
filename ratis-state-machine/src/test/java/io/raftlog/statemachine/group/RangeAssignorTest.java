package io.raftlog.statemachine.group;

import static io.raftlog.statemachine.group.AssignmentChecks.assertValid;
import static io.raftlog.statemachine.group.AssignmentChecks.parts;
import static io.raftlog.statemachine.group.AssignmentChecks.range;
import static io.raftlog.statemachine.group.AssignmentChecks.same;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class RangeAssignorTest {

  private final PartitionAssignor range = new RangeAssignor();

  @Test
  void nameIsRange() {
    assertEquals("range", range.name());
  }

  @Test
  void threeMembersSixPartitionsGetTwoContiguousEach() {
    Map<String, Set<String>> subs = same(Set.of("t"), "c", "a", "b");
    Map<String, SortedSet<GroupPartition>> a = range.assign(subs, Map.of("t", 6), Map.of());
    assertValid("3x6", subs, Map.of("t", 6), a);
    assertEquals(Map.of("a", range("t", 0, 2), "b", range("t", 2, 4), "c", range("t", 4, 6)), a);
  }

  /** The example from Kafka's RangeAssignor Javadoc. */
  @Test
  void kafkaDocumentedExample() {
    Map<String, Set<String>> subs = same(Set.of("t0", "t1"), "C0", "C1");
    Map<String, Integer> counts = Map.of("t0", 3, "t1", 3);
    Map<String, SortedSet<GroupPartition>> a = range.assign(subs, counts, Map.of());
    assertValid("kafka", subs, counts, a);
    assertEquals(parts("t0-0", "t0-1", "t1-0", "t1-1"), a.get("C0"));
    assertEquals(parts("t0-2", "t1-2"), a.get("C1"));
  }

  @Test
  void firstMembersGetTheExtraPartitionOfEveryTopic() {
    Map<String, Set<String>> subs = same(Set.of("x", "y"), "m1", "m2", "m3");
    Map<String, Integer> counts = Map.of("x", 7, "y", 4);
    Map<String, SortedSet<GroupPartition>> a = range.assign(subs, counts, Map.of());
    assertValid("extra", subs, counts, a);
    assertEquals(parts("x-0", "x-1", "x-2", "y-0", "y-1"), a.get("m1"));
    assertEquals(parts("x-3", "x-4", "y-2"), a.get("m2"));
    assertEquals(parts("x-5", "x-6", "y-3"), a.get("m3"));
  }

  @Test
  void eachTopicIsSplitOnlyAmongItsSubscribers() {
    Map<String, Set<String>> subs = new LinkedHashMap<>();
    subs.put("b", Set.of("t1", "t2"));
    subs.put("a", Set.of("t1"));
    subs.put("c", Set.of());
    subs.put("d", Set.of("gone"));
    Map<String, Integer> counts = Map.of("t1", 4, "t2", 3, "unsubscribed", 5);
    Map<String, SortedSet<GroupPartition>> a = range.assign(subs, counts, Map.of());
    assertValid("hetero", subs, counts, a);
    assertEquals(range("t1", 0, 2), a.get("a"));
    SortedSet<GroupPartition> b = new TreeSet<>(range("t1", 2, 4));
    b.addAll(range("t2", 0, 3));
    assertEquals(b, a.get("b"));
    assertEquals(Set.of(), a.get("c"));
    assertEquals(Set.of(), a.get("d"));
  }

  @Test
  void moreMembersThanPartitionsLeavesTheLastOnesEmpty() {
    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b", "c");
    Map<String, SortedSet<GroupPartition>> a = range.assign(subs, Map.of("t", 2), Map.of());
    assertEquals(Map.of("a", parts("t-0"), "b", parts("t-1"), "c", Set.of()), a);
  }

  @Test
  void ignoresThePreviousTarget() {
    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b");
    Map<String, SortedSet<GroupPartition>> fresh = range.assign(subs, Map.of("t", 4), Map.of());
    Map<String, SortedSet<GroupPartition>> withPrevious =
        range.assign(subs, Map.of("t", 4), Map.of("b", parts("t-0", "t-1"), "a", parts("t-2", "t-3")));
    assertEquals(fresh, withPrevious);
  }

  @Test
  void resultIsReadOnly() {
    Map<String, SortedSet<GroupPartition>> a = range.assign(same(Set.of("t"), "a"), Map.of("t", 1), Map.of());
    assertThrows(UnsupportedOperationException.class, () -> a.get("a").clear());
    assertThrows(UnsupportedOperationException.class, () -> a.remove("a"));
  }
}
