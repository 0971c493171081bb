package io.raftlog.broker.raft;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Which surviving voter of a Raft group starts an election at once when the broker that led the
 * group is gone ({@link LeaderGoneElections}). Exactly one: two candidates starting together split
 * the vote and both wait out a full election timeout.
 *
 * <p>Ratis' voters (its {@code VoteContext}) grant their vote to a candidate whose log is longer
 * than their own whatever the priorities, refuse one whose log is shorter, and between equal logs
 * refuse a candidate of lower priority than their own (the preferred leader has 2, a repairing
 * replica 0, see {@code partition.LeadershipGuard}). So the successor is a survivor with the
 * longest log, then the highest priority; among equals the group id picks, which spreads the new
 * leaderships over the brokers. Every survivor computes the same answer from the same inputs.
 */
public final class ElectionSuccessor {

  private ElectionSuccessor() {}

  /** The last entry of a Raft log, ordered as Raft compares logs: by term, then by index. */
  public record LastEntry(long term, long index) implements Comparable<LastEntry> {
    @Override
    public int compareTo(LastEntry o) {
      return term != o.term ? Long.compare(term, o.term) : Long.compare(index, o.index);
    }

    @Override
    public String toString() {
      return "(t:" + term + ", i:" + index + ")";
    }
  }

  /**
   * The successor by priority and group id alone, for when the survivors' logs are not known.
   *
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

  /**
   * The successor by log first: when {@code lastEntries} holds the last entry of every surviving
   * voter, only the survivors with the longest log are candidates; otherwise (a survivor did not
   * answer) the logs are not considered and {@link #choose(UUID, Map, int)} decides.
   *
   * @param lastEntries broker id to the last entry of its log of this group
   */
  public static int choose(UUID group, Map<Integer, Integer> priorities, int goneLeader,
      Map<Integer, LastEntry> lastEntries) {
    List<Integer> survivors = priorities.keySet().stream().filter(id -> id != goneLeader).toList();
    if (survivors.isEmpty() || !lastEntries.keySet().containsAll(survivors)) {
      return choose(group, priorities, goneLeader);
    }
    LastEntry longest = survivors.stream().map(lastEntries::get).max(Comparator.naturalOrder()).orElseThrow();
    Map<Integer, Integer> longestLogs = survivors.stream().filter(id -> lastEntries.get(id).equals(longest))
        .collect(Collectors.toMap(id -> id, priorities::get));
    return choose(group, longestLogs, goneLeader);
  }
}
