package io.raftlog.statemachine.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplicaPlansTest {

  @Test
  void replicaListsMustBeNonEmptyDistinctAndRegistered() {
    Set<Integer> known = Set.of(1, 2, 3);
    assertNull(ReplicaPlans.checkReplicas(List.of(3, 1), known));
    assertTrue(ReplicaPlans.checkReplicas(List.of(), known).contains("at least one"));
    assertTrue(ReplicaPlans.checkReplicas(List.of(1, 1), known).contains("twice"));
    assertTrue(ReplicaPlans.checkReplicas(List.of(1, 7), known).contains("broker 7 is not registered"));
  }

  @Test
  void shrinkingKeepsThePreferredLeaderAndDropsFromTheEnd() {
    Map<Integer, Integer> load = new HashMap<>(Map.of(1, 2, 2, 2, 3, 2));
    assertEquals(List.of(List.of(1, 2), List.of(2, 3)),
        ReplicaPlans.changeReplicationFactor(List.of(List.of(1, 2, 3), List.of(2, 3, 1)), 2, List.of(1, 2, 3), load));
    assertEquals(Map.of(1, 1, 2, 2, 3, 1), load);
  }

  @Test
  void growingPicksTheLeastLoadedBrokersAndCountsEachChoice() {
    Map<Integer, Integer> load = new HashMap<>(Map.of(1, 2, 2, 2, 3, 0, 4, 0));
    // Partition 0 takes 3 (least loaded, lower id), partition 1 then takes 4 (3 now has one more).
    assertEquals(List.of(List.of(1, 2, 3), List.of(2, 1, 4)),
        ReplicaPlans.changeReplicationFactor(List.of(List.of(1, 2), List.of(2, 1)), 3, List.of(1, 2, 3, 4), load));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ReplicaPlans.changeReplicationFactor(List.of(List.of(1)), 3, List.of(1, 2), new HashMap<>()));
    assertTrue(e.getMessage().contains("needs 3 brokers"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ReplicaPlans.changeReplicationFactor(List.of(List.of(1)), 0, List.of(1, 2), new HashMap<>()));
  }

  @Test
  void decommissionReplacesTheBrokerInPlaceWithTheLeastLoadedOther() {
    Map<Integer, Integer> load = new HashMap<>(Map.of(1, 3, 2, 3, 3, 3, 4, 0, 5, 1));
    List<List<Integer>> plan = ReplicaPlans.withoutBroker(
        List.of(List.of(3, 1, 2), List.of(1, 2, 4), List.of(2, 3, 5)), 3, List.of(1, 2, 3, 4, 5), load);
    // 4 (least loaded) replaces 3 as preferred leader of partition 0; partition 1 has no replica on
    // 3; in partition 2, 5 is already a replica and 4 (load 1 now) is still below 1 (load 3).
    assertEquals(List.of(List.of(4, 1, 2), List.of(1, 2, 4), List.of(2, 4, 5)), plan);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ReplicaPlans.withoutBroker(List.of(List.of(1, 2, 3)), 3, List.of(1, 2, 3), new HashMap<>()));
    assertTrue(e.getMessage().contains("no other broker"), e.getMessage());
  }
}
