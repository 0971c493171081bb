package io.raftlog.statemachine.group;

import static io.raftlog.statemachine.group.AssignmentChecks.assertValid;
import static io.raftlog.statemachine.group.AssignmentChecks.parts;
import static io.raftlog.statemachine.group.AssignmentChecks.same;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import org.junit.jupiter.api.Test;

class RoundRobinAssignorTest {

  private final PartitionAssignor roundRobin = new RoundRobinAssignor();

  @Test
  void nameIsRoundRobin() {
    assertEquals("roundrobin", roundRobin.name());
  }

  @Test
  void threeMembersSixPartitionsGetTwoEachDealtInTurn() {
    Map<String, Set<String>> subs = same(Set.of("t"), "c", "b", "a");
    Map<String, SortedSet<GroupPartition>> a = roundRobin.assign(subs, Map.of("t", 6), Map.of());
    assertValid("3x6", subs, Map.of("t", 6), a);
    assertEquals(Map.of("a", parts("t-0", "t-3"), "b", parts("t-1", "t-4"), "c", parts("t-2", "t-5")), a);
  }

  /** The first example from Kafka's RoundRobinAssignor Javadoc: identical subscriptions. */
  @Test
  void kafkaDocumentedExampleSameSubscriptions() {
    Map<String, Set<String>> subs = same(Set.of("t0", "t1"), "C0", "C1");
    Map<String, Integer> counts = Map.of("t0", 3, "t1", 3);
    Map<String, SortedSet<GroupPartition>> a = roundRobin.assign(subs, counts, Map.of());
    assertValid("kafka 1", subs, counts, a);
    assertEquals(parts("t0-0", "t0-2", "t1-1"), a.get("C0"));
    assertEquals(parts("t0-1", "t1-0", "t1-2"), a.get("C1"));
  }

  /** The second example from Kafka's RoundRobinAssignor Javadoc: different subscriptions. */
  @Test
  void kafkaDocumentedExampleDifferentSubscriptions() {
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("C0", Set.of("t0"));
    subs.put("C1", Set.of("t0", "t1"));
    subs.put("C2", Set.of("t0", "t1", "t2"));
    Map<String, Integer> counts = Map.of("t0", 1, "t1", 2, "t2", 3);
    Map<String, SortedSet<GroupPartition>> a = roundRobin.assign(subs, counts, Map.of());
    assertValid("kafka 2", subs, counts, a);
    assertEquals(parts("t0-0"), a.get("C0"));
    assertEquals(parts("t1-0"), a.get("C1"));
    assertEquals(parts("t1-1", "t2-0", "t2-1", "t2-2"), a.get("C2"));
  }

  @Test
  void theCircleCarriesOnAcrossTopics() {
    Map<String, Set<String>> subs = same(Set.of("t0", "t1"), "a", "b");
    Map<String, SortedSet<GroupPartition>> a = roundRobin.assign(subs, Map.of("t0", 3, "t1", 1), Map.of());
    assertEquals(Map.of("a", parts("t0-0", "t0-2"), "b", parts("t0-1", "t1-0")), a);
  }

  @Test
  void membersWithoutSubscriptionsAndMissingTopicsGetNothing() {
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("a", Set.of());
    subs.put("b", Set.of("t", "missing"));
    subs.put("c", Set.of("missing"));
    Map<String, Integer> counts = Map.of("t", 3, "empty", 0);
    Map<String, SortedSet<GroupPartition>> a = roundRobin.assign(subs, counts, Map.of());
    assertValid("sparse", subs, counts, a);
    assertEquals(Map.of("a", Set.of(), "b", parts("t-0", "t-1", "t-2"), "c", Set.of()), a);
  }

  @Test
  void ignoresThePreviousTarget() {
    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b");
    assertEquals(roundRobin.assign(subs, Map.of("t", 4), Map.of()),
        roundRobin.assign(subs, Map.of("t", 4), Map.of("a", parts("t-1", "t-3"), "b", parts("t-0"))));
  }

  @Test
  void noMembersGivesAnEmptyAssignment() {
    assertEquals(Map.of(), roundRobin.assign(Map.of(), Map.of("t", 3), Map.of()));
  }
}
