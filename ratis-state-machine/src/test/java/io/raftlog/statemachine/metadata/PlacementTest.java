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
}
