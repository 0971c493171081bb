package io.raftlog.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault-injection scenarios in their short form (CI). Each starts its own cluster of real
 * broker processes, so a failure leaves its history.jsonl and summary.txt in the test's temp dir
 * (printed). Longer mixes: scripts/chaos.sh --minutes M --seed S.
 *
 * <p>Seeds are fixed so a failure reproduces with {@code scripts/chaos.sh --seed S --faults ...}.
 */
class ChaosScenariosTest {

  /** Kept when a test fails, so its history, summary and broker logs can be read. */
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path tmp;

  @BeforeAll
  static void brokerBuilt() {
    Path target = repoRoot().resolve("broker-node/target");
    Assumptions.assumeTrue(Files.isRegularFile(target.resolve("raftlog-broker-node-0.1.0-SNAPSHOT.jar"))
        && Files.isDirectory(target.resolve("lib")), "broker-node is not packaged: run `mvn verify`");
  }

  static Path repoRoot() {
    return Path.of(System.getProperty("raftlog.repo.root", "..")).toAbsolutePath().normalize();
  }

  private ChaosOptions scenario(long seed, List<FaultKind> faults, int maxFaults) {
    return ChaosOptions.defaults(seed, faults, Duration.ofMinutes(10), repoRoot(), tmp.resolve("run"))
        .withMaxFaults(maxFaults);
  }

  private static void assertPassed(ChaosRun.Result r) {
    if (!r.passed()) {
      // CI keeps only the test output, not the temp dir: print what explains most failures.
      System.out.println(BrokerLogDigest.of(r.dir().resolve("cluster"), 80));
    }
    String summary = readSummary(r.dir());
    assertTrue(r.passed(), "chaos scenario failed; history and logs in " + r.dir() + "\n" + summary);
  }

  private static void assumeNamespaces() {
    Assumptions.assumeTrue(NetworkNamespaces.unavailableReason().isEmpty(),
        () -> "network namespaces unavailable, network scenario skipped: "
            + NetworkNamespaces.unavailableReason().orElse(""));
  }

  /** Scenario 1: the leader of each partition is SIGKILLed and restarted five times, under load. */
  @Test
  void leaderHardBounceFiveTimesPerPartition() throws Exception {
    ChaosRun.Result r = new ChaosRun(scenario(101, List.of(FaultKind.KILL_LEADER), 10).withPartitions(2)).run();
    assertEquals(10, r.faultsInjected());
    assertPassed(r);
  }

  /**
   * Scenario 2: the leader is cut off in a minority (alone, and in a majority/minority split and a
   * bridge); clients still reach it, so an acknowledgment from the minority would show as lost.
   */
  @Test
  void leaderIsolatedInMinorityThenHealed() throws Exception {
    assumeNamespaces();
    ChaosRun.Result r = new ChaosRun(scenario(202, List.of(FaultKind.ISOLATE_LEADER, FaultKind.SPLIT,
        FaultKind.BRIDGE), 3)).run();
    assertPassed(r);
  }

  /** Scenario 3: the leader is SIGSTOPped past the election timeout, then resumed. */
  @Test
  void leaderPausedPastElectionTimeout() throws Exception {
    ChaosRun.Result r = new ChaosRun(scenario(303, List.of(FaultKind.PAUSE_LEADER), 3)).run();
    assertPassed(r);
  }

  /** Scenario 4: the leader's responses are dropped, then it is killed: producers retry on the new leader. */
  @Test
  void droppedProduceResponsesAndRetriesAcrossLeaderChange() throws Exception {
    assumeNamespaces();
    ChaosRun.Result r = new ChaosRun(scenario(404, List.of(FaultKind.DROP_RESPONSES), 2)).run();
    assertPassed(r);
  }

  /**
   * Scenario 5: a follower's newest segment file is truncated or gets a flipped bit while it is down,
   * or its whole replica is deleted (a lost disk). Snapshots are taken often so the damage usually
   * lies below the snapshot (not replayable from the Raft log): it must be repaired, or the replica
   * rebuilt, from another replica, and the replica comparison checks the result. Seed 505 draws
   * wipe-follower three times (one per partition), then corrupt-follower.
   */
  @Test
  void corruptedFollowerSegmentTailIsRepaired() throws Exception {
    ChaosRun.Result r = new ChaosRun(scenario(505, List.of(FaultKind.CORRUPT_FOLLOWER, FaultKind.WIPE_FOLLOWER), 4)
        .withBrokerConfig(List.of("raft.snapshot.threshold.entries=100"))).run();
    assertPassed(r);
  }

  /**
   * Scenario 6: three consumer-group member processes share a 6-partition topic, committing after
   * each batch; members are SIGKILLed mid-batch (processed, not committed) and replaced, and the
   * coordinator's broker is SIGKILLed and restarted. Every acknowledged record must be processed
   * by some member, successfully committed offsets must survive, and no partition may have two
   * owners at one member epoch. Seed 606 draws kill-member three times and kill-coordinator twice.
   */
  @Test
  void groupMembersAndCoordinatorKilledMidBatch() throws Exception {
    ChaosRun.Result r = new ChaosRun(scenario(606, List.of(FaultKind.KILL_MEMBER, FaultKind.KILL_COORDINATOR), 5)
        .withPartitions(6).withGroupMembers(3)).run();
    assertEquals(5, r.faultsInjected());
    assertNotNull(r.check().group(), "the group checks ran");
    assertTrue(r.check().group().processed() >= r.check().acked(), r.check().toString());
    assertPassed(r);
  }

  /** Scenario 7: every broker is SIGKILLed at once and started again. */
  @Test
  void fullClusterKillAndRestart() throws Exception {
    ChaosRun.Result r = new ChaosRun(scenario(707, List.of(FaultKind.KILL_ALL), 2)).run();
    assertPassed(r);
  }

  /**
   * Scenario 8: membership changes under kills. Each fault reassigns a partition to its replicas
   * minus one while its leader is SIGKILLed and restarted, then back with the removed broker first
   * (it rejoins empty and catches up from a peer's snapshot, snapshots being frequent) while a
   * random broker is SIGKILLed and restarted; each move must complete, and the replica comparison
   * checks the rebuilt replicas. Seed 808, one fault on partition 0 (two membership changes, two
   * kills; `scripts/chaos.sh --seed 808 --faults reassign --max-faults 2` runs partition 1 too).
   */
  @Test
  void membershipChangesUnderKills() throws Exception {
    ChaosRun.Result r = new ChaosRun(scenario(808, List.of(FaultKind.REASSIGN), 1)
        .withBrokerConfig(List.of("raft.snapshot.threshold.entries=100"))).run();
    assertEquals(1, r.faultsInjected());
    assertPassed(r);
  }

  private static String readSummary(Path dir) {
    try {
      return Files.readString(dir.resolve("summary.txt"));
    } catch (java.io.IOException e) {
      return "(no summary: " + e + ")";
    }
  }
}
