package io.raftlog.statemachine.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlacementTest {

  private static final List<Integer> THREE = List.of(1, 2, 3);

  @Test
  void threeBrokersThreePartitionsRf3MakeEachBrokerFirstReplicaExactlyOnce() {
    for (int start = 0; start < 7; start++) {
      List<List<Integer>> a = Placement.assign(3, 3, THREE, start);
      assertEquals(3, a.size());
      Map<Integer, Integer> leaders = new HashMap<>();
      for (List<Integer> replicas : a) {
        assertEquals(3, replicas.size());
        assertEquals(new HashSet<>(THREE), new HashSet<>(replicas), "every broker holds every partition");
        leaders.merge(replicas.get(0), 1, Integer::sum);
      }
      assertEquals(Map.of(1, 1, 2, 1, 3, 1), leaders, "start " + start);
    }
  }

  @Test
  void roundRobinLayoutFromStartIndex() {
    assertEquals(List.of(List.of(1, 2, 3), List.of(2, 3, 1), List.of(3, 1, 2)), Placement.assign(3, 3, THREE, 0));
    assertEquals(List.of(List.of(2, 3, 1), List.of(3, 1, 2), List.of(1, 2, 3)), Placement.assign(3, 3, THREE, 1));
  }

  @Test
  void rf2SpreadsReplicasAndLeadersEvenly() {
    List<Integer> brokers = List.of(10, 20, 30, 40);
    List<List<Integer>> a = Placement.assign(8, 2, brokers, 5);
    Map<Integer, Integer> replicas = new HashMap<>();
    Map<Integer, Integer> leaders = new HashMap<>();
    for (List<Integer> r : a) {
      assertEquals(2, r.size());
      assertEquals(2, new HashSet<>(r).size(), "distinct replicas " + r);
      r.forEach(b -> replicas.merge(b, 1, Integer::sum));
      leaders.merge(r.get(0), 1, Integer::sum);
    }
    assertEquals(Map.of(10, 4, 20, 4, 30, 4, 40, 4), replicas);
    assertEquals(Map.of(10, 2, 20, 2, 30, 2, 40, 2), leaders);
  }

  @Test
  void rf2OnThreeBrokersPutsEachBrokerInTwoOfThreePartitions() {
    List<List<Integer>> a = Placement.assign(3, 2, THREE, 0);
    Map<Integer, Integer> count = new HashMap<>();
    a.forEach(r -> r.forEach(b -> count.merge(b, 1, Integer::sum)));
    assertEquals(Map.of(1, 2, 2, 2, 3, 2), count);
  }

  @Test
  void differentStartIndexesMoveTheFirstLeader() {
    assertEquals(1, Placement.assign(1, 1, THREE, 0).get(0).get(0));
    assertEquals(2, Placement.assign(1, 1, THREE, 1).get(0).get(0));
    assertEquals(3, Placement.assign(1, 1, THREE, 2).get(0).get(0));
    assertEquals(1, Placement.assign(1, 1, THREE, 3).get(0).get(0));
  }

  @Test
  void hugeAndNegativeStartIndexesStayInRange() {
    for (int start : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE - 1, -1, Integer.MIN_VALUE}) {
      List<List<Integer>> a = Placement.assign(5, 3, THREE, start);
      for (List<Integer> r : a) {
        assertEquals(3, new HashSet<>(r).size(), "start " + start + ": " + a);
        assertTrue(THREE.containsAll(r));
      }
    }
  }

  @Test
  void samePlacementForSameInputs() {
    assertEquals(Placement.assign(12, 2, List.of(1, 2, 3, 4, 5), 9), Placement.assign(12, 2, List.of(1, 2, 3, 4, 5), 9));
  }

  @Test
  void resultIsImmutable() {
    List<List<Integer>> a = Placement.assign(2, 2, THREE, 0);
    assertThrows(UnsupportedOperationException.class, () -> a.add(List.of()));
    assertThrows(UnsupportedOperationException.class, () -> a.get(0).set(0, 9));
  }

  @Test
  void invalidArgumentsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> Placement.assign(0, 1, THREE, 0));
    assertThrows(IllegalArgumentException.class, () -> Placement.assign(-1, 1, THREE, 0));
    assertThrows(IllegalArgumentException.class, () -> Placement.assign(1, 0, THREE, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Placement.assign(1, 4, THREE, 0));
    assertTrue(e.getMessage().contains("(3)"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Placement.assign(1, 1, List.of(), 0));
  }

  // ---- assignAdded: partitions added to an existing topic ----------------------------------------

  private static List<Integer> brokers(int n) {
    return java.util.stream.IntStream.rangeClosed(1, n).boxed().toList();
  }

  private static Map<Integer, Integer> leaderCounts(List<List<Integer>> a, List<Integer> brokers) {
    Map<Integer, Integer> counts = new HashMap<>();
    brokers.forEach(b -> counts.put(b, 0));
    a.forEach(r -> counts.merge(r.get(0), 1, Integer::sum));
    return counts;
  }

  private static List<List<Integer>> concat(List<List<Integer>> a, List<List<Integer>> b) {
    List<List<Integer>> all = new java.util.ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  @Test
  void addedPartitionsContinueTheRoundRobinWhenEveryBrokerOrOneHoldsEachPartition() {
    for (int n = 1; n <= 5; n++) {
      List<Integer> brokers = brokers(n);
      for (int rf : new int[] {1, n}) {
        for (int start = 0; start < n + 2; start++) {
          for (int current = 1; current <= 6; current++) {
            List<List<Integer>> existing = Placement.assign(current, rf, brokers, start);
            for (int total = current + 1; total <= current + 7; total++) {
              assertEquals(Placement.assign(total, rf, brokers, start).subList(current, total),
                  Placement.assignAdded(existing, total, rf, brokers),
                  "n " + n + " rf " + rf + " start " + start + " " + current + " -> " + total);
            }
          }
        }
      }
    }
  }

  @Test
  void evenLeadersStayEvenAndNewPartitionsAreValid() {
    for (int n = 1; n <= 5; n++) {
      List<Integer> brokers = brokers(n);
      for (int rf = 1; rf <= n; rf++) {
        for (int start = 0; start < n; start++) {
          for (int current = 1; current <= 7; current++) {
            List<List<Integer>> existing = Placement.assign(current, rf, brokers, start);
            for (int total = current + 1; total <= current + 6; total++) {
              List<List<Integer>> added = Placement.assignAdded(existing, total, rf, brokers);
              String what = "n " + n + " rf " + rf + " start " + start + " " + current + " -> " + total;
              assertEquals(total - current, added.size(), what);
              for (List<Integer> r : added) {
                assertEquals(rf, new HashSet<>(r).size(), what + ": distinct replicas " + r);
                assertTrue(brokers.containsAll(r), what);
              }
              Map<Integer, Integer> leaders = leaderCounts(concat(existing, added), brokers);
              int max = leaders.values().stream().max(Integer::compare).orElseThrow();
              int min = leaders.values().stream().min(Integer::compare).orElseThrow();
              assertTrue(max - min <= 1, what + ": preferred leaders per broker " + leaders);
            }
          }
        }
      }
    }
  }

  @Test
  void aBrokerAddedSinceCreationGetsTheNewLeaders() {
    List<List<Integer>> existing = Placement.assign(3, 3, THREE, 0);
    List<Integer> four = List.of(1, 2, 3, 4);
    List<List<Integer>> added = Placement.assignAdded(existing, 5, 3, four);
    assertEquals(2, added.size());
    Map<Integer, Integer> leaders = leaderCounts(concat(existing, added), four);
    assertEquals(1, leaders.get(4), "the new broker leads one of the new partitions: " + added);
    assertTrue(leaders.values().stream().allMatch(c -> c >= 1 && c <= 2), leaders.toString());
  }

  @Test
  void skewedLeadersAreEvenedOutByTheNewPartitions() {
    // All led by broker 1 (say, after a reassignment): the new ones go to 2 and 3.
    List<List<Integer>> existing = List.of(List.of(1, 2), List.of(1, 3));
    List<List<Integer>> added = Placement.assignAdded(existing, 4, 2, THREE);
    assertEquals(java.util.Set.of(2, 3), java.util.Set.of(added.get(0).get(0), added.get(1).get(0)), added.toString());
  }

  @Test
  void onlyLiveBrokersGetNewPartitionsAndADeadLeaderOfPartitionZeroDoesNotMatter() {
    List<List<Integer>> existing = Placement.assign(3, 3, THREE, 0); // partition 0 led by broker 1
    List<Integer> live = List.of(2, 3);
    List<List<Integer>> added = Placement.assignAdded(existing, 7, 2, live);
    assertEquals(4, added.size());
    for (List<Integer> r : added) {
      assertEquals(new HashSet<>(live), new HashSet<>(r), added.toString());
    }
    assertEquals(Map.of(2, 2, 3, 2), leaderCounts(added, live));
  }

  @Test
  void assignAddedIsDeterministicAndImmutable() {
    List<List<Integer>> existing = Placement.assign(4, 2, List.of(1, 2, 3, 4, 5), 3);
    List<List<Integer>> a = Placement.assignAdded(existing, 9, 2, List.of(1, 2, 3, 4, 5));
    assertEquals(a, Placement.assignAdded(existing, 9, 2, List.of(1, 2, 3, 4, 5)));
    assertThrows(UnsupportedOperationException.class, () -> a.add(List.of()));
    assertThrows(UnsupportedOperationException.class, () -> a.get(0).set(0, 9));
  }

  @Test
  void assignAddedRejectsACountThatDoesNotGrowAndTooFewBrokers() {
    List<List<Integer>> existing = Placement.assign(3, 2, THREE, 0);
    assertThrows(IllegalArgumentException.class, () -> Placement.assignAdded(existing, 3, 2, THREE));
    assertThrows(IllegalArgumentException.class, () -> Placement.assignAdded(existing, 2, 2, THREE));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Placement.assignAdded(existing, 4, 3, List.of(1, 2)));
    assertTrue(e.getMessage().contains("(2)"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Placement.assignAdded(existing, 4, 1, List.of()));
  }
}
