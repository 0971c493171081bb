package io.raftlog.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.BrokerInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator-facing contract of scripts/cluster.sh: its files, output lines, exit codes and
 * signals, on one 3-broker cluster. Every test leaves all brokers running for the next one; the
 * add-broker test grows a cluster of its own.
 * Commands without --dir rely on the directory remembered by `start` under the test's HOME.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ClusterScriptContractTest {

  private static final Pattern STATUS_LINE =
      Pattern.compile("broker (\\d+) pid (\\d+) (alive|dead) port (\\d+) raft-port (\\d+)");
  private static final Pattern STATUS_JSON_BROKER =
      Pattern.compile("\\{\"id\":(\\d+),\"pid\":(\\d+),\"alive\":(true|false),");
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  static Path tmp;

  private static ClusterScript cluster;
  private static ClusterScript.Result startResult;

  @BeforeAll
  static void startCluster() {
    ClusterScript.assumeBrokerBuilt();
    cluster = new ClusterScript(tmp.resolve("cluster"), tmp.resolve("home"));
    startResult = cluster.runOk("start", "--brokers", "3");
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void startWritesTheFilesTheCliReadsAndPrintsWhereTheClusterIs() throws IOException {
    Map<Integer, ClusterScript.BrokerAddress> brokers = cluster.brokers();
    assertEquals(List.of(1, 2, 3), List.copyOf(brokers.keySet()));
    String bootstrap = brokers.values().stream().map(b -> "127.0.0.1:" + b.port()).collect(Collectors.joining(","));
    assertEquals(bootstrap + "\n", Files.readString(cluster.dir().resolve("bootstrap")));
    assertEquals(cluster.dir() + "\n", Files.readString(cluster.home().resolve(".raftlog/last-cluster")));

    List<String> out = startResult.stdoutLines();
    assertEquals("Cluster is up: bootstrap " + bootstrap, out.get(out.size() - 1), startResult::toString);
    assertEquals("Data and logs: " + cluster.dir(), out.get(out.size() - 2), startResult::toString);
    for (ClusterScript.BrokerAddress b : brokers.values()) {
      String properties = Files.readString(cluster.dir().resolve("broker-" + b.id() + "/broker.properties"));
      assertTrue(properties.contains("port=" + b.port() + "\n") && properties.contains("raft.port=" + b.raftPort()),
          properties);
    }
  }

  @Test
  void bareStatusUsesTheRememberedClusterAndListsEveryBrokerAlive() {
    ClusterScript.Result status = cluster.run("status");
    assertEquals(0, status.exitCode(), status::toString);
    Map<Integer, ClusterScript.BrokerAddress> brokers = cluster.brokers();
    List<String> lines = status.stdoutLines();
    assertEquals(brokers.size(), lines.size(), status::toString);
    for (String line : lines) {
      Matcher m = STATUS_LINE.matcher(line);
      assertTrue(m.matches(), "status line '" + line + "' does not match " + STATUS_LINE);
      int id = Integer.parseInt(m.group(1));
      assertEquals(cluster.pid(id), Long.parseLong(m.group(2)), line);
      assertEquals("alive", m.group(3), line);
      assertEquals(brokers.get(id).port(), Integer.parseInt(m.group(4)), line);
      assertEquals(brokers.get(id).raftPort(), Integer.parseInt(m.group(5)), line);
      assertTrue(cluster.process(id).isPresent(), "status says alive but broker " + id + " has no process");
    }
  }

  @Test
  void pauseStopsTheProcessAndResumeLetsItRunAgain() {
    long pid = cluster.pid(2);
    ClusterScript.Result paused = cluster.run("pause", "2");
    assertEquals(0, paused.exitCode(), paused::toString);
    Await.condition("broker 2 (pid " + pid + ") to be stopped (state T)", WAIT, () -> processState(pid) == 'T');
    // A paused broker is still a live process.
    assertTrue(statusOf(2).contains(" alive "), statusOf(2));

    ClusterScript.Result resumed = cluster.run("resume", "2");
    assertEquals(0, resumed.exitCode(), resumed::toString);
    Await.condition("broker 2 (pid " + pid + ") to run again", WAIT, () -> processState(pid) != 'T');
    assertEquals(pid, cluster.pid(2), "pause/resume must not replace the process");
  }

  @Test
  void killAndRestartBringTheBrokerBackOnItsPorts() {
    long oldPid = cluster.pid(3);
    ClusterScript.Result killed = cluster.run("kill", "3");
    assertEquals(0, killed.exitCode(), killed::toString);
    // The script returns once the process is gone; it may linger as a zombie until its new parent reaps it.
    assertFalse(isRunning(oldPid), "broker 3 (pid " + oldPid + ") survived kill");
    assertTrue(statusOf(3).matches("broker 3 pid " + oldPid + " dead port .*"), statusOf(3));

    ClusterScript.Result again = cluster.run("kill", "3");
    assertNotEquals(0, again.exitCode(), "killing a dead broker must fail: " + again);
    assertEquals(1, again.stderr().lines().count(), again::toString);

    ClusterScript.Result restarted = cluster.run("restart", "3");
    assertEquals(0, restarted.exitCode(), () -> restarted + cluster.brokerLogTails());
    long newPid = cluster.pid(3);
    assertNotEquals(oldPid, newPid);
    assertTrue(statusOf(3).matches("broker 3 pid " + newPid + " alive .*"), statusOf(3));
    assertBrokerServesAndIsAlive(3);
  }

  @Test
  void startOnAnExistingClusterRestartsOnlyTheDeadBrokersWithTheSamePorts() throws IOException {
    String bootstrap = Files.readString(cluster.dir().resolve("bootstrap"));
    long pid2 = cluster.pid(2);
    long pid3 = cluster.pid(3);
    assertEquals(0, cluster.run("kill", "1").exitCode());

    ClusterScript.Result start = cluster.runOk("start");
    List<String> out = start.stdoutLines();
    assertTrue(out.contains("Broker 2 already running (pid " + pid2 + ")"), start::toString);
    assertTrue(out.contains("Broker 3 already running (pid " + pid3 + ")"), start::toString);
    assertTrue(out.stream().anyMatch(l -> l.startsWith("Started broker 1 (pid ")), start::toString);
    assertEquals("Cluster is up: bootstrap " + bootstrap.strip(), out.get(out.size() - 1));
    assertEquals(bootstrap, Files.readString(cluster.dir().resolve("bootstrap")), "ports must not change");
    assertBrokerServesAndIsAlive(1);
  }

  @Test
  void misuseIsReportedWithUsageAndExitCode2() {
    ClusterScript.Result unknownCommand = cluster.run("frobnicate");
    assertEquals(2, unknownCommand.exitCode(), unknownCommand::toString);
    assertTrue(unknownCommand.stderr().contains("Usage:"), unknownCommand::toString);
    assertEquals("", unknownCommand.stdout());

    ClusterScript.Result unknownFlag = cluster.run("status", "--verbose");
    assertEquals(2, unknownFlag.exitCode(), unknownFlag::toString);

    ClusterScript.Result missingId = cluster.run("kill");
    assertEquals(2, missingId.exitCode(), missingId::toString);
  }

  @Test
  void errorsAreOneLineOnStderrAndANonZeroExit() {
    ClusterScript.Result noSuchBroker = cluster.run("pause", "9");
    assertEquals(1, noSuchBroker.exitCode(), noSuchBroker::toString);
    assertEquals(1, noSuchBroker.stderr().lines().count(), noSuchBroker::toString);
    assertTrue(noSuchBroker.stderr().contains("no broker 9"), noSuchBroker::toString);

    ClusterScript.Result noCluster = cluster.run("status", "--dir", tmp.resolve("nothing-here").toString());
    assertEquals(1, noCluster.exitCode(), noCluster::toString);
    assertEquals(1, noCluster.stderr().lines().count(), noCluster::toString);
  }

  @Test
  void networkFaultsFailClearlyOnAClusterStartedWithoutNetns() {
    for (List<String> args : List.of(List.of("cut", "1", "2"), List.of("isolate", "1"), List.of("split", "1", "2,3"),
        List.of("drop-client-traffic", "1"), List.of("heal"), List.of("net-status"))) {
      ClusterScript.Result r = cluster.run(args.toArray(String[]::new));
      assertEquals(1, r.exitCode(), r::toString);
      assertEquals(1, r.stderr().lines().count(), r::toString);
      assertTrue(r.stderr().contains("not started with --netns"), r::toString);
    }
    assertTrue(cluster.netns().isEmpty());
    assertEquals("127.0.0.1", cluster.brokers().get(1).host());
  }

  /**
   * On a cluster of its own (the shared one must keep brokers 1-3 only): add-broker starts broker 4
   * with the cluster's voters and --broker-config lines, records it for the other commands, and the
   * broker registers with the metadata group. Its own start and add-broker each have the script's
   * 90 s deadline, hence the longer timeout.
   */
  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void addBrokerStartsTheNextIdWhichRegistersAndIsListedByEveryCommand() throws IOException {
    try (ClusterScript grown = new ClusterScript(tmp.resolve("add-broker"), tmp.resolve("add-broker-home"))) {
      grown.runOk("start", "--brokers", "3", "--broker-config", "max.partitions.per.topic=500");
      String voters = property(grown, 1, "metadata.voters");

      ClusterScript.Result added = grown.runOk("add-broker");
      Map<Integer, ClusterScript.BrokerAddress> brokers = grown.brokers();
      assertEquals(List.of(1, 2, 3, 4), List.copyOf(brokers.keySet()), added::toString);
      ClusterScript.BrokerAddress b4 = brokers.get(4);
      assertEquals(List.of("Broker 4 added (pid " + grown.pid(4) + ", port " + b4.port() + ", raft port "
          + b4.raftPort() + ")"), added.stdoutLines(), added::toString);
      assertTrue(grown.process(4).isPresent(), "add-broker returned but broker 4 does not run");
      assertEquals(voters, property(grown, 4, "metadata.voters"), "the new broker must join the same metadata group");
      assertEquals("500", property(grown, 4, "max.partitions.per.topic"), "--broker-config lines are copied");
      assertEquals(4, Files.readString(grown.dir().resolve("bootstrap")).strip().split(",").length);

      ClusterScript.Result status = grown.runOk("status", "--json");
      Matcher m = STATUS_JSON_BROKER.matcher(status.stdout());
      int listed = 0;
      while (m.find()) {
        listed++;
        assertEquals(listed, Integer.parseInt(m.group(1)), status::toString);
        assertEquals(grown.pid(listed), Long.parseLong(m.group(2)), status::toString);
        assertEquals("true", m.group(3), status::toString);
      }
      assertEquals(4, listed, status::toString);

      // Registered with the metadata group: the cluster knows broker 4 and counts it alive.
      Await.condition("cluster describe to list broker 4 alive", WAIT, () -> {
        ClusterScript.Result describe = grown.raftlog("", "cluster", "describe", "--json");
        String json = describe.stdout().replaceAll("\\s", "");
        return describe.exitCode() == 0 && json.matches("(?s).*\\{\"id\":4,[^}]*\"alive\":true.*");
      });

      long pid4 = grown.pid(4);
      grown.runOk("kill", "4");
      assertFalse(isRunning(pid4), "broker 4 (pid " + pid4 + ") survived kill");
      assertTrue(grown.runOk("status").stdoutLines().contains(
          "broker 4 pid " + pid4 + " dead port " + b4.port() + " raft-port " + b4.raftPort()));

      List<Long> pids = List.of(grown.pid(1), grown.pid(2), grown.pid(3));
      ClusterScript.Result stop = grown.runOk("stop");
      assertTrue(stop.stdoutLines().contains("Cluster stopped: " + grown.dir()), stop::toString);
      for (long pid : pids) {
        assertFalse(isRunning(pid), "broker pid " + pid + " survived stop");
      }
    }
  }

  /** The last value of KEY in DIR/broker-ID/broker.properties. */
  private static String property(ClusterScript script, int id, String key) throws IOException {
    List<String> values = Files.readAllLines(script.dir().resolve("broker-" + id + "/broker.properties")).stream()
        .filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1)).toList();
    assertFalse(values.isEmpty(), "broker " + id + " has no " + key);
    return values.get(values.size() - 1);
  }

  /** The status line of one broker (bare command: the remembered cluster). */
  private static String statusOf(int id) {
    ClusterScript.Result status = cluster.run("status");
    assertEquals(0, status.exitCode(), status::toString);
    return status.stdoutLines().stream().filter(l -> l.startsWith("broker " + id + " ")).findFirst()
        .orElseThrow(() -> new AssertionError("no status line for broker " + id + ": " + status));
  }

  /** The broker answers on its own public port and the cluster it sees counts it alive. */
  private static void assertBrokerServesAndIsAlive(int id) {
    try (BrokerClients clients = new BrokerClients(cluster.brokers())) {
      Await.value("broker " + id + " to answer DescribeCluster and be reported alive", WAIT, () -> {
        List<BrokerInfo> brokers = clients.describeCluster(id).getBrokersList();
        return brokers.stream().filter(b -> b.getBrokerId() == id && b.getAlive()).findFirst()
            .map(Optional::of).orElse(Optional.empty());
      });
    }
  }

  /** The process exists and has not exited (a zombie has exited). */
  private static boolean isRunning(long pid) {
    return Files.exists(Path.of("/proc", Long.toString(pid))) && processState(pid) != 'Z';
  }

  /** The state letter of a process from /proc/PID/stat (R, S, T, Z, ...); Z when it has just gone. */
  private static char processState(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // "pid (comm) S ...": comm may contain spaces and parentheses, so look after the last ')'.
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (NoSuchFileException e) {
      return 'Z';
    } catch (IOException e) {
      throw new AssertionError("cannot read the state of pid " + pid + ": " + e);
    }
  }
}
