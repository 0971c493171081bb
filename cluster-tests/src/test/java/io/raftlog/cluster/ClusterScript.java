package io.raftlog.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs scripts/cluster.sh for one cluster directory, with HOME pointing at a private directory so
 * the developer's real ~/.raftlog/last-cluster is never touched. Also reads the files the script
 * writes (cluster.conf, pid files) and, on close, makes sure no broker process outlives the test.
 */
final class ClusterScript implements AutoCloseable {

  /** One broker as listed in DIR/cluster.conf. */
  record BrokerAddress(int id, int port, int raftPort) {}

  /** Outcome of one script invocation. */
  record Result(List<String> args, int exitCode, String stdout, String stderr) {
    List<String> stdoutLines() {
      return stdout.lines().toList();
    }

    @Override
    public String toString() {
      return "cluster.sh " + String.join(" ", args) + " -> exit " + exitCode + "\nstdout:\n" + stdout + "stderr:\n"
          + stderr;
    }
  }

  /** Longer than the script's own 90 s start deadline, so the script reports its own timeouts. */
  private static final long SCRIPT_TIMEOUT_SECONDS = 150;

  private final Path dir;
  private final Path home;

  ClusterScript(Path dir, Path home) {
    this.dir = dir.toAbsolutePath();
    this.home = home.toAbsolutePath();
  }

  Path dir() {
    return dir;
  }

  Path home() {
    return home;
  }

  static Path repoRoot() {
    String configured = System.getProperty("raftlog.repo.root");
    if (configured != null) {
      return Path.of(configured).toAbsolutePath().normalize();
    }
    // Run from an IDE: walk up from the working directory to the checkout.
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts/cluster.sh"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find the repository root (no scripts/cluster.sh above "
        + Path.of("").toAbsolutePath() + "); set -Draftlog.repo.root");
  }

  /**
   * Skips the calling test when the broker has not been packaged: the brokers run from
   * broker-node/target, which `mvn test` does not produce for upstream modules (`mvn verify` does).
   */
  static void assumeBrokerBuilt() {
    Path target = repoRoot().resolve("broker-node/target");
    boolean built = Files.isRegularFile(target.resolve("raftlog-broker-node-0.1.0-SNAPSHOT.jar"))
        && Files.isDirectory(target.resolve("lib"));
    Assumptions.assumeTrue(built, "broker-node is not packaged (" + target + " lacks the jar or lib/): run `mvn verify`"
        + " or `mvn -DskipTests install` first; these tests start real broker processes from it");
  }

  /** Runs the script with the given arguments (no implicit --dir) and returns what it did. */
  Result run(String... args) {
    List<String> command = new ArrayList<>();
    command.add("bash");
    command.add(repoRoot().resolve("scripts/cluster.sh").toString());
    command.addAll(List.of(args));
    try {
      Files.createDirectories(home);
      // Output goes to files, not pipes: a pipe held open by a (wrongly) inheriting broker would
      // block the read, and the files stay readable whatever the script leaves running.
      Path out = Files.createTempFile(home, "cluster-sh", ".out");
      Path err = Files.createTempFile(home, "cluster-sh", ".err");
      try {
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().put("HOME", home.toString());
        Process p = pb.start();
        if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          fail("cluster.sh " + String.join(" ", args) + " did not finish within " + SCRIPT_TIMEOUT_SECONDS + " s");
        }
        return new Result(List.of(args), p.exitValue(), Files.readString(out), Files.readString(err));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running cluster.sh", e);
    }
  }

  /** Runs the script with --dir of this cluster and asserts it succeeded. */
  Result runOk(String... args) {
    List<String> withDir = new ArrayList<>(List.of(args));
    withDir.add("--dir");
    withDir.add(dir.toString());
    Result r = run(withDir.toArray(String[]::new));
    assertEquals(0, r.exitCode(), () -> r + brokerLogTails());
    return r;
  }

  /** Brokers from DIR/cluster.conf ("broker ID PORT RAFT_PORT" lines), by id. */
  Map<Integer, BrokerAddress> brokers() {
    Map<Integer, BrokerAddress> brokers = new LinkedHashMap<>();
    for (String line : readLines(dir.resolve("cluster.conf"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 4 && f[0].equals("broker")) {
        int id = Integer.parseInt(f[1]);
        brokers.put(id, new BrokerAddress(id, Integer.parseInt(f[2]), Integer.parseInt(f[3])));
      }
    }
    return brokers;
  }

  /** The pid in DIR/broker-ID/pid. */
  long pid(int brokerId) {
    return Long.parseLong(readLines(dir.resolve("broker-" + brokerId + "/pid")).get(0).trim());
  }

  /** The broker process with this id, if its pid file names a live broker of this cluster. */
  Optional<ProcessHandle> process(int brokerId) {
    Path pidFile = dir.resolve("broker-" + brokerId + "/pid");
    if (!Files.isRegularFile(pidFile)) {
      return Optional.empty();
    }
    String config = dir.resolve("broker-" + brokerId + "/broker.properties").toString();
    return ProcessHandle.of(pid(brokerId)).filter(ProcessHandle::isAlive)
        // A recycled pid belongs to some other program: only touch our broker.
        .filter(h -> h.info().commandLine().map(c -> c.contains(config)).orElse(false));
  }

  /** The last lines of every broker log, to make a failure message self-contained. */
  String brokerLogTails() {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> entries = Files.isDirectory(dir) ? Files.list(dir) : Stream.empty()) {
      for (Path log : entries.map(d -> d.resolve("broker.log")).filter(Files::isRegularFile).sorted().toList()) {
        // Latin-1 never fails to decode, whatever a crashing JVM wrote.
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        sb.append("\n--- last lines of ").append(log).append(" ---\n");
        lines.subList(Math.max(0, lines.size() - 25), lines.size()).forEach(l -> sb.append(l).append('\n'));
      }
    } catch (IOException e) {
      sb.append("\n(cannot list ").append(dir).append(": ").append(e).append(")");
    }
    return sb.toString();
  }

  /** Stops the cluster with the script; as a last resort SIGKILLs any broker still running. */
  @Override
  public void close() {
    if (!Files.isRegularFile(dir.resolve("cluster.conf"))) {
      return;
    }
    try {
      run("stop", "--dir", dir.toString());
    } finally {
      for (int id : brokers().keySet()) {
        process(id).ifPresent(h -> {
          h.destroyForcibly();
          h.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> h).join();
        });
      }
    }
  }

  private static List<String> readLines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
