package io.raftlog.statemachine.group;

import static io.raftlog.statemachine.group.AssignmentChecks.asPrevious;
import static io.raftlog.statemachine.group.AssignmentChecks.assertNoImprovingMove;
import static io.raftlog.statemachine.group.AssignmentChecks.assertValid;
import static io.raftlog.statemachine.group.AssignmentChecks.moves;
import static io.raftlog.statemachine.group.AssignmentChecks.parts;
import static io.raftlog.statemachine.group.AssignmentChecks.range;
import static io.raftlog.statemachine.group.AssignmentChecks.same;
import static io.raftlog.statemachine.group.AssignmentChecks.sizes;
import static io.raftlog.statemachine.group.AssignmentChecks.spread;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class StickyAssignorTest {

  private final PartitionAssignor sticky = new StickyAssignor();

  @Test
  void nameIsSticky() {
    assertEquals("sticky", sticky.name());
  }

  @Test
  void threeMembersSixPartitionsGetTwoEach() {
    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b", "c");
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, Map.of("t", 6), Map.of());
    assertValid("3x6", subs, Map.of("t", 6), a);
    assertEquals(Map.of("a", 2, "b", 2, "c", 2), sizes(a));
  }

  @Test
  void freshHomogeneousAssignmentGivesTheExtrasToTheFirstMembers() {
    Map<String, Set<String>> subs = same(Set.of("t"), "c", "b", "a");
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, Map.of("t", 10), Map.of());
    assertEquals(Map.of("a", range("t", 0, 4), "b", range("t", 4, 7), "c", range("t", 7, 10)), a);
  }

  @Test
  void addingAFourthMemberToThreeByTwelveMovesExactlyThree() {
    Map<String, Integer> counts = Map.of("t", 12);
    Map<String, SortedSet<GroupPartition>> before =
        sticky.assign(same(Set.of("t"), "a", "b", "c"), counts, Map.of());
    assertEquals(Map.of("a", 4, "b", 4, "c", 4), sizes(before));

    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b", "c", "d");
    Map<String, SortedSet<GroupPartition>> after = sticky.assign(subs, counts, asPrevious(before));
    assertValid("join", subs, counts, after);
    assertEquals(Map.of("a", 3, "b", 3, "c", 3, "d", 3), sizes(after));
    assertEquals(3, moves(before, after), "only the new member's three partitions move: " + after);
    for (String m : List.of("a", "b", "c")) {
      assertTrue(before.get(m).containsAll(after.get(m)), m + " only lost partitions: " + after);
    }
  }

  @Test
  void removingAMemberMovesOnlyItsPartitionsAndStaysBalanced() {
    Map<String, Integer> counts = Map.of("x", 7, "y", 5);
    Map<String, SortedSet<GroupPartition>> before =
        sticky.assign(same(Set.of("x", "y"), "a", "b", "c", "d"), counts, Map.of());
    assertEquals(Map.of("a", 3, "b", 3, "c", 3, "d", 3), sizes(before));

    Map<String, Set<String>> subs = same(Set.of("x", "y"), "a", "c", "d");
    Map<String, SortedSet<GroupPartition>> after = sticky.assign(subs, counts, asPrevious(before));
    assertValid("leave", subs, counts, after);
    assertEquals(Map.of("a", 4, "c", 4, "d", 4), sizes(after));
    for (String m : List.of("a", "c", "d")) {
      assertTrue(after.get(m).containsAll(before.get(m)), m + " kept everything: " + after);
    }
    SortedSet<GroupPartition> moved = new TreeSet<>();
    for (String m : List.of("a", "c", "d")) {
      SortedSet<GroupPartition> gained = new TreeSet<>(after.get(m));
      gained.removeAll(before.get(m));
      moved.addAll(gained);
    }
    assertEquals(before.get("b"), moved, "exactly the departed member's partitions moved");
  }

  @Test
  void theCeilQuotaGoesToTheMemberThatHadMost() {
    // 7 partitions over 3 members: one gets 3. Giving it to c (which had 5) moves 2; to a, 3.
    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b", "c");
    Map<String, Set<GroupPartition>> previous =
        Map.of("a", parts("t-0"), "b", parts("t-1"), "c", range("t", 2, 7));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, Map.of("t", 7), previous);
    assertValid("ceil", subs, Map.of("t", 7), a);
    assertEquals(Map.of("a", 2, "b", 2, "c", 3), sizes(a));
    assertEquals(2, moves(previous, a));
  }

  @Test
  void equalPreviousCountsGiveTheCeilQuotaByMemberId() {
    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b", "c");
    Map<String, Set<GroupPartition>> previous = Map.of("b", range("t", 0, 3), "c", range("t", 3, 6));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, Map.of("t", 7), previous);
    assertEquals(Map.of("a", 2, "b", 3, "c", 2), sizes(a));
    assertEquals(range("t", 0, 3), a.get("b"));
  }

  @Test
  void stalePreviousTargetIsIgnoredAndTheRestKept() {
    Map<String, Set<String>> subs = same(Set.of("t", "u"), "a", "b");
    Map<String, Integer> counts = Map.of("t", 4, "u", 2); // t shrank from 6; "deleted" is gone
    Map<String, Set<GroupPartition>> previous = new HashMap<>();
    previous.put("a", parts("t-0", "t-1", "t-4", "t-5", "deleted-0", "deleted-1"));
    previous.put("b", parts("t-2", "u-0"));
    previous.put("gone", parts("t-3", "u-1", "deleted-2")); // departed member
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, counts, previous);
    assertValid("stale", subs, counts, a);
    assertEquals(Map.of("a", 3, "b", 3), sizes(a));
    assertTrue(a.get("a").containsAll(parts("t-0", "t-1")), a.toString());
    assertTrue(a.get("b").containsAll(parts("t-2", "u-0")), a.toString());
    assertEquals(2, moves(previous, a), "only the departed member's two live partitions move");
  }

  @Test
  void previousPartitionsOfAnUnsubscribedTopicAreReassigned() {
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("a", Set.of("u"));
    subs.put("b", Set.of("t", "u"));
    Map<String, Integer> counts = Map.of("t", 2, "u", 2);
    Map<String, Set<GroupPartition>> previous = Map.of("a", parts("t-0", "t-1", "u-0"), "b", parts("u-1"));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, counts, previous);
    assertValid("unsubscribed", subs, counts, a);
    // b must take both of t (only it subscribes), so balance gives a its u-1
    assertEquals(Map.of("a", parts("u-0", "u-1"), "b", parts("t-0", "t-1")), a);
    assertEquals(3, moves(previous, a));
  }

  @Test
  void aPartitionClaimedTwiceGoesToTheFirstClaimantById() {
    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b");
    Map<String, Set<GroupPartition>> previous = Map.of("b", parts("t-0", "t-1"), "a", parts("t-1"));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, Map.of("t", 2), previous);
    assertEquals(Map.of("a", parts("t-1"), "b", parts("t-0")), a);
  }

  @Test
  void heterogeneousKeepsOwnersThatAreNotOverloaded() {
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("a", Set.of("t", "u"));
    subs.put("b", Set.of("t"));
    subs.put("c", Set.of("u"));
    Map<String, Integer> counts = Map.of("t", 4, "u", 4);
    Map<String, Set<GroupPartition>> previous =
        Map.of("a", parts("t-0", "u-0", "u-1"), "b", parts("t-1", "t-2", "t-3"), "c", parts("u-2", "u-3"));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, counts, previous);
    assertValid("hetero keep", subs, counts, a);
    assertEquals(previous, a, "already balanced as well as possible: nothing moves");
  }

  @Test
  void heterogeneousNewMemberTakesOnlyWhatBalanceNeeds() {
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("a", Set.of("t", "u"));
    subs.put("b", Set.of("t"));
    Map<String, Integer> counts = Map.of("t", 4, "u", 2);
    Map<String, Set<GroupPartition>> previous = Map.of("a", parts("t-0", "t-1", "t-2", "t-3", "u-0", "u-1"));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, counts, previous);
    assertValid("hetero join", subs, counts, a);
    assertEquals(Map.of("a", 3, "b", 3), sizes(a));
    assertTrue(a.get("a").containsAll(parts("u-0", "u-1")), a.toString());
    assertEquals(3, moves(previous, a));
  }

  /** a -> b -> c: no single move helps, but passing t-? to b and b's u-? to c balances 2/2/2. */
  @Test
  void heterogeneousBalancesAlongAChain() {
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("a", Set.of("t"));
    subs.put("b", Set.of("t", "u"));
    subs.put("c", Set.of("u"));
    Map<String, Integer> counts = Map.of("t", 3, "u", 3);
    Map<String, Set<GroupPartition>> previous =
        Map.of("a", parts("t-0", "t-1", "t-2"), "b", parts("u-0", "u-1"), "c", parts("u-2"));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, counts, previous);
    assertValid("chain", subs, counts, a);
    assertEquals(Map.of("a", 2, "b", 2, "c", 2), sizes(a));
    assertEquals(2, moves(previous, a), "one partition along each link: " + a);
  }

  @Test
  void heterogeneousOrphansGoToTheLeastLoadedSubscriber() {
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("a", Set.of("t", "u"));
    subs.put("b", Set.of("t", "u"));
    subs.put("c", Set.of("u"));
    Map<String, Integer> counts = Map.of("t", 2, "u", 4);
    Map<String, Set<GroupPartition>> previous = Map.of("a", parts("t-0", "t-1"), "c", parts("u-0"));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, counts, previous);
    assertValid("orphans", subs, counts, a);
    assertEquals(Map.of("a", 2, "b", 2, "c", 2), sizes(a));
    assertEquals(parts("t-0", "t-1"), a.get("a"));
    assertTrue(a.get("c").contains(new GroupPartition("u", 0)));
  }

  @Test
  void membersWithNothingToConsumeGetEmptyEntries() {
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("a", Set.of());
    subs.put("b", Set.of("missing"));
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, Map.of("t", 3), Map.of("a", parts("t-0")));
    assertEquals(Map.of("a", Set.of(), "b", Set.of()), a);
    assertEquals(Map.of(), sticky.assign(Map.of(), Map.of("t", 3), Map.of()));
  }

  @Test
  void nullPreviousTargetMeansNone() {
    Map<String, Set<String>> subs = same(Set.of("t"), "a", "b");
    assertEquals(sticky.assign(subs, Map.of("t", 5), Map.of()), sticky.assign(subs, Map.of("t", 5), null));
  }

  /** Checks only invariants (no timing), so it cannot be flaky on a slow machine. */
  @Test
  void largeHomogeneousGroupStaysValidBalancedAndSticky() {
    Map<String, Integer> counts = new TreeMap<>();
    Set<String> topics = new TreeSet<>();
    for (int t = 0; t < 10; t++) {
      counts.put("topic-" + t, 1_000);
      topics.add("topic-" + t);
    }
    String[] hundred = new String[100];
    for (int i = 0; i < hundred.length; i++) {
      hundred[i] = "member-" + i;
    }
    Map<String, Set<String>> subs = same(topics, hundred);
    Map<String, SortedSet<GroupPartition>> first = sticky.assign(subs, counts, Map.of());
    assertValid("large", subs, counts, first);
    assertEquals(0, spread(first));

    Map<String, Set<String>> fewer = new HashMap<>(subs);
    fewer.remove("member-42");
    Map<String, SortedSet<GroupPartition>> second = sticky.assign(fewer, counts, asPrevious(first));
    assertValid("large leave", fewer, counts, second);
    assertTrue(spread(second) <= 1);
    assertEquals(100, moves(first, second), "only member-42's 100 partitions move");
  }

  @Test
  void largeHeterogeneousGroupFromAllOnOneMemberStaysValid() {
    Random rnd = new Random(0xA551L);
    Map<String, Integer> counts = new TreeMap<>();
    for (int t = 0; t < 20; t++) {
      counts.put("topic-" + t, 500);
    }
    List<String> topics = List.copyOf(counts.keySet());
    Map<String, Set<String>> subs = new HashMap<>();
    subs.put("member-0", new TreeSet<>(topics));
    for (int i = 1; i < 100; i++) {
      Set<String> mine = new TreeSet<>();
      int n = 1 + rnd.nextInt(topics.size());
      for (int k = 0; k < n; k++) {
        mine.add(topics.get(rnd.nextInt(topics.size())));
      }
      subs.put("member-" + i, mine);
    }
    Map<String, Set<GroupPartition>> previous = new HashMap<>();
    SortedSet<GroupPartition> all = new TreeSet<>();
    counts.forEach((t, c) -> all.addAll(range(t, 0, c)));
    previous.put("member-0", all);
    Map<String, SortedSet<GroupPartition>> a = sticky.assign(subs, counts, previous);
    assertValid("large hetero", subs, counts, a);
    assertNoImprovingMove("large hetero", subs, a);
    // feeding the result back is a fixed point: a stable group does not churn
    assertEquals(a, sticky.assign(subs, counts, asPrevious(a)));
  }
}
