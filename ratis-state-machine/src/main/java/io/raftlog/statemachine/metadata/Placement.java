package io.raftlog.statemachine.metadata;

import java.util.ArrayList;
import java.util.List;

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
}
