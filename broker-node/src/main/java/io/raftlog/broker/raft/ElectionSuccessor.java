package io.raftlog.broker.raft;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Which surviving voter of a Raft group starts an election at once when the broker that led the
 * group is gone ({@link LeaderGoneElections}). Exactly one: two candidates starting together split
 * the vote and both wait out a full election timeout. Every survivor computes the same answer from
 * the group id and the voters' Raft priorities: the highest priority wins, since a voter with a
 * higher priority than the candidate refuses it (the preferred leader has 2, a repairing replica
 * 0, see {@code partition.LeadershipGuard}); among equals the group id picks, which spreads the new
 * leaderships over the brokers.
 */
public final class ElectionSuccessor {

  private ElectionSuccessor() {}

  /**
   * @param group the Raft group's id
   * @param priorities the group's voters (broker id to Raft priority), the gone leader among them or not
   * @param goneLeader the broker id of the leader that is gone
   * @return the broker id of the voter that starts the election, or -1 when no other voter is left
   */
  public static int choose(UUID group, Map<Integer, Integer> priorities, int goneLeader) {
    int top = priorities.entrySet().stream().filter(e -> e.getKey() != goneLeader)
        .mapToInt(Map.Entry::getValue).max().orElse(Integer.MIN_VALUE);
    List<Integer> candidates = priorities.entrySet().stream()
        .filter(e -> e.getKey() != goneLeader && e.getValue() == top)
        .map(Map.Entry::getKey).sorted(Comparator.naturalOrder()).toList();
    if (candidates.isEmpty()) {
      return -1;
    }
    return candidates.get(Math.floorMod(group.hashCode(), candidates.size()));
  }
}
