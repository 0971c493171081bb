package io.raftlog.broker.testkit;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.raftlog.broker.Broker;
import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.partition.PartitionReplica;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.ratis.ReplicaRepairSource;
import io.raftlog.statemachine.store.FileLogStore;
import io.raftlog.statemachine.store.LogStoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N brokers in one JVM on free loopback ports with data under a temp directory: the integration
 * test kit. Broker ids are 1..N; the first three are metadata voters.
 */
public final class MiniCluster implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MiniCluster.class);
  /** A broker close that takes longer gets all threads' stacks logged (see {@link #kill}). */
  private static final Duration CLOSE_HANG_DUMP_AFTER = Duration.ofSeconds(60);

  private final Map<Integer, BrokerConfig> configs = new LinkedHashMap<>();
  private final Map<Integer, Broker> running = new HashMap<>();
  private final Map<Integer, ManagedChannel> channels = new HashMap<>();
  /** Per broker: while closed, that broker's replica repairs wait before each read from a peer. */
  private final Map<Integer, RepairGate> repairGates = new java.util.concurrent.ConcurrentHashMap<>();
  /** Replicas that could not apply an entry; in production the broker would halt. */
  private final List<Throwable> fatalErrors = new java.util.concurrent.CopyOnWriteArrayList<>();

  private MiniCluster(int brokers, Path baseDir, Map<String, String> overrides) {
    List<int[]> ports = new ArrayList<>();
    for (int i = 0; i < brokers; i++) {
      ports.add(new int[] {freePort(), freePort()});
    }
    String voters = java.util.stream.IntStream.range(0, Math.min(3, brokers))
        .mapToObj(i -> (i + 1) + "@127.0.0.1:" + ports.get(i)[1]).collect(Collectors.joining(","));
    for (int i = 0; i < brokers; i++) {
      int id = i + 1;
      Map<String, String> raw = new LinkedHashMap<>();
      raw.put(BrokerConfig.BROKER_ID, Integer.toString(id));
      raw.put(BrokerConfig.PORT, Integer.toString(ports.get(i)[0]));
      raw.put(BrokerConfig.RAFT_PORT, Integer.toString(ports.get(i)[1]));
      raw.put(BrokerConfig.DATA_DIR, baseDir.resolve("broker-" + id).toString());
      raw.put(BrokerConfig.METADATA_VOTERS, voters);
      raw.put(BrokerConfig.HEARTBEAT_INTERVAL_MS, "250");
      raw.put(BrokerConfig.SESSION_TIMEOUT_MS, "3000");
      raw.put(BrokerConfig.REPLICA_LAG_TIME_MAX_MS, "2000");
      raw.putAll(overrides);
      configs.put(id, BrokerConfig.parse(raw));
    }
  }

  public static MiniCluster start(int brokers, Path baseDir) {
    return start(brokers, baseDir, Map.of());
  }

  public static MiniCluster start(int brokers, Path baseDir, Map<String, String> overrides) {
    MiniCluster cluster = new MiniCluster(brokers, baseDir, overrides);
    try {
      for (int id : cluster.configs.keySet()) {
        cluster.startBroker(id);
      }
      cluster.awaitAllRegistered(Duration.ofSeconds(60));
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  public void startBroker(int id) {
    BrokerConfig config = configs.get(id);
    RepairGate gate = repairGates.computeIfAbsent(id, k -> new RepairGate());
    Broker broker = new Broker(config, dir -> FileLogStore.open(dir,
        new LogStoreConfig(config.segmentBytes, config.indexIntervalBytes)), Clock.systemUTC(), fatalErrors::add,
        source -> new ReplicaRepairSource() {
          @Override
          public ByteBuffer read(long from, long until, int maxBytes) throws IOException, InterruptedException {
            gate.awaitOpen();
            return source.read(from, until, maxBytes);
          }

          @Override
          public SnapshotCopy latestSnapshot(long minIndex) throws IOException, InterruptedException {
            gate.awaitOpen();
            return source.latestSnapshot(minIndex);
          }
        });
    try {
      broker.start();
    } catch (IOException e) {
      broker.close();
      throw new UncheckedIOException(e);
    }
    running.put(id, broker);
  }

  /** Stops every broker; {@link #startAll} brings the whole cluster back on the same ports and data. */
  public void stopAll() {
    for (Integer id : List.copyOf(running.keySet())) {
      kill(id);
    }
  }

  public void startAll() {
    for (int id : configs.keySet()) {
      if (!running.containsKey(id)) {
        startBroker(id);
      }
    }
    awaitAllRegistered(Duration.ofSeconds(60));
  }

  /**
   * Stops a broker at once, cutting off its in-flight client calls (it keeps its data). In-process
   * this is still an orderly Ratis shutdown; process-level SIGKILL tests live in cluster-tests.
   */
  public void kill(int id) {
    Broker b = running.remove(id);
    if (b != null) {
      // A broker close once hung for minutes in CI (GroupCoordinatorFailoverTest, 2026-11-27) with
      // nothing in the log. If it happens again: log every thread's stack, to see where it waits,
      // then interrupt the closing thread so the close can go on.
      Thread closer = Thread.currentThread();
      AtomicBoolean interrupted = new AtomicBoolean();
      Thread watchdog = new Thread(() -> {
        try {
          Thread.sleep(CLOSE_HANG_DUMP_AFTER.toMillis());
        } catch (InterruptedException e) {
          return; // closed in time
        }
        StringBuilder dump = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, frames) -> {
          dump.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
          for (StackTraceElement f : frames) {
            dump.append("    at ").append(f).append('\n');
          }
        });
        LOG.error("closing broker {} has taken over {}; interrupting it. All threads:\n{}", id,
            CLOSE_HANG_DUMP_AFTER, dump);
        interrupted.set(true);
        closer.interrupt();
      }, "close-watchdog-" + id);
      watchdog.setDaemon(true);
      watchdog.start();
      try {
        b.close(Duration.ZERO);
      } finally {
        watchdog.interrupt();
        try {
          watchdog.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        if (interrupted.get()) {
          Thread.interrupted(); // ours, not the test's: the test goes on
        }
      }
    }
  }

  public void restart(int id) {
    kill(id);
    startBroker(id);
  }

  /**
   * Holds back the replica repairs of broker {@code id} (now or after a restart): their reads from
   * peers wait until {@link #releaseRepairs}. Lets a test observe a replica while it repairs.
   */
  public void holdRepairs(int id) {
    repairGates.computeIfAbsent(id, k -> new RepairGate()).close();
  }

  public void releaseRepairs(int id) {
    repairGates.computeIfAbsent(id, k -> new RepairGate()).open();
  }

  /** The configuration of broker {@code id} (running or not): data directory, ports. */
  public BrokerConfig config(int id) {
    return configs.get(id);
  }

  /**
   * The replica of a partition on a running broker, found by topic name among the hosted replicas
   * (works before the broker's metadata view knows the topic, e.g. while it is starting).
   */
  public Optional<PartitionReplica> localReplica(int brokerId, String topic, int partition) {
    return broker(brokerId).partitions().replicas().stream()
        .filter(r -> r.topic().equals(topic) && r.partition() == partition).findFirst();
  }

  /** A replica's committed log as ReadReplicaLog returned it: its high watermark and the batches below. */
  public record ReplicaLog(int brokerId, long highWatermark, byte[] batches) {}

  /**
   * Everything below the high watermark of broker {@code brokerId}'s replica (as of the first call),
   * byte for byte, read with the internal ReadReplicaLog RPC in pages of {@code pageBytes}.
   *
   * @throws io.grpc.StatusRuntimeException as the RPC answered (e.g. UNAVAILABLE while repairing)
   */
  public ReplicaLog readReplicaLog(int brokerId, String topic, int partition, int pageBytes) {
    io.raftlog.internal.v1.BrokerInternalServiceGrpc.BrokerInternalServiceBlockingStub stub =
        io.raftlog.internal.v1.BrokerInternalServiceGrpc.newBlockingStub(channel(brokerId));
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    long offset = 0;
    long hw = -1;
    do {
      io.raftlog.internal.v1.ReadReplicaLogResponse r = stub.withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS)
          .readReplicaLog(io.raftlog.internal.v1.ReadReplicaLogRequest.newBuilder().setTopic(topic)
              .setPartition(partition).setOffset(offset).setMaxBytes(pageBytes).build());
      if (hw < 0) {
        hw = r.getHighWatermark();
        offset = r.getLogStartOffset();
        if (offset > 0) {
          continue; // read again from the log start
        }
      }
      java.nio.ByteBuffer batches = r.getRecordBatches().asReadOnlyByteBuffer();
      for (org.apache.kafka.common.record.internal.MutableRecordBatch batch
          : org.apache.kafka.common.record.internal.MemoryRecords.readableRecords(batches).batches()) {
        if (batch.baseOffset() >= hw) {
          break;
        }
        if (batch.baseOffset() != offset) {
          throw new AssertionError("broker " + brokerId + ": expected a batch at offset " + offset + ", got "
              + batch.baseOffset());
        }
        java.nio.ByteBuffer copy = java.nio.ByteBuffer.allocate(batch.sizeInBytes());
        batch.writeTo(copy);
        out.write(copy.array(), 0, copy.position());
        offset = batch.nextOffset();
      }
    } while (offset < hw);
    return new ReplicaLog(brokerId, hw, out.toByteArray());
  }

  public Broker broker(int id) {
    Broker b = running.get(id);
    if (b == null) {
      throw new IllegalStateException("broker " + id + " is not running");
    }
    return b;
  }

  public List<Integer> runningIds() {
    return running.keySet().stream().sorted().toList();
  }

  public String bootstrap() {
    return configs.values().stream().map(c -> c.host + ":" + c.port).collect(Collectors.joining(","));
  }

  public ManagedChannel channel(int id) {
    BrokerConfig c = configs.get(id);
    return channels.computeIfAbsent(id, k -> NettyChannelBuilder.forAddress(c.host, c.port).usePlaintext().build());
  }

  /**
   * Every running broker sees every running broker registered and heartbeating, and its metadata
   * view has caught up with the log as of its registration (so it answers admin requests instead of
   * a retriable BROKER_NOT_AVAILABLE). "Heartbeating" is a heartbeat applied within the last second,
   * not merely within the session timeout: a broker seen alive only by a heartbeat about to expire
   * would count as not alive a moment later, and a topic created then would be refused.
   */
  public void awaitAllRegistered(Duration timeout) {
    Wait.until("all brokers registered and heartbeating", timeout, () -> running.values().stream().allMatch(b ->
        b.isRegistered() && b.metadata().isCaughtUp() && running.keySet().stream().allMatch(id ->
            b.metadata().broker(id).map(r -> System.currentTimeMillis() - r.getLastHeartbeatMs() <= 1000)
                .orElse(false))));
  }

  /**
   * Creates a topic through the public admin API and waits until every partition has a leader.
   * Asks the running brokers in turn, retrying retriable answers (a broker restarted by an earlier
   * test may still be replaying metadata and answer BROKER_NOT_AVAILABLE) until a deadline.
   */
  public void createTopic(String name, int partitions, int replicationFactor) {
    createTopicVia(List.of(), name, partitions, replicationFactor, Map.of());
  }

  /** Like {@link #createTopic(String, int, int)}, with topic configs (e.g. max.message.bytes). */
  public void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
    createTopicVia(List.of(), name, partitions, replicationFactor, configs);
  }

  /** Like {@link #createTopic(String, int, int)}, but only through broker {@code viaBroker}. */
  public void createTopic(int viaBroker, String name, int partitions, int replicationFactor) {
    createTopicVia(List.of(viaBroker), name, partitions, replicationFactor, Map.of());
  }

  private void createTopicVia(List<Integer> only, String name, int partitions, int replicationFactor,
      Map<String, String> configs) {
    io.raftlog.api.v1.CreateTopicRequest request = io.raftlog.api.v1.CreateTopicRequest.newBuilder().setName(name)
        .setPartitions(partitions).setReplicationFactor(replicationFactor).putAllConfig(configs).build();
    int[] attempt = {0};
    boolean[] ambiguous = {false};
    List<String> failures = new ArrayList<>();
    try {
      Wait.until("topic " + name + " created", Duration.ofSeconds(60), () -> {
        List<Integer> candidates = only.isEmpty() ? runningIds() : only;
        int broker = candidates.get(attempt[0]++ % candidates.size());
        try {
          io.raftlog.api.v1.AdminServiceGrpc.newBlockingStub(channel(broker))
              .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS).createTopic(request);
          return true;
        } catch (io.grpc.StatusRuntimeException e) {
          io.grpc.Status.Code code = e.getStatus().getCode();
          if (code == io.grpc.Status.Code.ALREADY_EXISTS && ambiguous[0]) {
            return true; // an earlier attempt whose answer was lost created it
          }
          if (code != io.grpc.Status.Code.UNAVAILABLE && code != io.grpc.Status.Code.DEADLINE_EXCEEDED) {
            throw new AssertionError("creating topic " + name + " through broker " + broker + " failed: "
                + e.getStatus(), e);
          }
          // Either may have reached the metadata group before failing.
          ambiguous[0] = true;
          if (failures.size() == 5) {
            failures.remove(0);
          }
          failures.add("broker " + broker + ": " + e.getStatus());
          LOG.info("creating topic {} through broker {} failed ({}); retrying", name, broker, e.getStatus());
          return false;
        }
      });
    } catch (AssertionError e) {
      if (!failures.isEmpty()) {
        e.addSuppressed(new AssertionError("last retriable failures: " + failures));
      }
      throw e;
    }
    for (int p = 0; p < partitions; p++) {
      awaitLeader(name, p, Duration.ofSeconds(60));
    }
  }

  /** The running replica that leads the partition, if any. */
  public Optional<Integer> leaderOf(String topic, int partition) {
    for (Map.Entry<Integer, Broker> e : running.entrySet()) {
      Optional<TopicRecord> t = e.getValue().metadata().topic(topic);
      if (t.isEmpty()) {
        continue;
      }
      Optional<PartitionReplica> r = e.getValue().partitions().replica(t.get().getTopicId(), partition);
      if (r.isPresent() && r.get().isLeaderReady()) {
        return Optional.of(e.getKey());
      }
    }
    return Optional.empty();
  }

  public int awaitLeader(String topic, int partition, Duration timeout) {
    return Wait.forValue("a leader of " + topic + "-" + partition, timeout, () -> leaderOf(topic, partition).orElse(null));
  }

  /** The replica of a partition on a running broker. */
  public PartitionReplica replica(int brokerId, String topic, int partition) {
    Broker b = broker(brokerId);
    TopicRecord t = b.metadata().topic(topic).orElseThrow();
    return b.partitions().replica(t.getTopicId(), partition).orElseThrow();
  }

  /** Fatal apply errors seen so far (a test may assert there are none). */
  public List<Throwable> fatalErrors() {
    return List.copyOf(fatalErrors);
  }

  @Override
  public void close() {
    if (!fatalErrors.isEmpty()) {
      LOG.error("a replica failed to apply an entry during the test: {}", fatalErrors.get(0).toString(), fatalErrors.get(0));
    }
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
    repairGates.values().forEach(RepairGate::open);
    for (Integer id : List.copyOf(running.keySet())) {
      try {
        kill(id);
      } catch (RuntimeException e) {
        LOG.warn("closing broker {} failed", id, e);
      }
    }
    if (!fatalErrors.isEmpty()) {
      throw new AssertionError("a partition replica could not apply a committed entry", fatalErrors.get(0));
    }
  }

  /** An open/closed switch that repair reads wait on (a monitor wait, released by {@link #open}). */
  private static final class RepairGate {
    private boolean closed;

    synchronized void close() {
      closed = true;
    }

    synchronized void open() {
      closed = false;
      notifyAll();
    }

    synchronized void awaitOpen() throws InterruptedException {
      while (closed) {
        wait();
      }
    }
  }

  private static int freePort() {
    return FreePorts.next();
  }
}
