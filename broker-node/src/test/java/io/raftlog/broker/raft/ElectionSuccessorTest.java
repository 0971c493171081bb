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

  private static ElectionSuccessor.LastEntry at(long term, long index) {
    return new ElectionSuccessor.LastEntry(term, index);
  }

  @Test
  void theSurvivorWithTheLongestLogWinsWhateverItsPriority() {
    for (int i = 0; i < 50; i++) {
      // broker 3 is preferred (2) but its log is behind broker 1's: broker 3 votes for 1, 1 refuses 3
      assertEquals(1, ElectionSuccessor.choose(group(i), Map.of(1, 1, 2, 1, 3, 2), 2,
          Map.of(1, at(4, 120), 3, at(4, 119))));
      // a higher term beats a higher index
      assertEquals(3, ElectionSuccessor.choose(group(i), Map.of(1, 1, 2, 1, 3, 1), 2,
          Map.of(1, at(3, 500), 2, at(3, 10), 3, at(4, 120))));
    }
  }

  @Test
  void equalLogsFallBackToPriorityThenTheGroupsPick() {
    for (int i = 0; i < 50; i++) {
      Map<Integer, ElectionSuccessor.LastEntry> equal = Map.of(1, at(4, 120), 3, at(4, 120));
      assertEquals(3, ElectionSuccessor.choose(group(i), Map.of(1, 1, 2, 1, 3, 2), 2, equal));
      assertEquals(ElectionSuccessor.choose(group(i), Map.of(1, 1, 2, 1, 3, 1), 2),
          ElectionSuccessor.choose(group(i), Map.of(1, 1, 2, 1, 3, 1), 2, equal));
    }
  }

  @Test
  void anUnknownSurvivorLogMeansTheLogsAreNotConsidered() {
    for (int i = 0; i < 50; i++) {
      Map<Integer, Integer> voters = Map.of(1, 1, 2, 1, 3, 2);
      // broker 1 does not know broker 3's log: priority decides, as every survivor can compute
      assertEquals(3, ElectionSuccessor.choose(group(i), voters, 2, Map.of(1, at(4, 120))));
      assertEquals(3, ElectionSuccessor.choose(group(i), voters, 2, Map.of()));
    }
  }

  @Test
  void noSurvivorNoSuccessor() {
    UUID group = UUID.randomUUID();
    assertEquals(-1, ElectionSuccessor.choose(group, Map.of(5, 1), 5));
    assertEquals(-1, ElectionSuccessor.choose(group, Map.of(), 5));
    assertEquals(7, ElectionSuccessor.choose(group, Map.of(5, 2, 7, 0), 5));
    assertEquals(-1, ElectionSuccessor.choose(group, Map.of(5, 1), 5, Map.of(5, at(1, 1))));
  }
}
