package io.raftlog.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

  /**
   * One broker as listed in DIR/cluster.conf: {@code host} is 127.0.0.1, or the broker's namespace
   * IP in a cluster started with {@code start --netns}.
   */
  record BrokerAddress(int id, String host, int port, int raftPort) {
    BrokerAddress(int id, int port, int raftPort) {
      this(id, LOOPBACK, port, raftPort);
    }
  }

  /** The network layout of a {@code start --netns} cluster (DIR/cluster.conf "bridge" and "netns" lines). */
  record Netns(String bridge, String bridgeIp, Map<Integer, String> namespaces, Map<Integer, String> ips,
      Map<Integer, String> veths) {
    /** The prefix shared by the names of the bridge, namespaces and veths, e.g. "rl3f2a". */
    String prefix() {
      return bridge.substring(0, bridge.length() - "-br".length());
    }
  }

  /** How a TCP connection attempt ended. */
  enum Reach {
    CONNECTED,
    /** No answer at all within the timeout: the packets were dropped. */
    TIMED_OUT,
    /** Refused or failed at once. */
    FAILED
  }

  static final String LOOPBACK = "127.0.0.1";

  /** Exit code of {@code cluster.sh start --netns} when the machine cannot create network namespaces. */
  static final int EXIT_NETNS_UNAVAILABLE = 3;

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
    return exec(command, args, "", SCRIPT_TIMEOUT_SECONDS);
  }

  /**
   * Runs scripts/raftlog (the CLI) against this cluster (--bootstrap from DIR/bootstrap) from the
   * root namespace, with {@code stdin} as its input.
   */
  Result raftlog(String stdin, String... args) {
    List<String> command = new ArrayList<>(List.of("bash", repoRoot().resolve("scripts/raftlog").toString(),
        "--bootstrap", readLines(dir.resolve("bootstrap")).get(0).trim()));
    command.addAll(List.of(args));
    return exec(command, args, stdin, 60);
  }

  private Result exec(List<String> command, String[] args, String stdin, long timeoutSeconds) {
    try {
      Files.createDirectories(home);
      // Output goes to files, not pipes: a pipe held open by a (wrongly) inheriting broker would
      // block the read, and the files stay readable whatever the script leaves running.
      Path in = Files.createTempFile(home, "cluster-sh", ".in");
      Path out = Files.createTempFile(home, "cluster-sh", ".out");
      Path err = Files.createTempFile(home, "cluster-sh", ".err");
      try {
        Files.writeString(in, stdin);
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
            .redirectInput(in.toFile());
        pb.environment().put("HOME", home.toString());
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          fail(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
        }
        return new Result(List.of(args), p.exitValue(), Files.readString(out), Files.readString(err));
      } finally {
        Files.deleteIfExists(in);
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

  /**
   * Brokers from DIR/cluster.conf ("broker ID PORT RAFT_PORT" lines), by id; in a netns cluster
   * with their namespace IP as host.
   */
  Map<Integer, BrokerAddress> brokers() {
    Map<Integer, String> ips = netns().map(Netns::ips).orElse(Map.of());
    Map<Integer, BrokerAddress> brokers = new LinkedHashMap<>();
    for (String line : readLines(dir.resolve("cluster.conf"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 4 && f[0].equals("broker")) {
        int id = Integer.parseInt(f[1]);
        brokers.put(id, new BrokerAddress(id, ips.getOrDefault(id, LOOPBACK), Integer.parseInt(f[2]),
            Integer.parseInt(f[3])));
      }
    }
    return brokers;
  }

  /**
   * The network layout from DIR/cluster.conf ("bridge NAME IP/PREFIX" and "netns ID NAMESPACE IP
   * VETH" lines); empty when the cluster was not started with --netns.
   */
  Optional<Netns> netns() {
    String bridge = null;
    String bridgeIp = null;
    Map<Integer, String> namespaces = new LinkedHashMap<>();
    Map<Integer, String> ips = new LinkedHashMap<>();
    Map<Integer, String> veths = new LinkedHashMap<>();
    for (String line : readLines(dir.resolve("cluster.conf"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 3 && f[0].equals("bridge")) {
        bridge = f[1];
        bridgeIp = f[2].substring(0, f[2].indexOf('/'));
      } else if (f.length == 5 && f[0].equals("netns")) {
        int id = Integer.parseInt(f[1]);
        namespaces.put(id, f[2]);
        ips.put(id, f[3]);
        veths.put(id, f[4]);
      }
    }
    return bridge == null ? Optional.empty() : Optional.of(new Netns(bridge, bridgeIp, namespaces, ips, veths));
  }

  // ---- network faults of a --netns cluster; each returns the script's stdout lines ----

  List<String> cut(int a, int b) {
    return runOk("cut", Integer.toString(a), Integer.toString(b)).stdoutLines();
  }

  List<String> isolate(int id) {
    return runOk("isolate", Integer.toString(id)).stdoutLines();
  }

  List<String> split(List<Integer> left, List<Integer> right) {
    return runOk("split", joinIds(left), joinIds(right)).stdoutLines();
  }

  List<String> dropClientTraffic(int id) {
    return runOk("drop-client-traffic", Integer.toString(id)).stdoutLines();
  }

  List<String> heal() {
    return runOk("heal").stdoutLines();
  }

  /** The current faults ("cut A B", "drop-client-traffic ID"), or "no cuts". */
  List<String> netStatus() {
    return runOk("net-status").stdoutLines();
  }

  private static String joinIds(List<Integer> ids) {
    return String.join(",", ids.stream().map(String::valueOf).toList());
  }

  /** Tries a TCP connection from the root namespace (this JVM's). */
  static Reach connect(String host, int port, Duration timeout) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      return Reach.CONNECTED;
    } catch (SocketTimeoutException e) {
      return Reach.TIMED_OUT;
    } catch (IOException e) {
      return Reach.FAILED;
    }
  }

  /** Tries a TCP connection from inside network namespace {@code namespace} (bash's /dev/tcp). */
  static Reach connectFrom(String namespace, String host, int port, Duration timeout) {
    List<String> command = List.of("timeout", Long.toString(Math.max(1, timeout.toSeconds())), "ip", "netns", "exec",
        namespace, "bash", "-c", "exec 3<>/dev/tcp/" + host + "/" + port);
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(timeout.toSeconds() + 10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(String.join(" ", command) + " outlived its own timeout");
      }
      return switch (p.exitValue()) {
        case 0 -> Reach.CONNECTED;
        case 124 -> Reach.TIMED_OUT; // timeout(1): the connect hung
        default -> Reach.FAILED;
      };
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /**
   * Network namespaces and links (bridge, veths) on this machine whose name starts with
   * {@code prefix + "-"}: those a netns cluster with that prefix would have left behind.
   */
  static List<String> networkObjects(String prefix) {
    List<String> found = new ArrayList<>();
    for (String line : command("ip", "netns", "list")) {
      String name = line.trim().split("\\s+")[0];
      if (name.startsWith(prefix + "-")) {
        found.add("namespace " + name);
      }
    }
    for (String line : command("ip", "-o", "link", "show")) {
      // "7: rl3f2a-v1@if2: <BROADCAST,...": the name is the second field, without "@peer".
      String[] f = line.split(": ", 3);
      if (f.length >= 2) {
        String name = f[1].replaceAll("@.*", "");
        if (name.startsWith(prefix + "-")) {
          found.add("link " + name);
        }
      }
    }
    return found;
  }

  /** The stdout lines of a short command that must succeed. */
  private static List<String> command(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        fail(String.join(" ", command) + " failed: " + out);
      }
      return out.lines().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
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

  /**
   * Stops the cluster with the script; as a last resort SIGKILLs any broker still running, and then
   * stops again so that a netns cluster's namespaces, veths and bridge are removed too.
   */
  @Override
  public void close() {
    if (!Files.isRegularFile(dir.resolve("cluster.conf"))) {
      return;
    }
    Result stop = null;
    try {
      stop = run("stop", "--dir", dir.toString());
    } finally {
      boolean killed = false;
      for (int id : brokers().keySet()) {
        Optional<ProcessHandle> h = process(id);
        if (h.isPresent()) {
          h.get().destroyForcibly();
          h.get().onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> h.get()).join();
          killed = true;
        }
      }
      if ((killed || stop == null || stop.exitCode() != 0) && netns().isPresent()) {
        run("stop", "--dir", dir.toString());
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
