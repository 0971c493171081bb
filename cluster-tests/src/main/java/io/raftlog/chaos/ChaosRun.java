package io.raftlog.chaos;

import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.CommittedOffset;
import io.raftlog.client.GroupDescription;
import io.raftlog.client.PartitionInfo;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.TopicAlreadyExistsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One fault-injection run: start a cluster, create the topic, run the workload while the schedule's
 * faults are injected and healed, let it recover, read everything back, compare the replicas, check.
 */
public final class ChaosRun {

  /**
   * Outcome of a run.
   *
   * @param groupProblem null when the run had no group members or the group caught up (committed
   *     every partition's end offset in time); else what was missing
   */
  public record Result(CheckResult check, long faultMs, int faultsInjected, List<String> skipped,
      boolean recoveredInTime, String recoveryDetail, Path dir, String groupProblem) {

    public boolean passed() {
      return check.passed() && recoveredInTime && groupProblem == null;
    }
  }

  static final String TOPIC = "chaos";
  /** The consumer group of the group members. */
  static final String GROUP = "chaos-group";
  /** How long the group may take, after the producers stopped, to commit every partition's end offset. */
  private static final Duration GROUP_CATCH_UP = Duration.ofSeconds(60);
  private static final long QUIET_MIN_MS = 1_000;
  private static final long QUIET_MAX_MS = 3_000;
  private static final Duration WARMUP = Duration.ofSeconds(2);
  /** Load after the recovery check, so the end of the run is measured under load too. */
  private static final Duration COOLDOWN = Duration.ofSeconds(2);

  private final ChaosOptions options;

  public ChaosRun(ChaosOptions options) {
    this.options = options;
  }

