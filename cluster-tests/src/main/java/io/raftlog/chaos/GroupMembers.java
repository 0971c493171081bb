package io.raftlog.chaos;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The consumer-group members of a run: one {@link GroupMemberMain} process per slot, started with
 * this JVM's java and class path, each writing {@code members/LABEL.jsonl} (its {@link MemberEvent}s)
 * and {@code members/LABEL.log} (its stdout and stderr). A slot's first process is labelled
 * {@code m<slot>}, its replacements {@code m<slot>.<n>}. Every start, kill and stop is recorded in
 * the {@link History}.
 */
final class GroupMembers implements AutoCloseable {

  static final String MAIN_CLASS = "io.raftlog.chaos.GroupMemberMain";
  /** Short, so a killed member's partitions move on within seconds (the broker's minimum is 1 s). */
  static final int SESSION_TIMEOUT_MS = 6_000;
  /**
   * Simulated work per batch, between writing its processed lines and committing: the window in
   * which a kill leaves processed records uncommitted. Also keeps the commit rate (one metadata
   * log entry each) near what a real application makes, a few per second per member.
   */
  static final int PROCESSING_MS = 100;

  private final Path dir;
  private final List<String> bootstrap;
  private final String topic;
  private final String group;
  private final History history;
  private final Map<Integer, Process> running = new TreeMap<>();
  private final Map<Integer, String> labels = new TreeMap<>();
  private final Map<Integer, Integer> generations = new TreeMap<>();
  private final List<Path> outputs = new ArrayList<>();

  GroupMembers(Path dir, List<String> bootstrap, String topic, String group, History history) {
    this.dir = dir;
    this.bootstrap = List.copyOf(bootstrap);
    this.topic = topic;
    this.group = group;
    this.history = history;
  }

  String group() {
    return group;
  }

  /** Starts slots 0..n-1. */
  synchronized void startAll(int n) {
    for (int slot = 0; slot < n; slot++) {
      start(slot, "initial member");
    }
  }

  /** Starts a new process in the slot (whose previous process, if any, must be dead). */
  synchronized String start(int slot, String why) {
    Process old = running.get(slot);
    if (old != null && old.isAlive()) {
      throw new IllegalStateException("slot " + slot + " still runs " + labels.get(slot));
    }
    int generation = generations.merge(slot, 1, Integer::sum) - 1;
    String label = "m" + slot + (generation == 0 ? "" : "." + generation);
    Path out = dir.resolve(label + ".jsonl");
    Path log = dir.resolve(label + ".log");
    List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx160m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-cp", classPath(), MAIN_CLASS,
        String.join(",", bootstrap), topic, group, label, Integer.toString(SESSION_TIMEOUT_MS), out.toString(),
        Integer.toString(PROCESSING_MS)));
    try {
      Files.createDirectories(dir);
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
      running.put(slot, p);
      labels.put(slot, label);
      outputs.add(out);
      history.add(new Event.Member(history.now(), "start", label, p.pid(), why));
      System.out.printf("[%6.1fs] group member %s started (pid %d): %s%n", history.now() / 1000.0, label, p.pid(),
          why);
      return label;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start group member " + label, e);
    }
  }

  /** Slots whose process is alive. */
  synchronized List<Integer> liveSlots() {
    List<Integer> live = new ArrayList<>();
    running.forEach((slot, p) -> {
      if (p.isAlive()) {
        live.add(slot);
      }
    });
    return live;
  }

  synchronized String label(int slot) {
    return labels.get(slot);
  }

  /**
   * Waits (up to {@code maxWaitMs}) until the slot's member has just started processing a batch:
   * the last complete line of its output turns from something else into a processed record (the
   * batch's records are written; its commit is not sent before {@link #PROCESSING_MS}). Returns
   * whether it got there; polling a file another process writes, with a deadline.
   */
  boolean awaitMidBatch(int slot, long maxWaitMs) {
    Path out;
    synchronized (this) {
      out = dir.resolve(labels.get(slot) + ".jsonl");
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
    boolean sawOther = false;
    while (System.nanoTime() < deadline) {
      Optional<String> last = lastCompleteLine(out);
      boolean processed = last.isPresent() && last.get().contains("\"type\":\"processed\"");
      if (processed && sawOther) {
        return true;
      }
      sawOther |= last.isPresent() && !processed;
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // polling another process's output, with a deadline
    }
    return false;
  }

  /** SIGKILLs the slot's process and waits until it is gone. Returns its label. */
  synchronized String kill(int slot, String why) {
    Process p = running.get(slot);
    String label = labels.get(slot);
    if (p == null || !p.isAlive()) {
      throw new IllegalStateException("group member slot " + slot + " is not running");
    }
    p.destroyForcibly(); // SIGKILL on Linux
    waitForExit(p, label);
    history.add(new Event.Member(history.now(), "kill", label, p.pid(), why));
    return label;
  }

  /** Stops every member (SIGTERM, then SIGKILL after 10 s). */
  synchronized void stopAll() {
    for (Map.Entry<Integer, Process> e : running.entrySet()) {
      Process p = e.getValue();
      if (p.isAlive()) {
        p.destroy(); // SIGTERM
      }
    }
    for (Map.Entry<Integer, Process> e : running.entrySet()) {
      Process p = e.getValue();
      String label = labels.get(e.getKey());
      boolean wasAlive = p.isAlive();
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
      waitForExit(p, label);
      if (wasAlive) {
        history.add(new Event.Member(history.now(), "stop", label, p.pid(), "end of run"));
      }
    }
  }

  /** The output files of every process started, in start order. */
  synchronized List<Path> outputs() {
    return List.copyOf(outputs);
  }

  /** Every member process's events: each file in start order, each in its own line order. */
  List<MemberEvent> readAll() {
    List<MemberEvent> all = new ArrayList<>();
    for (Path out : outputs()) {
      if (Files.isRegularFile(out)) {
        all.addAll(MemberEvent.read(out));
      }
    }
    return all;
  }

  /** Kills whatever still runs (last resort; the run stops members with {@link #stopAll}). */
  @Override
  public synchronized void close() {
    for (Map.Entry<Integer, Process> e : running.entrySet()) {
      Process p = e.getValue();
      if (p.isAlive()) {
        p.destroyForcibly();
        waitForExit(p, labels.get(e.getKey()));
      }
    }
  }

  private static void waitForExit(Process p, String label) {
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("group member " + label + " (pid " + p.pid() + ") did not exit");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for group member " + label + " to exit", e);
    }
  }

  /**
   * This JVM's class path (the harness's jar and target/lib, or under Maven's surefire the test class
   * path, which surefire hands over in surefire.test.class.path when it starts tests through a
   * manifest-only jar).
   */
  private static String classPath() {
    return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The last newline-terminated line of a file, reading only its tail. */
  static Optional<String> lastCompleteLine(Path file) {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long size = f.length();
      int window = (int) Math.min(size, 8192);
      byte[] tail = new byte[window];
      f.seek(size - window);
      f.readFully(tail);
      String s = new String(tail, StandardCharsets.UTF_8);
      int end = s.lastIndexOf('\n');
      if (end < 0) {
        return Optional.empty();
      }
      int start = s.lastIndexOf('\n', end - 1) + 1;
      return start == 0 && window < size ? Optional.empty() : Optional.of(s.substring(start, end));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
