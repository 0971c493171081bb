package io.raftlog.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Settings of one chaos run.
 *
 * @param seed seeds the fault schedule (printed, so a run can be repeated)
 * @param faults the fault kinds to draw from
 * @param duration how long to keep injecting faults (the run stops at whichever of this and
 *     {@code maxFaults} comes first)
 * @param maxFaults stop after this many faults (0 = no limit)
 * @param brokers cluster size (3 or 5)
 * @param partitions partitions of the test topic (replication factor 3)
 * @param workload the producers' and consumers' settings
 * @param networkNamespaces run every broker in its own network namespace (needed by network faults)
 * @param brokerConfig extra broker.properties lines key=value for every broker
 * @param recoveryBound every partition must accept an acks=all write within this time after the last heal
 * @param repoRoot the checkout holding scripts/cluster.sh and the built broker
 * @param dir the run's directory: cluster data and logs, history.jsonl, summary.txt
 * @param keepCluster leave the brokers running at the end (for inspection)
 * @param groupMembers consumer-group member processes ({@link GroupMemberMain}) consuming the test
 *     topic as one group; 0 = none (then {@code kill-member} is skipped and no group checks run)
 */
public record ChaosOptions(long seed, List<FaultKind> faults, Duration duration, int maxFaults, int brokers,
    int partitions, Workload.Settings workload, boolean networkNamespaces, List<String> brokerConfig,
    Duration recoveryBound, Path repoRoot, Path dir, boolean keepCluster, int groupMembers) {

  /** Defaults: 3 brokers, 3 partitions, 3 producers at 100 records/s each, 2 following consumers. */
  public static ChaosOptions defaults(long seed, List<FaultKind> faults, Duration duration, Path repoRoot, Path dir) {
    boolean netns = faults.stream().anyMatch(FaultKind::needsNetworkNamespaces);
    return new ChaosOptions(seed, faults, duration, 0, 3, 3, new Workload.Settings(3, 2, 100, 20, 30_000), netns,
        List.of(), Duration.ofSeconds(30), repoRoot, dir, false, 0);
  }

  public ChaosOptions withMaxFaults(int n) {
    return new ChaosOptions(seed, faults, duration, n, brokers, partitions, workload, networkNamespaces, brokerConfig,
        recoveryBound, repoRoot, dir, keepCluster, groupMembers);
  }

  public ChaosOptions withPartitions(int n) {
    return new ChaosOptions(seed, faults, duration, maxFaults, brokers, n, workload, networkNamespaces, brokerConfig,
        recoveryBound, repoRoot, dir, keepCluster, groupMembers);
  }

  public ChaosOptions withBrokers(int n) {
    return new ChaosOptions(seed, faults, duration, maxFaults, n, partitions, workload, networkNamespaces, brokerConfig,
        recoveryBound, repoRoot, dir, keepCluster, groupMembers);
  }

  public ChaosOptions withBrokerConfig(List<String> config) {
    return new ChaosOptions(seed, faults, duration, maxFaults, brokers, partitions, workload, networkNamespaces,
        List.copyOf(config), recoveryBound, repoRoot, dir, keepCluster, groupMembers);
  }

  public ChaosOptions withKeepCluster(boolean keep) {
    return new ChaosOptions(seed, faults, duration, maxFaults, brokers, partitions, workload, networkNamespaces,
        brokerConfig, recoveryBound, repoRoot, dir, keep, groupMembers);
  }

  public ChaosOptions withGroupMembers(int n) {
    return new ChaosOptions(seed, faults, duration, maxFaults, brokers, partitions, workload, networkNamespaces,
        brokerConfig, recoveryBound, repoRoot, dir, keepCluster, n);
  }
}
