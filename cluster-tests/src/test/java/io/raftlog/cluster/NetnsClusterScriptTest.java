package io.raftlog.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.BrokerInfo;
import io.raftlog.api.v1.CreateTopicRequest;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.Record;
import io.raftlog.cluster.ClusterScript.Reach;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster.sh start --netns} and its network faults on a 3-broker cluster: every broker in
 * its own network namespace, clients in the root namespace. Skipped (with the script's reason)
 * where network namespaces cannot be created, e.g. when not running as root.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class NetnsClusterScriptTest {

  /**
   * How long a probe waits for a TCP connection (from a namespace: including `ip netns exec bash`):
   * a connect over the bridge takes well under a millisecond, so a timeout means dropped packets.
   * A successful probe returns at once.
   */
  private static final Duration PROBE = Duration.ofSeconds(2);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String TOPIC = "netns";

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  static Path tmp;

  private static ClusterScript cluster;
  private static ClusterScript.Result startResult;

  @BeforeAll
  static void startCluster() {
    ClusterScript.assumeBrokerBuilt();
    cluster = new ClusterScript(tmp.resolve("cluster"), tmp.resolve("home"));
    startResult = cluster.run("start", "--netns", "--brokers", "3", "--dir", cluster.dir().toString());
    if (startResult.exitCode() == ClusterScript.EXIT_NETNS_UNAVAILABLE) {
      String why = "network namespaces unavailable, skipping the netns tests: " + startResult.stderr().strip();
      System.out.println(NetnsClusterScriptTest.class.getSimpleName() + ": " + why);
      Assumptions.abort(why);
    }
    assertEquals(0, startResult.exitCode(), () -> startResult + cluster.brokerLogTails());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster == null || !Files.isRegularFile(cluster.dir().resolve("cluster.conf"))) {
      return;
    }
    Optional<ClusterScript.Netns> net = cluster.netns();
    // Also removes the namespaces, veths and bridge, whatever the test left.
    cluster.close();
    net.ifPresent(n -> assertEquals(List.of(), ClusterScript.networkObjects(n.prefix()),
        "network objects of the cluster left behind"));
  }

  @Test
  void brokersRunInTheirNamespacesServeClientsAndCanBePartitionedAndHealed() throws Exception {
    ClusterScript.Netns net = cluster.netns().orElseThrow(() -> new AssertionError("cluster.conf has no bridge line"));
    Map<Integer, ClusterScript.BrokerAddress> brokers = cluster.brokers();
    assertLayout(net, brokers);

    // The CLI in the root namespace reaches the brokers at their namespace IPs (as cluster.sh's
    // health checks do).
    ClusterScript.Result describe = cluster.raftlog("", "cluster", "describe", "--json");
    assertEquals(0, describe.exitCode(), describe::toString);
    assertEquals(3, describe.stdout().split("\"alive\":true", -1).length - 1, describe::toString);
    for (ClusterScript.BrokerAddress b : brokers.values()) {
      assertTrue(describe.stdout().contains(b.host()), describe::toString);
    }
    // Clients in the root namespace create a topic, produce and fetch; the partition is
    // replicated between the namespaces.
    assertEquals(List.of("one", "two"), produceAndReadBack(List.of("one", "two")));

    assertEquals(List.of("no cuts"), cluster.netStatus());
    String ns1 = net.namespaces().get(1);
    String ns2 = net.namespaces().get(2);
    String ns3 = net.namespaces().get(3);
    ClusterScript.BrokerAddress b1 = brokers.get(1);
    ClusterScript.BrokerAddress b2 = brokers.get(2);
    ClusterScript.BrokerAddress b3 = brokers.get(3);
    assertEquals(Reach.CONNECTED, ClusterScript.connectFrom(ns2, b1.host(), b1.port(), PROBE));
    try (EstablishedConnection control = new EstablishedConnection(ns2, b1.host(), b1.port())) {
      assertNotEquals("timeout", control.sendAndAwaitAnswer(), "without a cut the broker answers (or closes) at once");
    }

    // A connection from broker 2's namespace to broker 1, established before the cut.
    try (EstablishedConnection before = new EstablishedConnection(ns2, b1.host(), b1.port())) {
      List<String> isolate = cluster.isolate(1);
      assertEquals(List.of(
          "Cut 1 2: packets between " + b1.host() + " and " + b2.host() + " are dropped both ways",
          "Cut 1 3: packets between " + b1.host() + " and " + b3.host() + " are dropped both ways"), isolate);
      // Silence, not an error or a close: the bytes sent never get an answer.
      assertEquals("timeout", before.sendAndAwaitAnswer());
    }
    assertEquals(List.of("cut 1 2", "cut 1 3"), cluster.netStatus());
    assertEquals(List.of("Already cut 1 2"), cluster.cut(2, 1), "cut is idempotent");
    // New connections across the cut hang (dropped, not refused), both ways.
    assertEquals(Reach.TIMED_OUT, ClusterScript.connectFrom(ns2, b1.host(), b1.port(), PROBE));
    assertEquals(Reach.TIMED_OUT, ClusterScript.connectFrom(ns1, b3.host(), b3.raftPort(), PROBE));
    // The other links stay: 2 <-> 3, and the root namespace (clients) <-> every broker.
    assertEquals(Reach.CONNECTED, ClusterScript.connectFrom(ns2, b3.host(), b3.port(), PROBE));
    for (ClusterScript.BrokerAddress b : brokers.values()) {
      assertEquals(Reach.CONNECTED, ClusterScript.connect(b.host(), b.port(), PROBE), "root -> broker " + b.id());
    }

    assertEquals(List.of("Healed cut 1 2", "Healed cut 1 3"), cluster.heal());
    assertEquals(List.of("no cuts"), cluster.netStatus());
    assertEquals(Reach.CONNECTED, ClusterScript.connectFrom(ns2, b1.host(), b1.port(), PROBE));

    // A "bridge" partition: 1 and 3 cannot talk, 2 sees both.
    assertEquals(List.of("Cut 1 3: packets between " + b1.host() + " and " + b3.host() + " are dropped both ways"),
        cluster.split(List.of(1), List.of(3)));
    assertEquals(List.of("cut 1 3"), cluster.netStatus());
    assertEquals(Reach.CONNECTED, ClusterScript.connectFrom(ns2, b1.host(), b1.port(), PROBE));
    assertEquals(Reach.CONNECTED, ClusterScript.connectFrom(ns2, b3.host(), b3.port(), PROBE));
    assertEquals(Reach.TIMED_OUT, ClusterScript.connectFrom(ns3, b1.host(), b1.port(), PROBE));

    // Broker 2 gets its clients' packets but its answers (here: the SYN-ACK) never arrive.
    assertEquals(List.of("Dropping client traffic of broker 2: its packets to " + net.bridgeIp()
        + " (clients in the root namespace) are dropped"), cluster.dropClientTraffic(2));
    assertEquals(List.of("cut 1 3", "drop-client-traffic 2"), cluster.netStatus());
    assertEquals(Reach.TIMED_OUT, ClusterScript.connect(b2.host(), b2.port(), PROBE));
    assertEquals(Reach.CONNECTED, ClusterScript.connect(b1.host(), b1.port(), PROBE));
    assertEquals(Reach.CONNECTED, ClusterScript.connectFrom(ns1, b2.host(), b2.port(), PROBE));

    assertEquals(List.of("Healed cut 1 3", "Healed drop-client-traffic 2"), cluster.heal());
    assertEquals(List.of("no cuts"), cluster.netStatus());
    for (ClusterScript.BrokerAddress b : brokers.values()) {
      assertEquals(Reach.CONNECTED, ClusterScript.connect(b.host(), b.port(), PROBE), "root -> broker " + b.id());
    }
    try (BrokerClients clients = new BrokerClients(brokers)) {
      Await.condition("the healed cluster to report 3 brokers alive", WAIT,
          () -> clients.describeCluster(2).getBrokersList().stream().filter(BrokerInfo::getAlive).count() == 3);
    }

    ClusterScript.Result stop = cluster.runOk("stop");
    List<String> out = stop.stdoutLines();
    assertTrue(out.contains("Removed bridge " + net.bridge()), stop::toString);
    for (int id : brokers.keySet()) {
      assertTrue(out.contains("Removed network namespace " + net.namespaces().get(id) + " and veth "
          + net.veths().get(id) + " (broker " + id + ")"), stop::toString);
    }
    assertEquals(List.of(), ClusterScript.networkObjects(net.prefix()), "left behind after stop");
    ClusterScript.Result cutStopped = cluster.run("cut", "1", "2", "--dir", cluster.dir().toString());
    assertEquals(1, cutStopped.exitCode(), cutStopped::toString);
    assertTrue(cutStopped.stderr().contains("does not exist"), cutStopped::toString);
  }

  /**
   * Creates {@link #TOPIC} (1 partition, 3 replicas), produces {@code values} with acks=all to its
   * leader and returns what every broker's replica serves, which must be the same.
   */
  private static List<String> produceAndReadBack(List<String> values) {
    try (BrokerClients clients = new BrokerClients(cluster.brokers())) {
      CreateTopicRequest create =
          CreateTopicRequest.newBuilder().setName(TOPIC).setPartitions(1).setReplicationFactor(3).build();
      Await.value("topic " + TOPIC + " to be created", WAIT, () -> {
        try {
          clients.admin(1).createTopic(create);
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
            throw e;
          }
        }
        return Optional.of(true);
      });
      PartitionProduceData.Builder data = PartitionProduceData.newBuilder().setTopic(TOPIC).setPartition(0);
      values.forEach(v -> data.addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(v))));
      ProduceRequest produce = ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(data).build();
      Await.value("the records to be acknowledged", WAIT, () -> {
        OptionalInt leader = clients.partitionLeader(TOPIC, 0);
        if (leader.isEmpty()) {
          return Optional.empty();
        }
        PartitionProduceResult r = clients.produce(leader.getAsInt()).produce(produce).getResults(0);
        // Not the leader (any more), or no leader yet: nothing was appended, so a retry cannot duplicate.
        if (r.getError().getCode() == ErrorCode.NOT_LEADER || r.getError().getCode() == ErrorCode.LEADER_NOT_AVAILABLE) {
          return Optional.empty();
        }
        assertEquals(ErrorCode.NONE, r.getError().getCode(), r::toString);
        return Optional.of(r.getBaseOffset());
      });
      List<String> reference = null;
      for (int id : clients.brokerIds()) {
        Await.condition("broker " + id + " to serve " + TOPIC + "-0 up to offset " + values.size(), WAIT, () -> {
          FetchPartitionResult r = clients.fetchOnce(id, TOPIC, 0, 0);
          return r.getError().getCode() == ErrorCode.NONE && r.getHighWatermark() >= values.size();
        });
        List<String> read = clients.readAll(id, TOPIC, 0, WAIT).stream()
            .map(r -> r.getValue().toString(StandardCharsets.UTF_8)).toList();
        if (reference == null) {
          reference = read;
        } else {
          assertEquals(reference, read, "broker " + id + " serves another log than broker " + clients.brokerIds().get(0));
        }
      }
      return reference;
    }
  }

  /** The files, namespaces and processes that start --netns sets up. */
  private static void assertLayout(ClusterScript.Netns net, Map<Integer, ClusterScript.BrokerAddress> brokers)
      throws IOException {
    assertEquals(List.of(1, 2, 3), List.copyOf(brokers.keySet()));
    assertTrue(net.bridge().matches("rl[0-9a-f]{4}-br"), net::toString);
    String bootstrap = brokers.values().stream().map(b -> b.host() + ":" + b.port()).collect(Collectors.joining(","));
    assertEquals(bootstrap + "\n", Files.readString(cluster.dir().resolve("bootstrap")));
    List<String> out = startResult.stdoutLines();
    assertEquals("Cluster is up: bootstrap " + bootstrap, out.get(out.size() - 1), startResult::toString);
    assertTrue(out.contains("Created bridge " + net.bridge() + " (" + net.bridgeIp() + "/24)"), startResult::toString);
    for (ClusterScript.BrokerAddress b : brokers.values()) {
      String ns = net.namespaces().get(b.id());
      assertEquals(net.prefix() + "-b" + b.id(), ns);
      assertTrue(b.host().startsWith(net.bridgeIp().substring(0, net.bridgeIp().lastIndexOf('.') + 1)), b::toString);
      String properties = Files.readString(cluster.dir().resolve("broker-" + b.id() + "/broker.properties"));
      assertTrue(properties.contains("host=" + b.host() + "\n"), properties);
      assertTrue(properties.contains(b.id() + "@" + b.host() + ":" + b.raftPort()), properties);
      // The pid file names the JVM itself, and it runs in the broker's namespace.
      long pid = cluster.pid(b.id());
      assertTrue(cluster.process(b.id()).isPresent(), "pid file of broker " + b.id() + " does not name the broker");
      String netOfPid = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "net")).toString();
      Object nsInode = Files.getAttribute(Path.of("/run/netns", ns), "unix:ino");
      assertEquals("net:[" + nsInode + "]", netOfPid, "broker " + b.id() + " is not in namespace " + ns);
    }
  }

  /**
   * A TCP connection opened by bash inside a namespace, past the server's greeting;
   * {@link #sendAndAwaitAnswer} then sends bytes that the broker's HTTP/2 server answers (GOAWAY) or
   * closes on at once, and reports "data", "eof" or "timeout" (nothing within 2 s).
   */
  private static final class EstablishedConnection implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;

    EstablishedConnection(String namespace, String host, int port) throws IOException {
      // The server speaks first (its HTTP/2 SETTINGS): consume that until it is quiet for 0.5 s.
      String script = "exec 3<>/dev/tcp/" + host + "/" + port + " || exit 1; "
          + "while read -r -t 0.5 -N 1 _ <&3; do :; done; echo connected; read -r _; "
          + "printf 'garbage\\r\\n\\r\\n' >&3; "
          + "if read -r -t 2 -N 1 _ <&3; then echo data; elif (($? > 128)); then echo timeout; else echo eof; fi";
      process = new ProcessBuilder("timeout", "30", "ip", "netns", "exec", namespace, "bash", "-c", script)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("connected", out.readLine(), "no connection from " + namespace + " to " + host + ":" + port);
    }

    String sendAndAwaitAnswer() throws IOException {
      OutputStream in = process.getOutputStream();
      in.write('\n');
      in.flush();
      return out.readLine();
    }

    @Override
    public void close() throws InterruptedException {
      // timeout(1) and the bash it runs in the namespace: a process left there would keep it alive.
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
