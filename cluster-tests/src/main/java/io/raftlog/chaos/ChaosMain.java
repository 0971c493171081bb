package io.raftlog.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code scripts/chaos.sh}: runs the fault-injection suite against the broker built in this checkout.
 * The last line printed is {@code seed=S lost=N duplicate=N inconsistent=N nonmonotonic=N
 * mismatch=N acked=N max_unavailable_ms=N}, followed by {@code unprocessed=N double_owner=N
 * offset_regressions=N} when consumer-group members ran ({@code --group-members}); the exit code
 * is 0 when nothing was found, 1 when an anomaly was (or a partition did not recover in time, or
 * the group did not catch up), 2 on bad arguments, 3 when the run itself could not be carried out.
 */
public final class ChaosMain {

  private static final String USAGE = """
      Usage: scripts/chaos.sh [--minutes M] [--seed S] [--faults F1,F2,...] [--brokers 3|5] [--partitions P]
                              [--producers N] [--rate R] [--max-faults N] [--dir DIR] [--keep]
                              [--broker-config KEY=VALUE]... [--group-members N]
        --minutes M      inject faults for M minutes (default 2; fractions allowed)
        --seed S         seed of the fault schedule (default: random, printed)
        --faults LIST    fault kinds to draw from (default: all). Kinds: %s
        --brokers N      brokers (default 3)
        --partitions P   partitions of the test topic, replication factor 3 (default 3)
        --producers N    idempotent acks=all producers (default 3), each sending --rate records/s (default 100)
        --max-faults N   stop after N faults (default: no limit)
        --dir DIR        where the cluster, history.jsonl and summary.txt go (default: a new temp dir)
        --keep           leave the cluster running at the end
        --broker-config  extra broker.properties line for every broker (repeatable)
        --group-members N  consumer-group member processes (separate JVMs) consuming the topic as group
                         "chaos-group", commitSync after each batch (default 0). Adds unprocessed=,
                         double_owner= and offset_regressions= to the last line; kill-member needs N > 0
      Network faults run every broker in its own network namespace (needs root); without namespaces
      they are skipped, and the output says so.
      """;

  private ChaosMain() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args);
    } catch (UsageException e) {
      System.err.println("chaos.sh: " + e.getMessage());
      System.err.printf(USAGE, kinds());
      code = 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.err.println("chaos.sh: interrupted");
      code = 3;
    } catch (RuntimeException e) {
      System.err.println("chaos.sh: the run could not be carried out: " + e);
      e.printStackTrace(System.err);
      code = 3;
    }
    System.exit(code);
  }

  static int run(String[] args) throws InterruptedException {
    double minutes = 2;
    long seed = ThreadLocalRandom.current().nextLong(1, 1_000_000_000L);
    List<FaultKind> faults = Arrays.asList(FaultKind.values());
    int brokers = 3;
    int partitions = 3;
    int producers = 3;
    int rate = 100;
    int maxFaults = 0;
    Path dir = null;
    boolean keep = false;
    List<String> brokerConfig = new ArrayList<>();
    int groupMembers = 0;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--minutes" -> minutes = parseDouble(a, value(args, ++i, a));
        case "--seed" -> seed = parseLong(a, value(args, ++i, a));
        case "--faults" -> {
          faults = new ArrayList<>();
          for (String f : value(args, ++i, a).split(",")) {
            try {
              faults.add(FaultKind.parse(f.trim()));
            } catch (IllegalArgumentException e) {
              throw new UsageException(e.getMessage());
            }
          }
        }
        case "--brokers" -> brokers = (int) parseLong(a, value(args, ++i, a));
        case "--partitions" -> partitions = (int) parseLong(a, value(args, ++i, a));
        case "--producers" -> producers = (int) parseLong(a, value(args, ++i, a));
        case "--rate" -> rate = (int) parseLong(a, value(args, ++i, a));
        case "--max-faults" -> maxFaults = (int) parseLong(a, value(args, ++i, a));
        case "--dir" -> dir = Path.of(value(args, ++i, a));
        case "--keep" -> keep = true;
        case "--broker-config" -> brokerConfig.add(value(args, ++i, a));
        case "--group-members" -> groupMembers = (int) parseLong(a, value(args, ++i, a));
        case "-h", "--help" -> {
          System.out.printf(USAGE, kinds());
          return 0;
        }
        default -> throw new UsageException("unknown argument '" + a + "'");
      }
    }
    if (brokers < 3) {
      throw new UsageException("--brokers must be at least 3 (replication factor 3)");
    }
    if (partitions < 1 || producers < 1 || rate < 1 || minutes <= 0) {
      throw new UsageException("--partitions, --producers, --rate and --minutes must be positive");
    }
    if (groupMembers < 0) {
      throw new UsageException("--group-members must be 0 or more");
    }
    Path repoRoot = Path.of(System.getProperty("raftlog.repo.root", ".")).toAbsolutePath().normalize();
    if (dir == null) {
      dir = createTempDir();
    }
    ChaosOptions defaults = ChaosOptions.defaults(seed, faults, Duration.ofMillis((long) (minutes * 60_000)),
        repoRoot, dir);
    ChaosOptions options = new ChaosOptions(seed, faults, defaults.duration(), maxFaults, brokers, partitions,
        new Workload.Settings(producers, 2, rate, 20, 30_000), defaults.networkNamespaces(), brokerConfig,
        defaults.recoveryBound(), repoRoot, dir, keep, groupMembers);
    ChaosRun.Result result = new ChaosRun(options).run();
    System.out.println("history: " + dir.resolve("history.jsonl") + "  summary: " + dir.resolve("summary.txt"));
    System.out.println(result.check().summaryLine(seed));
    return result.passed() ? 0 : 1;
  }

  private static String kinds() {
    return String.join(", ", Arrays.stream(FaultKind.values()).map(FaultKind::cliName).toList());
  }

  private static Path createTempDir() {
    try {
      return java.nio.file.Files.createTempDirectory("raftlog-chaos-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new UsageException(flag + " needs a value");
    }
    return args[i];
  }

  private static long parseLong(String flag, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException(flag + " needs a whole number, not '" + v + "'");
    }
  }

  private static double parseDouble(String flag, String v) {
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new UsageException(flag + " needs a number, not '" + v + "'");
    }
  }

  private static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }
}
