package io.raftlog.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of broker processes run by {@code scripts/cluster.sh} in one directory. Every script
 * call runs with HOME set to a private directory (so the operator's ~/.raftlog/last-cluster is not
 * touched) and its output is appended to {@code DIR/cluster-sh.log}.
 */
public final class LocalCluster implements AutoCloseable {

  /** One broker: its id, public gRPC address and whether it runs in its own network namespace. */
  public record Broker(int id, String host, int port, String netns) {
    public String address() {
      return host + ":" + port;
    }
  }

  /** Longer than the script's own start deadline, so the script reports its own timeouts. */
  /** How long cluster.sh waits for a (re)started broker to be up; its own default is 90 s. */
  private static final long START_TIMEOUT_SECONDS = 150;
  /** Longer than a stop (30 s) and a start together. */
  private static final long SCRIPT_TIMEOUT_SECONDS = 240;

  private final Path repoRoot;
  private final Path dir;
  private final Path home;
  private final Path scriptLog;

  public LocalCluster(Path repoRoot, Path dir) {
    this.repoRoot = repoRoot.toAbsolutePath().normalize();
    this.dir = dir.toAbsolutePath().normalize();
    this.home = this.dir.resolve("home");
    this.scriptLog = this.dir.resolve("cluster-sh.log");
  }

  public Path dir() {
    return dir;
  }

  /** Starts a new cluster (or restarts the one in the directory) and waits until it is healthy. */
  public void start(int brokers, boolean netns, List<String> brokerConfig) {
    List<String> args = new ArrayList<>(List.of("start", "--brokers", Integer.toString(brokers)));
    if (netns) {
      args.add("--netns");
    }
    for (String kv : brokerConfig) {
      args.add("--broker-config");
      args.add(kv);
    }
    runOk(args.toArray(String[]::new));
  }

  /** Starts every broker of the existing cluster that is not running, and waits until healthy. */
  public void startAll() {
    runOk("start");
  }

  public void stop() {
    runOk("stop");
  }

  public void kill(int id) {
    runOk("kill", Integer.toString(id));
  }

  public void restart(int id) {
    runOk("restart", Integer.toString(id));
  }

  public void pause(int id) {
    runOk("pause", Integer.toString(id));
  }

  public void resume(int id) {
    runOk("resume", Integer.toString(id));
  }

  public void cut(int a, int b) {
    runOk("cut", Integer.toString(a), Integer.toString(b));
  }

  public void isolate(int id) {
    runOk("isolate", Integer.toString(id));
  }

  public void split(List<Integer> left, List<Integer> right) {
    runOk("split", join(left), join(right));
  }

  public void dropClientTraffic(int id) {
    runOk("drop-client-traffic", Integer.toString(id));
  }

  public void heal() {
    runOk("heal");
  }

  /** Brokers by id, from DIR/cluster.conf (addresses inside namespaces when the cluster uses them). */
  public Map<Integer, Broker> brokers() {
    Map<Integer, int[]> ports = new LinkedHashMap<>();
    Map<Integer, String[]> namespaces = new LinkedHashMap<>();
    for (String line : readLines(dir.resolve("cluster.conf"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 4 && f[0].equals("broker")) {
        ports.put(Integer.parseInt(f[1]), new int[] {Integer.parseInt(f[2]), Integer.parseInt(f[3])});
      } else if (f.length >= 4 && f[0].equals("netns")) {
        namespaces.put(Integer.parseInt(f[1]), new String[] {f[2], f[3]});
      }
    }
    Map<Integer, Broker> brokers = new LinkedHashMap<>();
    ports.forEach((id, p) -> {
      String[] ns = namespaces.get(id);
      brokers.put(id, new Broker(id, ns == null ? "127.0.0.1" : ns[1], p[0], ns == null ? null : ns[0]));
    });
    return brokers;
  }

  public List<String> bootstrap() {
    return brokers().values().stream().map(Broker::address).toList();
  }

  /** The data directory of a broker. */
  public Path dataDir(int id) {
    return dir.resolve("broker-" + id).resolve("data");
  }

  /** The broker's process, if its pid file names a live broker of this cluster. */
  public Optional<ProcessHandle> process(int id) {
    Path pidFile = dir.resolve("broker-" + id + "/pid");
    if (!Files.isRegularFile(pidFile)) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile).trim());
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
    String config = dir.resolve("broker-" + id + "/broker.properties").toString();
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
        // A recycled pid belongs to some other program: only touch our broker.
        .filter(h -> h.info().commandLine().map(c -> c.contains(config)).orElse(false));
  }

  /** Stops the brokers (removing namespaces too); as a last resort SIGKILLs any broker left. */
  @Override
  public void close() {
    if (!Files.isRegularFile(dir.resolve("cluster.conf"))) {
      return;
    }
    try {
      run("stop");
    } finally {
      for (int id : brokers().keySet()) {
        process(id).ifPresent(h -> {
          h.destroyForcibly();
          h.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> h).join();
        });
      }
    }
  }

  private void runOk(String... args) {
    int exit = run(args);
    if (exit != 0) {
      throw new IllegalStateException("cluster.sh " + String.join(" ", args) + " failed with exit code " + exit
          + "; see " + scriptLog + " and " + dir + "/broker-*/broker.log");
    }
  }

  private int run(String... args) {
    List<String> command = new ArrayList<>(List.of("bash", repoRoot.resolve("scripts/cluster.sh").toString()));
    command.addAll(List.of(args));
    command.add("--dir");
    command.add(dir.toString());
    try {
      Files.createDirectories(home);
      Files.writeString(scriptLog, "$ cluster.sh " + String.join(" ", args) + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(scriptLog.toFile()))
          .redirectError(ProcessBuilder.Redirect.appendTo(scriptLog.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      pb.environment().put("HOME", home.toString());
      // A broker restarting under the fault workload on a starved 2-core machine has taken over
      // 90 s (cluster.sh's default) to be up: a slow start is not what these runs look for.
      pb.environment().putIfAbsent("RAFTLOG_START_TIMEOUT", Long.toString(START_TIMEOUT_SECONDS));
      Process p = pb.start();
      if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("cluster.sh " + String.join(" ", args) + " did not finish within "
            + SCRIPT_TIMEOUT_SECONDS + " s");
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running cluster.sh", e);
    }
  }

  private static String join(List<Integer> ids) {
    return String.join(",", ids.stream().map(String::valueOf).toList());
  }

  private static List<String> readLines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
