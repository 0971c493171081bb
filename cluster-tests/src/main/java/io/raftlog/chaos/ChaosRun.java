package io.raftlog.chaos;

import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.PartitionInfo;
import io.raftlog.client.errors.TopicAlreadyExistsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One fault-injection run: start a cluster, create the topic, run the workload while the schedule's
 * faults are injected and healed, let it recover, read everything back, compare the replicas, check.
 */
public final class ChaosRun {

  /** Outcome of a run. */
  public record Result(CheckResult check, long faultMs, int faultsInjected, List<String> skipped,
      boolean recoveredInTime, String recoveryDetail, Path dir) {

    public boolean passed() {
      return check.passed() && recoveredInTime;
    }
  }

  static final String TOPIC = "chaos";
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
    createDirectories(options.dir());
    System.out.printf("seed=%d faults=%s duration=%ds brokers=%d partitions=%d netns=%s dir=%s%n", options.seed(),
        faults.stream().map(FaultKind::cliName).toList(), options.duration().toSeconds(), options.brokers(),
        options.partitions(), netns, options.dir());

    LocalCluster cluster = new LocalCluster(options.repoRoot(), options.dir().resolve("cluster"));
    // Ctrl-C must not leave brokers, paused processes or network namespaces behind.
    Thread cleanup = new Thread(() -> {
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
        pause(WARMUP);

        Nemeses nemeses = new Nemeses(cluster, admin, TOPIC, history);
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
        workload.stopConsumers();
        List<String> replicaProblems = ReplicaComparison.compare(cluster.brokers(), bootstrap, TOPIC, finalRead.ends(),
            Duration.ofSeconds(30));
        CheckResult check = Checker.check(history.events(), finalRead.records(), finalRead.ends(), replicaProblems);
        Result result = new Result(check, faultMs, injected, skipped, recovery == null, recovery, options.dir());
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
      if (!shuttingDown && !options.keepCluster()) {
        cluster.close();
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
