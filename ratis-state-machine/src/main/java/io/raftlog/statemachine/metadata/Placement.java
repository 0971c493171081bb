package io.raftlog.statemachine.metadata;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Replica placement: spreads replicas, and first replicas (the preferred leaders), evenly over the
 * brokers, round-robin like Kafka's rack-unaware assignment.
 *
 * <p>Partition p gets brokers {@code [s+p, s+p+1, ..., s+p+rf-1] (mod n)} of the sorted broker list,
 * where s is a start index that moves with each topic so that first partitions of different topics
 * do not all land on the same broker. With 3 brokers, 3 partitions and RF 3, each broker is the
 * first replica of exactly one partition.
 */
public final class Placement {

  private Placement() {}

  /**
   * @param brokerIds the candidate brokers, sorted ascending, without duplicates
   * @param startIndex any non-negative number; the same inputs always give the same placement
   * @return for each partition, its replicas with the preferred leader first
   */
  public static List<List<Integer>> assign(int partitions, int replicationFactor, List<Integer> brokerIds,
      int startIndex) {
    int n = brokerIds.size();
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    if (replicationFactor < 1 || replicationFactor > n) {
      throw new IllegalArgumentException("replication factor " + replicationFactor
          + " must be between 1 and the number of live brokers (" + n + ")");
    }
    List<List<Integer>> result = new ArrayList<>(partitions);
    for (int p = 0; p < partitions; p++) {
      List<Integer> replicas = new ArrayList<>(replicationFactor);
      for (int j = 0; j < replicationFactor; j++) {
        // long arithmetic: startIndex + p + j must not overflow for a large startIndex
        replicas.add(brokerIds.get((int) Math.floorMod((long) startIndex + p + j, (long) n)));
      }
      result.add(List.copyOf(replicas));
    }
    return List.copyOf(result);
  }

  /**
   * Placement of partitions added to an existing topic (partitions {@code existing.size()} to
   * {@code totalCount - 1}): the same round-robin as {@link #assign}, with the start index chosen so
   * that the topic's preferred leaders, then its replicas, end up as evenly spread over
   * {@code brokerIds} as a round-robin can make them.
   *
   * <p>Each of the n possible start indexes is scored by the sum of squares of the per-broker
   * counts of first replicas (then of all replicas) of the whole topic after the addition; the
   * lowest wins. Ties go to the start that continues the topic's own round-robin (the start at which
   * {@link #assign} would have placed the first existing partition whose preferred leader is among
   * {@code brokerIds}), as Kafka does when it adds partitions: a topic placed by {@link #assign} on
   * the same brokers with a replication factor of 1 or of every broker grows exactly as if it had
   * been created with {@code totalCount} partitions. With other replication factors another start
   * may win because it spreads the replicas better. A topic whose preferred leaders were even
   * (at most one apart per broker) stays so; one whose brokers changed or whose leaders were
   * skewed gets its new leaders on the brokers that lead the fewest of its partitions.
   *
   * @param existing the topic's current assignments, partition 0 first, preferred leader first
   * @param brokerIds the candidate brokers, sorted ascending, without duplicates
   * @return for each new partition, in order, its replicas with the preferred leader first
   */
  public static List<List<Integer>> assignAdded(List<List<Integer>> existing, int totalCount, int replicationFactor,
      List<Integer> brokerIds) {
    int n = brokerIds.size();
    if (totalCount <= existing.size()) {
      throw new IllegalArgumentException("the new partition count " + totalCount
          + " must be larger than the current one (" + existing.size() + ")");
    }
    if (replicationFactor < 1 || replicationFactor > n) {
      throw new IllegalArgumentException("replication factor " + replicationFactor
          + " must be between 1 and the number of live brokers (" + n + ")");
    }
    int added = totalCount - existing.size();
    int continuation = 0;
    for (int p = 0; p < existing.size(); p++) {
      int at = existing.get(p).isEmpty() ? -1 : brokerIds.indexOf(existing.get(p).get(0));
      if (at >= 0) {
        continuation = Math.floorMod(at - p, n);
        break;
      }
    }
    Map<Integer, Integer> leaders = new HashMap<>();
    Map<Integer, Integer> replicas = new HashMap<>();
    for (List<Integer> a : existing) {
      if (!a.isEmpty()) {
        leaders.merge(a.get(0), 1, Integer::sum);
      }
      a.forEach(b -> replicas.merge(b, 1, Integer::sum));
    }
    List<List<Integer>> best = null;
    long bestLeaderScore = Long.MAX_VALUE;
    long bestReplicaScore = Long.MAX_VALUE;
    for (int k = 0; k < n; k++) {
      int start = (continuation + k) % n;
      // Partition p of a topic placed from `start` goes to index start + p: begin at the first new one.
      List<List<Integer>> candidate = assign(added, replicationFactor, brokerIds, start + existing.size() % n);
      Map<Integer, Integer> l = new HashMap<>(leaders);
      Map<Integer, Integer> r = new HashMap<>(replicas);
      for (List<Integer> a : candidate) {
        l.merge(a.get(0), 1, Integer::sum);
        a.forEach(b -> r.merge(b, 1, Integer::sum));
      }
      long leaderScore = sumOfSquares(l, brokerIds);
      long replicaScore = sumOfSquares(r, brokerIds);
      if (leaderScore < bestLeaderScore || (leaderScore == bestLeaderScore && replicaScore < bestReplicaScore)) {
        best = candidate;
        bestLeaderScore = leaderScore;
        bestReplicaScore = replicaScore;
      }
    }
    return best;
  }

  private static long sumOfSquares(Map<Integer, Integer> counts, List<Integer> brokerIds) {
    long sum = 0;
    for (int b : brokerIds) {
      long c = counts.getOrDefault(b, 0);
      sum += c * c;
    }
    return sum;
  }
}
