package io.raftlog.statemachine.metadata;

import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Replica sets of partitions under reassignment, and the plans that change them: a new
 * replication factor for a topic, or moving every replica off a broker (decommission). Plans are
 * deterministic: the same metadata gives the same plan on any broker.
 *
 * <p>While a partition is being reassigned its assignment has both {@code replicas} (the members
 * when the reassignment started) and {@code target_replicas}; {@link #effective} is what the
 * partition is heading for, {@link #hosts} every broker that must keep a replica meanwhile.
 */
public final class ReplicaPlans {

  private ReplicaPlans() {}

  /** The replicas a partition is heading for: the target while reassigning, else its replicas. */
  public static List<Integer> effective(ReplicaAssignment a) {
    return a.getTargetReplicasCount() > 0 ? a.getTargetReplicasList() : a.getReplicasList();
  }

  /** Whether a broker must host a replica of the partition: a current or a target replica. */
  public static boolean hosts(ReplicaAssignment a, int brokerId) {
    return a.getReplicasList().contains(brokerId) || a.getTargetReplicasList().contains(brokerId);
  }

  /** Null when {@code replicas} is a valid replica list (non-empty, distinct, registered brokers). */
  public static String checkReplicas(List<Integer> replicas, Set<Integer> registeredBrokers) {
    if (replicas.isEmpty()) {
      return "a partition needs at least one replica";
    }
    if (new HashSet<>(replicas).size() != replicas.size()) {
      return "replicas " + replicas + " name a broker twice";
    }
    for (int b : replicas) {
      if (!registeredBrokers.contains(b)) {
        return "broker " + b + " is not registered";
      }
    }
    return null;
  }

  /** How many replicas (effective ones) each broker holds over all topics; brokers with none count 0. */
  public static Map<Integer, Integer> load(Collection<TopicRecord> topics, Collection<Integer> brokers) {
    Map<Integer, Integer> load = new TreeMap<>();
    brokers.forEach(b -> load.put(b, 0));
    for (TopicRecord t : topics) {
      for (ReplicaAssignment a : t.getAssignmentsList()) {
        effective(a).forEach(b -> load.merge(b, 1, Integer::sum));
      }
    }
    return load;
  }

  /**
   * Target replicas of every partition of a topic for a new replication factor. Shrinking drops
   * replicas from the end (the preferred leader stays); growing appends the least loaded
   * candidates not yet in the set (ties to the lower id), counting each choice toward the load.
   *
   * @param candidates brokers that may take new replicas (live, not decommissioned)
   * @param load replicas per broker, as from {@link #load}; updated with the plan's choices
   * @return per partition, its new replica list; partitions that keep theirs are included unchanged
   * @throws IllegalArgumentException when the factor is below 1 or there are too few candidates
   */
  public static List<List<Integer>> changeReplicationFactor(List<List<Integer>> current, int replicationFactor,
      Collection<Integer> candidates, Map<Integer, Integer> load) {
    if (replicationFactor < 1) {
      throw new IllegalArgumentException("replication factor must be at least 1, got " + replicationFactor);
    }
    List<List<Integer>> plan = new ArrayList<>();
    for (int p = 0; p < current.size(); p++) {
      List<Integer> replicas = new ArrayList<>(current.get(p));
      while (replicas.size() > replicationFactor) {
        int dropped = replicas.remove(replicas.size() - 1);
        load.merge(dropped, -1, Integer::sum);
      }
      while (replicas.size() < replicationFactor) {
        Integer pick = leastLoaded(candidates, replicas, load);
        if (pick == null) {
          throw new IllegalArgumentException("replication factor " + replicationFactor + " needs "
              + replicationFactor + " brokers that can take replicas; partition " + p + " can only use "
              + new LinkedHashSet<>(concat(replicas, candidates)));
        }
        replicas.add(pick);
        load.merge(pick, 1, Integer::sum);
      }
      plan.add(List.copyOf(replicas));
    }
    return plan;
  }

  /**
   * Target replicas that move every replica off {@code broker}: each is replaced, at the same
   * position (so a preferred leader's replacement becomes the preferred leader), by the least
   * loaded candidate not already a replica.
   *
   * @return per partition, its new replica list (unchanged where the broker held no replica)
   * @throws IllegalArgumentException when some partition has no candidate left to take the replica
   */
  public static List<List<Integer>> withoutBroker(List<List<Integer>> current, int broker,
      Collection<Integer> candidates, Map<Integer, Integer> load) {
    List<Integer> others = candidates.stream().filter(b -> b != broker).toList();
    List<List<Integer>> plan = new ArrayList<>();
    for (int p = 0; p < current.size(); p++) {
      List<Integer> replicas = new ArrayList<>(current.get(p));
      int at = replicas.indexOf(broker);
      if (at >= 0) {
        Integer pick = leastLoaded(others, replicas, load);
        if (pick == null) {
          throw new IllegalArgumentException("partition " + p + " with replicas " + current.get(p)
              + " has no other broker to move the replica of broker " + broker + " to (replication factor "
              + replicas.size() + ", brokers that can take replicas: " + others + ")");
        }
        replicas.set(at, pick);
        load.merge(pick, 1, Integer::sum);
        load.merge(broker, -1, Integer::sum);
      }
      plan.add(List.copyOf(replicas));
    }
    return plan;
  }

  private static Integer leastLoaded(Collection<Integer> candidates, List<Integer> exclude, Map<Integer, Integer> load) {
    return candidates.stream().filter(b -> !exclude.contains(b))
        .min(Comparator.<Integer>comparingInt(b -> load.getOrDefault(b, 0)).thenComparing(b -> b))
        .orElse(null);
  }

  private static List<Integer> concat(List<Integer> a, Collection<Integer> b) {
    List<Integer> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
