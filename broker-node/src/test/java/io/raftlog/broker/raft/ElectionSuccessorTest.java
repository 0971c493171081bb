package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ElectionSuccessorTest {

  private static UUID group(int i) {
    return GroupIds.nameUuid(("topic-" + i).getBytes());
  }

  @Test
  void neverTheGoneLeaderAndTheSameWhateverTheMapOrder() {
    for (int i = 0; i < 200; i++) {
      Map<Integer, Integer> voters = new HashMap<>(Map.of(1, 1, 2, 1, 3, 1));
      int chosen = ElectionSuccessor.choose(group(i), voters, 2);
      assertTrue(chosen == 1 || chosen == 3, "chosen " + chosen);
      assertEquals(chosen, ElectionSuccessor.choose(group(i), new java.util.TreeMap<>(voters).descendingMap(), 2));
      voters.remove(2);
      assertEquals(chosen, ElectionSuccessor.choose(group(i), voters, 2), "the gone leader may be absent");
    }
  }

  @Test
  void theHighestPrioritySurvivorWinsSinceHigherPriorityVotersRefuseLowerCandidates() {
    for (int i = 0; i < 50; i++) {
      // broker 3 is the preferred leader (2), broker 1 repairs (0): broker 3 whatever the group
      assertEquals(3, ElectionSuccessor.choose(group(i), Map.of(1, 0, 2, 1, 3, 2), 2));
      // the preferred leader is the one gone: the healthy survivor, not the repairing one
      assertEquals(2, ElectionSuccessor.choose(group(i), Map.of(1, 0, 2, 1, 3, 2), 3));
    }
  }

  @Test
  void spreadsTheNewLeadersOverEqualSurvivors() {
    Map<Integer, Integer> leaderships = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      leaderships.merge(ElectionSuccessor.choose(group(i), Map.of(1, 1, 2, 1, 3, 1, 4, 1), 1), 1, Integer::sum);
    }
    assertEquals(3, leaderships.size(), leaderships.toString());
    leaderships.values().forEach(n -> assertTrue(n > 60, "each survivor gets a fair share: " + leaderships));
  }

  @Test
  void noSurvivorNoSuccessor() {
    UUID group = UUID.randomUUID();
    assertEquals(-1, ElectionSuccessor.choose(group, Map.of(5, 1), 5));
    assertEquals(-1, ElectionSuccessor.choose(group, Map.of(), 5));
    assertEquals(7, ElectionSuccessor.choose(group, Map.of(5, 2, 7, 0), 5));
  }
}