  public Result run() throws InterruptedException {
    List<String> skipped = new ArrayList<>();
    List<FaultKind> faults = new ArrayList<>(options.faults());
    boolean netns = options.networkNamespaces();
    if (netns) {
      Optional<String> why = NetworkNamespaces.unavailableReason();
      if (why.isPresent()) {
        netns = false;
        for (FaultKind k : options.faults()) {
          if (k.needsNetworkNamespaces()) {
            faults.remove(k);
            skipped.add(k.cliName() + " (" + why.get() + ")");
          }
        }
        System.out.println("network namespaces unavailable: " + why.get() + "; SKIPPING network faults: " + skipped);
      }
    }
    if (options.groupMembers() == 0 && faults.removeIf(FaultKind::needsGroupMembers)) {
      skipped.add(FaultKind.KILL_MEMBER.cliName() + " (no group members: --group-members N)");
      System.out.println("no group members; SKIPPING " + FaultKind.KILL_MEMBER.cliName());
    }
    createDirectories(options.dir());
    System.out.printf("seed=%d faults=%s duration=%ds brokers=%d partitions=%d group-members=%d netns=%s dir=%s%n",
        options.seed(), faults.stream().map(FaultKind::cliName).toList(), options.duration().toSeconds(),
        options.brokers(), options.partitions(), options.groupMembers(), netns, options.dir());

    LocalCluster cluster = new LocalCluster(options.repoRoot(), options.dir().resolve("cluster"));
    GroupMembers[] members = new GroupMembers[1];
    // Ctrl-C must not leave brokers, group members, paused processes or network namespaces behind.
    Thread cleanup = new Thread(() -> {
      if (members[0] != null) {
        members[0].close();
      }
      if (!options.keepCluster()) {
        cluster.close();
      }
    }, "chaos-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try (History history = new History(options.dir().resolve("history.jsonl"))) {
      cluster.start(options.brokers(), netns, options.brokerConfig());
      List<String> bootstrap = cluster.bootstrap();
      try (Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(bootstrap).requestTimeoutMs(5_000)
          .build())) {
        createTopic(admin);
        Workload workload = new Workload(TOPIC, options.partitions(), bootstrap, options.workload(), history);
        workload.start();
        history.add(new Event.Phase(history.now(), "workload-start", ""));
        if (options.groupMembers() > 0) {
          members[0] = new GroupMembers(options.dir().resolve("members"), bootstrap, TOPIC, GROUP, history);
          members[0].startAll(options.groupMembers());
          awaitGroupFormed(admin, history);
        }
        pause(WARMUP);

        Nemeses nemeses = new Nemeses(cluster, admin, TOPIC, history, members[0]);
        long faultMs = 0;
        int injected = 0;
        long faultDeadline = System.nanoTime() + options.duration().toNanos();
        if (!faults.isEmpty()) {
          Schedule schedule = new Schedule(options.seed(), faults, options.partitions(), QUIET_MIN_MS, QUIET_MAX_MS);
          try {
            while (System.nanoTime() < faultDeadline && (options.maxFaults() == 0 || injected < options.maxFaults())) {
              Schedule.Step step = schedule.next();
              pause(Duration.ofMillis(step.quietMs()));
              faultMs += nemeses.apply(step);
              injected++;
            }
          } finally {
            nemeses.healAll(netns);
          }
        }
        long lastHeal = history.now();
        String recovery = awaitRecovery(history, lastHeal);
        pause(COOLDOWN);
        history.add(new Event.Phase(history.now(), "workload-end", ""));
        boolean drained = workload.stopProducers();
        if (!drained) {
          System.out.println("warning: " + workload.outstanding() + " sends neither acknowledged nor failed at the end");
        }
        FinalRead.Result finalRead = FinalRead.read(bootstrap, TOPIC, options.partitions(), Duration.ofSeconds(60));
        history.add(new Event.Phase(history.now(), "final-read", "end offsets " + finalRead.ends()));
        String groupProblem = null;
        Checker.GroupObservations group = null;
        if (members[0] != null) {
          groupProblem = awaitGroupCaughtUp(admin, finalRead.ends(), history);
          members[0].stopAll();
          Map<Integer, Long> committed = committedOffsets(admin);
          history.add(new Event.Phase(history.now(), "group-offsets", "committed offsets " + committed));
          group = new Checker.GroupObservations(members[0].readAll(), committed);
        }
        workload.stopConsumers();
        List<String> replicaProblems = ReplicaComparison.compare(cluster.brokers(), bootstrap, TOPIC, finalRead.ends(),
            Duration.ofSeconds(30));
        CheckResult check = Checker.check(history.events(), finalRead.records(), finalRead.ends(), replicaProblems,
            group);
        Result result = new Result(check, faultMs, injected, skipped, recovery == null, recovery, options.dir(),
            groupProblem);
        writeSummary(result);
        return result;
      }
    } finally {
      boolean shuttingDown = false;
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        shuttingDown = true; // the hook runs and stops the cluster
      }
      if (!shuttingDown) {
        if (members[0] != null) {
          members[0].close();
        }
        if (!options.keepCluster()) {
          cluster.close();
        }
      }
    }
  }

  private void createTopic(Admin admin) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int rf = Math.min(3, options.brokers());
    FinalRead.retry(deadline, "topic " + TOPIC + " created", a -> {
      try {
        a.blocking().createTopic(TOPIC, options.partitions(), rf);
      } catch (TopicAlreadyExistsException e) {
        // an earlier attempt got through
      }
      return null;
    }, admin);
    FinalRead.retry(deadline, "a leader for every partition of " + TOPIC, a -> {
      for (PartitionInfo p : a.blocking().describeTopic(TOPIC).partitions()) {
        if (p.leader() < 0) {
          throw new IllegalStateException("partition " + p.partition() + " has no leader yet");
        }
      }
      return null;
    }, admin);
  }

  /**
   * Waits (up to 60 s) until every member has been assigned partitions, so faults hit a working
   * group; goes on with a warning otherwise (the checks will tell what that cost).
   */
  private void awaitGroupFormed(Admin admin, History history) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int assigned = 0;
    while (System.nanoTime() < deadline) {
      try {
        GroupDescription d = admin.blocking().describeGroup(GROUP);
        assigned = (int) d.members().stream().filter(m -> !m.assignment().isEmpty()).count();
        if (assigned >= Math.min(options.groupMembers(), options.partitions())) {
          System.out.printf("[%6.1fs] group %s formed: %d members, epoch %d%n", history.now() / 1000.0, GROUP,
              d.members().size(), d.groupEpoch());
          history.add(new Event.Phase(history.now(), "group-formed", d.members().size() + " members, epoch "
              + d.groupEpoch()));
          return;
        }
      } catch (RuntimeException e) {
        // the group does not exist yet, or the coordinator is busy
      }
      pause(Duration.ofMillis(200)); // polling the group's state, with a deadline
    }
    System.out.println("warning: only " + assigned + " of " + options.groupMembers()
        + " group members had partitions 60 s after they started");
  }

  /**
   * After the producers stopped: waits until the group has committed every partition's end offset
   * (all of it processed). Returns null when it did within {@link #GROUP_CATCH_UP}, else which
   * partitions lagged.
   */
  private String awaitGroupCaughtUp(Admin admin, Map<Integer, Long> ends, History history) {
    long start = history.now();
    long deadline = System.nanoTime() + GROUP_CATCH_UP.toNanos();
    Map<Integer, Long> committed = Map.of();
    while (true) {
      try {
        committed = ofTopic(admin.blocking().listGroupOffsets(GROUP));
      } catch (RuntimeException e) {
        // coordinator busy or moving: ask again
      }
      Map<Integer, String> behind = new TreeMap<>();
      for (Map.Entry<Integer, Long> e : ends.entrySet()) {
        long c = committed.getOrDefault(e.getKey(), 0L);
        if (c < e.getValue()) {
          behind.put(e.getKey(), "committed " + (committed.containsKey(e.getKey()) ? c : "none") + " of "
              + e.getValue());
        }
      }
      if (behind.isEmpty()) {
        System.out.printf("[%6.1fs] group %s committed every partition's end offset %d ms after the final read%n",
            history.now() / 1000.0, GROUP, history.now() - start);
        history.add(new Event.Phase(history.now(), "group-caught-up", "after " + (history.now() - start) + " ms"));
        return null;
      }
      if (System.nanoTime() > deadline) {
        String why = "the group did not commit every partition's end offset within " + GROUP_CATCH_UP.toSeconds()
            + " s: " + behind;
        System.out.println("GROUP DID NOT CATCH UP: " + why);
        history.add(new Event.Phase(history.now(), "group-not-caught-up", why));
        return why;
      }
      pause(Duration.ofMillis(200)); // polling the committed offsets, with a deadline
    }
  }

  /** The group's committed offsets of the test topic by partition, asked until an answer comes (60 s). */
  private static Map<Integer, Long> committedOffsets(Admin admin) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    return ofTopic(FinalRead.retry(deadline, "the committed offsets of group " + GROUP,
        g -> admin.blocking().listGroupOffsets(g), GROUP));
  }

  private static Map<Integer, Long> ofTopic(Map<TopicPartition, CommittedOffset> offsets) {
    Map<Integer, Long> out = new TreeMap<>();
    offsets.forEach((tp, o) -> {
      if (tp.topic().equals(TOPIC)) {
        out.put(tp.partition(), o.offset());
      }
    });
    return out;
  }

  /**
   * Waits until every partition had an acknowledged write after {@code since}. Returns null when
   * it did within the recovery bound, else which partitions did not.
   */
  private String awaitRecovery(History history, long since) {
    long deadline = System.nanoTime() + options.recoveryBound().toNanos();
    while (true) {
      List<Integer> waiting = new ArrayList<>();
      for (int p = 0; p < options.partitions(); p++) {
        waiting.add(p);
      }
      for (Event e : history.events()) {
        if (e instanceof Event.Ack a && a.t() >= since) {
          waiting.remove(Integer.valueOf(a.partition()));
        }
      }
      if (waiting.isEmpty()) {
        System.out.printf("[%6.1fs] every partition acknowledged a write %d ms after the last heal%n",
            history.now() / 1000.0, history.now() - since);
        return null;
      }
      if (System.nanoTime() > deadline) {
        String why = "partitions " + waiting + " acknowledged no write within " + options.recoveryBound().toSeconds()
            + " s after the last heal";
        System.out.println("RECOVERY FAILED: " + why);
        return why;
      }
      pause(Duration.ofMillis(100)); // polling the history for acknowledgments, with a deadline
    }
  }

  private void writeSummary(Result r) {
    CheckResult c = r.check();
    StringBuilder sb = new StringBuilder();
    sb.append("seed: ").append(options.seed()).append('\n');
    sb.append("faults: ").append(options.faults().stream().map(FaultKind::cliName).toList()).append('\n');
    sb.append("skipped faults: ").append(r.skipped().isEmpty() ? "none" : r.skipped()).append('\n');
    sb.append("faults injected: ").append(r.faultsInjected()).append(", fault time: ").append(r.faultMs())
        .append(" ms\n");
    sb.append("brokers: ").append(options.brokers()).append(", partitions: ").append(options.partitions())
        .append(", producers: ").append(options.workload().producers()).append(", consumers: ")
        .append(options.workload().consumers()).append('\n');
    sb.append("acked: ").append(c.acked()).append(", failed (indeterminate): ").append(c.failed()).append('\n');
    sb.append("lost: ").append(c.lost()).append('\n');
    sb.append("duplicate: ").append(c.duplicate()).append('\n');
    sb.append("inconsistent: ").append(c.inconsistent()).append('\n');
    sb.append("nonmonotonic: ").append(c.nonmonotonic()).append('\n');
    sb.append("mismatch: ").append(c.mismatch()).append('\n');
    sb.append("max unavailable: ").append(c.maxUnavailableMs()).append(" ms\n");
    sb.append("max recovery after heal: ").append(c.maxRecoveryMs()).append(" ms\n");
    sb.append("recovery within ").append(options.recoveryBound().toSeconds()).append(" s: ")
        .append(r.recoveredInTime() ? "yes" : "NO (" + r.recoveryDetail() + ")").append('\n');
    if (c.group() != null) {
      CheckResult.GroupCounts g = c.group();
      sb.append("group members: ").append(options.groupMembers()).append(" at a time, ").append(g.members())
          .append(" processes in all; records processed: ").append(g.processed()).append(" (").append(g.reprocessed())
          .append(" of them again), commits: ").append(g.commits()).append('\n');
      sb.append("group caught up within ").append(GROUP_CATCH_UP.toSeconds()).append(" s: ")
          .append(r.groupProblem() == null ? "yes" : "NO (" + r.groupProblem() + ")").append('\n');
      sb.append("unprocessed: ").append(g.unprocessed()).append('\n');
      sb.append("double_owner: ").append(g.doubleOwner()).append('\n');
      sb.append("offset_regressions: ").append(g.offsetRegressions()).append('\n');
    }
    if (!c.examples().isEmpty()) {
      sb.append("anomalies (first ").append(c.examples().size()).append("):\n");
      c.examples().forEach(e -> sb.append("  ").append(e).append('\n'));
    }
    sb.append("result: ").append(r.passed() ? "PASS" : "FAIL").append('\n');
    try {
      Files.writeString(options.dir().resolve("summary.txt"), sb.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.out.print(sb);
  }

  private static void pause(Duration d) {
    LockSupport.parkNanos(d.toNanos()); // load runs for this long by design
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
