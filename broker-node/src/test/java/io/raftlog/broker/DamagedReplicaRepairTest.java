package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.ListOffsetsPartition;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResult;
import io.raftlog.api.v1.OffsetSpec;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.broker.partition.LeadershipGuard;
import io.raftlog.broker.partition.PartitionReader;
import io.raftlog.broker.partition.PartitionReplica;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.raft.RaftClients;
import io.raftlog.broker.testkit.LogCapture;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.internal.v1.BrokerInternalServiceGrpc;
import io.raftlog.internal.v1.ReadReplicaLogRequest;
import io.raftlog.log.v1.PartitionSnapshot;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import io.raftlog.statemachine.ratis.PartitionStateMachine.RepairRange;
import io.raftlog.statemachine.store.FileLogStore;
import io.raftlog.statemachine.store.LogStoreConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica whose segment files were damaged while its broker was down: damage below the
 * snapshot's next offset is repaired from the other replicas (ReadReplicaLog) before the replica
 * serves or applies anything beyond it; damage above it is healed by Raft replay.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DamagedReplicaRepairTest {

  private static final String TOPIC = "fragile";
  private static final String PADDING = "p".repeat(400);

  @TempDir
  Path dir;

  /** Small snapshot threshold: snapshots (and Raft log purges) happen while producing. */
  private static Map<String, String> overrides(int snapshotEveryEntries) {
    return Map.of("raft.snapshot.threshold.entries", Integer.toString(snapshotEveryEntries),
        "segment.bytes", "8192", "raft.log.segment.bytes", "65536");
  }

  private static String value(int i) {
    return "v-" + i + "-" + PADDING;
  }

  /**
   * Produces one record through whoever leads (retrying while leadership moves); returns its offset.
   * A failed attempt may still have appended the record (the leader lost leadership, on a loaded
   * machine, after appending it), so before trying again it looks for the record at the end of the
   * ready leader's log (a ready leader has applied every entry the log will keep): producing it
   * again would duplicate it.
   */
  private static long produce(MiniCluster c, String value) {
    long[] offset = new long[1];
    boolean[] tried = new boolean[1];
    Wait.until("record " + value.substring(0, Math.min(10, value.length())) + " produced", Duration.ofSeconds(90),
        () -> {
          int leader = c.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
          if (tried[0]) {
            FetchPartitionResult log = fetch(c, leader, 0);
            if (log.getError().getCode() != ErrorCode.NONE) {
              return false;
            }
            int n = log.getRecordsCount();
            if (n > 0 && log.getRecords(n - 1).getValue().toStringUtf8().equals(value)) {
              offset[0] = log.getRecords(n - 1).getOffset();
              return true;
            }
          }
          tried[0] = true;
          PartitionProduceResult r = produceVia(c, leader, value);
          offset[0] = r.getBaseOffset();
          return r.getError().getCode() == ErrorCode.NONE;
        });
    return offset[0];
  }

  private static PartitionProduceResult produceVia(MiniCluster c, int broker, String value) {
    return ProduceServiceGrpc.newBlockingStub(c.channel(broker)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(PartitionProduceData.newBuilder()
            .setTopic(TOPIC).setPartition(0).addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(value))))
            .build()).getResults(0);
  }

  private static List<String> produceAll(MiniCluster c, int from, int to) {
    List<String> values = new ArrayList<>();
    for (int i = from; i < to; i++) {
      assertEquals(i, produce(c, value(i)));
      values.add(value(i));
    }
    return values;
  }

  private static void awaitHighWatermark(MiniCluster c, int broker, long hw) {
    Wait.until("broker " + broker + " at high watermark " + hw, Duration.ofSeconds(90), () -> c.localReplica(broker,
        TOPIC, 0).map(r -> r.stateMachine().highWatermark() == hw && !r.stateMachine().isRepairing()).orElse(false));
  }

  /** Values of the records in stored batches, in offset order, checking CRCs and contiguous offsets. */
  private static List<String> values(byte[] batches) {
    List<String> out = new ArrayList<>();
    long next = 0;
    for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(batches)).batches()) {
      batch.ensureValid();
      assertEquals(next, batch.baseOffset());
      for (org.apache.kafka.common.record.internal.Record r : batch) {
        out.add(StandardCharsets.UTF_8.decode(r.value()).toString());
      }
      next = batch.nextOffset();
    }
    return out;
  }

  /** Every replica returns the same bytes through ReadReplicaLog, and they hold exactly {@code truth}. */
  private static void assertReplicasIdentical(MiniCluster c, List<String> truth) {
    MiniCluster.ReplicaLog reference = null;
    for (int b = 1; b <= 3; b++) {
      MiniCluster.ReplicaLog log = c.readReplicaLog(b, TOPIC, 0, 256 * 1024);
      assertEquals(truth.size(), log.highWatermark(), "broker " + b);
      assertEquals(truth, values(log.batches()), "broker " + b + " holds exactly what was acknowledged");
      if (reference == null) {
        reference = log;
      } else {
        assertArrayEquals(reference.batches(), log.batches(), "broker " + b + " has the same bytes as broker 1");
      }
    }
  }

  private Path groupDir(int broker, String area, PartitionReplica replica) {
    return dir.resolve("broker-" + broker).resolve(area).resolve(replica.groupId().getUuid().toString());
  }

  /** The next offset recorded in the latest snapshot of a replica's state machine. */
  private static long snapshotNextOffset(Path raftGroupDir) throws IOException {
    Path sm = raftGroupDir.resolve("sm");
    try (Stream<Path> files = Files.list(sm)) {
      Path latest = files.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+"))
          .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().split("_")[1])))
          .orElseThrow(() -> new AssertionError("no snapshot in " + sm));
      return PartitionSnapshot.parseFrom(Files.readAllBytes(latest)).getNextOffset();
    }
  }

  private static List<Path> segmentFiles(Path logDir) throws IOException {
    try (Stream<Path> files = Files.list(logDir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
    }
  }

  /**
   * Loses the segments after the one holding {@code offset} and cuts that one in the middle of a
   * batch, as a crash or a disk problem might.
   */
  private static void cutSegmentsAround(Path logDir, long offset) throws IOException {
    List<Path> segments = segmentFiles(logDir);
    Path holding = segments.get(0);
    for (Path s : segments) {
      if (Long.parseLong(s.getFileName().toString().substring(0, 20)) <= offset) {
        holding = s;
      }
    }
    for (Path s : segments) {
      if (s.compareTo(holding) > 0) {
        Files.delete(s);
        Files.deleteIfExists(logDir.resolve(s.getFileName().toString().replace(".log", ".index")));
      }
    }
    try (FileChannel ch = FileChannel.open(holding, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2 + 7);
    }
  }

  /** Flips one byte inside the records of the last batch of the tail segment (its CRC no longer matches). */
  private static void flipByteInLastBatch(Path logDir) throws IOException {
    List<Path> segments = segmentFiles(logDir);
    Path tail = segments.get(segments.size() - 1);
    try (FileChannel ch = FileChannel.open(tail, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long at = ch.size() - 20;
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x5a)).position(0);
      ch.write(b, at);
    }
  }

  /** Where recovery will cut the damaged log: opens a copy of it, leaving the original to the broker. */

  private long endAfterRecovery(Path logDir) throws IOException {
    Path copy = Files.createTempDirectory(dir, "recovery-probe");
    try (Stream<Path> files = Files.list(logDir)) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    try (FileLogStore store = FileLogStore.open(copy, new LogStoreConfig(8192, 4096))) {
      return store.logEndOffset();
    }
  }

  /**
   * The replica is damaged below its snapshot while the whole cluster is down and restarts alone:
   * it restores from the snapshot but serves nothing at or beyond the damage, and ReadReplicaLog
   * answers UNAVAILABLE. Once its peers are back it copies the range from them, checks it and
   * only then serves and applies the entries after the snapshot. A reader hammering it all along
   * never sees a high watermark inside the damaged range or a record that was not acknowledged.
   */
  @Test
  void damageBelowTheSnapshotIsRepairedFromPeersBeforeAnythingBeyondItIsServed() throws Exception {
    try (MiniCluster c = MiniCluster.start(3, dir, overrides(100))) {
      c.createTopic(TOPIC, 1, 3);
      List<String> truth = new ArrayList<>(produceAll(c, 0, 300));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 300);
      }
      int leader = c.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
      int damaged = leader % 3 + 1;
      PartitionReplica before = c.replica(damaged, TOPIC, 0);
      Path logDir = groupDir(damaged, "partitions", before).resolve("log");
      Path raftDir = groupDir(damaged, "raft", before);
      c.stopAll();

      long snapshotNext = snapshotNextOffset(raftDir);
      assertTrue(snapshotNext >= 150, "a recent snapshot: next offset " + snapshotNext);
      cutSegmentsAround(logDir, snapshotNext / 3);
      long cut = endAfterRecovery(logDir);
      assertTrue(cut < snapshotNext && cut < snapshotNext / 2, "the damage lies well below the snapshot: cut at "
          + cut + ", snapshot next offset " + snapshotNext);

      c.startBroker(damaged);
      PartitionStateMachine sm = Wait.forValue("the damaged replica restored and repairing", Duration.ofSeconds(60),
          () -> c.localReplica(damaged, TOPIC, 0).map(PartitionReplica::stateMachine)
              .filter(s -> s.isReady() && s.isRepairing()).orElse(null));
      PartitionReplica replica = c.localReplica(damaged, TOPIC, 0).orElseThrow();
      assertEquals(new RepairRange(cut, snapshotNext), sm.lastRepair());
      assertEquals(cut, sm.highWatermark(), "high watermark held at the start of the damage");
      // What is below the damage is served; nothing beyond it, and not as out of range either.
      PartitionReader.ReadResult below = PartitionReader.read(replica, 0, 16 * 1024 * 1024, false);
      assertEquals(truth.subList(0, (int) cut), below.records().stream().map(r -> r.getValue().toStringUtf8()).toList());
      BrokerException beyond = assertThrows(BrokerException.class,
          () -> PartitionReader.read(replica, cut + 1, 1024, true));
      assertEquals(ErrorCode.LEADER_NOT_AVAILABLE, beyond.code(), beyond.getMessage());
      StatusRuntimeException unavailable = assertThrows(StatusRuntimeException.class,
          () -> BrokerInternalServiceGrpc.newBlockingStub(c.channel(damaged)).withDeadlineAfter(10, TimeUnit.SECONDS)
              .readReplicaLog(ReadReplicaLogRequest.newBuilder().setTopic(TOPIC).setPartition(0).setMaxBytes(1024)
                  .build()));
      assertEquals(Status.Code.UNAVAILABLE, unavailable.getStatus().getCode());
      assertTrue(unavailable.getStatus().getDescription().contains("repairing"), unavailable.getStatus().toString());

      Reader reader = new Reader(replica, truth, cut, snapshotNext);
      reader.start();
      try {
        for (int b = 1; b <= 3; b++) {
          if (b != damaged) {
            c.startBroker(b);
          }
        }
        c.awaitAllRegistered(Duration.ofSeconds(60));
        awaitHighWatermark(c, damaged, 300);
      } finally {
        reader.stop();
      }
      reader.assertSawOnlyGoodData();
      assertTrue(reader.highWatermarks.contains(cut), "the reader saw the replica while it repaired");
      assertEquals(new RepairRange(cut, snapshotNext), sm.lastRepair());

      truth.addAll(produceAll(c, 300, 310));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 310);
      }
      assertReplicasIdentical(c, truth);
      assertTrue(c.fatalErrors().isEmpty(), c.fatalErrors().toString());
    }
  }

  /** A damaged replica, killed, with [cut, snapshotNext) lost below its snapshot. */
  private record Damage(int broker, long cut, long snapshotNext) {}

  /**
   * Kills {@code broker}, cuts its segment files well below its snapshot, and produces records
   * {@code [from, to)} through the others while it is down (appended to {@code truth}).
   */
  private Damage killAndDamage(MiniCluster c, int broker, List<String> truth, int from, int to) throws IOException {
    PartitionReplica before = c.replica(broker, TOPIC, 0);
    Path logDir = groupDir(broker, "partitions", before).resolve("log");
    Path raftDir = groupDir(broker, "raft", before);
    c.kill(broker);
    long snapshotNext = snapshotNextOffset(raftDir);
    cutSegmentsAround(logDir, snapshotNext / 3);
    long cut = endAfterRecovery(logDir);
    assertTrue(cut < snapshotNext, "damage below the snapshot: cut at " + cut + ", snapshot " + snapshotNext);
    truth.addAll(produceAll(c, from, to));
    return new Damage(broker, cut, snapshotNext);
  }

  /** This replica's own Raft priority in its local view of the group configuration; -1 if unknown. */
  private static int ownPriority(PartitionReplica r) {
    RaftServer.Division d = r.division();
    if (d == null) {
      return -1;
    }
    RaftPeer self = d.getRaftConf().getPeer(d.getId());
    return self == null ? -1 : self.getPriority();
  }

  /** The damaged replica's priority as the partition's current leader sees it (the one that counts). */
  private static int priorityAtLeader(MiniCluster c, int damaged) {
    int leader = c.leaderOf(TOPIC, 0).orElse(-1);
    if (leader < 0) {
      return -1;
    }
    RaftServer.Division d = c.replica(leader, TOPIC, 0).division();
    RaftPeer p = d == null ? null : d.getRaftConf().getPeer(GroupIds.peerId(damaged));
    return p == null ? -1 : p.getPriority();
  }

  private static int handOvers(MiniCluster c, int broker) {
    PartitionReplica r = c.localReplica(broker, TOPIC, 0).orElseThrow();
    return c.broker(broker).leadershipGuard().handOvers(r.groupId());
  }

  /**
   * The damaged replica is the preferred leader and comes back while its repair is held up. It
   * lowers its Raft priority below the healthy replicas', so leadership is not handed back to it:
   * the partition keeps taking acks=all writes through a healthy leader for the whole repair, and
   * the damaged replica serves fetches only below the damage. Released, it repairs, gets its
   * priority back, takes leadership back as the preferred leader, and the replicas agree.
   */
  @Test
  void aDamagedPreferredLeaderStaysOutOfLeadershipWhileRepairingAndTakesItBackAfter() throws Exception {
    try (MiniCluster c = MiniCluster.start(3, dir, overrides(100))) {
      c.createTopic(TOPIC, 1, 3);
      List<String> truth = new ArrayList<>(produceAll(c, 0, 250));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 250);
      }
      int preferred = c.broker(1).metadata().topic(TOPIC).orElseThrow().getAssignments(0).getReplicas(0);
      Wait.until("the preferred replica leads", Duration.ofSeconds(60),
          () -> c.leaderOf(TOPIC, 0).orElse(-1) == preferred);
      assertEquals(LeadershipGuard.PREFERRED_PRIORITY, ownPriority(c.replica(preferred, TOPIC, 0)));
      Damage damage = killAndDamage(c, preferred, truth, 250, 255);
      long cut = damage.cut();

      c.holdRepairs(preferred);
      c.startBroker(preferred);
      c.awaitAllRegistered(Duration.ofSeconds(60));
      PartitionStateMachine sm = Wait.forValue("the damaged replica restored and repairing", Duration.ofSeconds(60),
          () -> c.localReplica(preferred, TOPIC, 0).map(PartitionReplica::stateMachine)
              .filter(s -> s.isReady() && s.isRepairing()).orElse(null));
      PartitionReplica replica = c.localReplica(preferred, TOPIC, 0).orElseThrow();
      Wait.until("the damaged replica's priority lowered, at the leader too", Duration.ofSeconds(60),
          () -> ownPriority(replica) == LeadershipGuard.REPAIRING_PRIORITY
              && priorityAtLeader(c, preferred) == LeadershipGuard.REPAIRING_PRIORITY);

      // A healthy replica leads and takes acks=all writes while the repair is held.
      for (int i = 255; i < 265; i++) {
        assertEquals(i, produce(c, value(i)));
        truth.add(value(i));
        assertTrue(sm.isRepairing(), "the repair is still held");
        assertFalse(replica.isLeader(), "the repairing replica does not lead");
      }
      int leader = c.leaderOf(TOPIC, 0).orElseThrow();
      assertNotEquals(preferred, leader);
      for (int b = 1; b <= 3; b++) {
        if (b != preferred) {
          awaitHighWatermark(c, b, 265);
        }
      }

      // The damaged replica serves only what lies below the damage, and nothing as out of range.
      assertEquals(cut, sm.highWatermark());
      FetchPartitionResult fetched = Wait.forValue("a fetch answered by the damaged replica", Duration.ofSeconds(30),
          () -> {
            FetchPartitionResult r = fetch(c, preferred, 0);
            return r.getError().getCode() == ErrorCode.NONE ? r : null;
          });
      assertEquals(cut, fetched.getHighWatermark());
      assertEquals(truth.subList(0, (int) cut), fetched.getRecordsList().stream().map(r -> r.getValue().toStringUtf8())
          .toList());
      assertEquals(ErrorCode.LEADER_NOT_AVAILABLE, fetch(c, preferred, cut + 1).getError().getCode());
      ListOffsetsResult latest = FetchServiceGrpc.newBlockingStub(c.channel(preferred))
          .withDeadlineAfter(10, TimeUnit.SECONDS).listOffsets(ListOffsetsRequest.newBuilder()
              .addPartitions(ListOffsetsPartition.newBuilder().setTopic(TOPIC).setPartition(0)
                  .setSpec(OffsetSpec.LATEST)).build()).getResults(0);
      assertEquals(ErrorCode.LEADER_NOT_AVAILABLE, latest.getError().getCode());
      assertTrue(sm.isRepairing());

      c.releaseRepairs(preferred);
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 265);
      }
      assertEquals(new RepairRange(cut, damage.snapshotNext()), sm.lastRepair());
      Wait.until("the repaired preferred replica gets its priority and leadership back", Duration.ofSeconds(60),
          () -> ownPriority(replica) == LeadershipGuard.PREFERRED_PRIORITY && c.leaderOf(TOPIC, 0).orElse(-1) == preferred);
      assertReplicasIdentical(c, truth);
      truth.addAll(produceAll(c, 265, 270));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 270);
      }
      assertReplicasIdentical(c, truth);
      assertTrue(c.fatalErrors().isEmpty(), c.fatalErrors().toString());
    }
  }

  /**
   * The whole cluster restarts and the preferred leader's segment files are damaged: it comes back
   * first, with its repair held, still at the top priority (no leader existed to lower it), so it
   * is the only replica the others can elect (a live higher-priority voter with an equally long log
   * vetoes every other candidate). It becomes leader-ready all the same (its applies are deferred,
   * not blocking Ratis), lowers its priority and hands leadership to a healthy replica; acks=all
   * produces succeed while the repair is still held.
   */
  @Test
  void afterAWholeClusterRestartTheDamagedPreferredLeaderHandsLeadershipOver() throws Exception {
    try (MiniCluster c = MiniCluster.start(3, dir, overrides(100))) {
      c.createTopic(TOPIC, 1, 3);
      List<String> truth = new ArrayList<>(produceAll(c, 0, 250));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 250);
      }
      int preferred = c.broker(1).metadata().topic(TOPIC).orElseThrow().getAssignments(0).getReplicas(0);
      Wait.until("the preferred replica leads", Duration.ofSeconds(60),
          () -> c.leaderOf(TOPIC, 0).orElse(-1) == preferred);
      PartitionReplica before = c.replica(preferred, TOPIC, 0);
      Path logDir = groupDir(preferred, "partitions", before).resolve("log");
      Path raftDir = groupDir(preferred, "raft", before);
      // The followers first, then the leader: no replica's Raft log is ahead of the damaged one's.
      for (int b = 1; b <= 3; b++) {
        if (b != preferred) {
          c.kill(b);
        }
      }
      c.kill(preferred);
      long snapshotNext = snapshotNextOffset(raftDir);
      cutSegmentsAround(logDir, snapshotNext / 3);
      long cut = endAfterRecovery(logDir);
      assertTrue(cut < snapshotNext, "damage below the snapshot: cut at " + cut + ", snapshot " + snapshotNext);

      c.holdRepairs(preferred);
      c.startBroker(preferred);
      PartitionStateMachine sm = Wait.forValue("the damaged replica restored and repairing", Duration.ofSeconds(60),
          () -> c.localReplica(preferred, TOPIC, 0).map(PartitionReplica::stateMachine)
              .filter(s -> s.isReady() && s.isRepairing()).orElse(null));
      for (int b = 1; b <= 3; b++) {
        if (b != preferred) {
          c.startBroker(b);
        }
      }
      c.awaitAllRegistered(Duration.ofSeconds(60));
      int healthy = Wait.forValue("a healthy replica leads", Duration.ofSeconds(60),
          () -> c.leaderOf(TOPIC, 0).filter(l -> l != preferred).orElse(null));
      assertTrue(handOvers(c, preferred) > 0, "the damaged preferred replica was elected and handed leadership over");
      for (int i = 250; i < 260; i++) {
        assertEquals(i, produce(c, value(i)));
        truth.add(value(i));
      }
      assertTrue(sm.isRepairing(), "the produces succeeded while the repair was held");
      assertEquals(cut, sm.highWatermark());
      Wait.until("the damaged replica's priority lowered at the leader", Duration.ofSeconds(60),
          () -> priorityAtLeader(c, preferred) == LeadershipGuard.REPAIRING_PRIORITY);
      assertNotEquals(preferred, healthy);

      c.releaseRepairs(preferred);
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 260);
      }
      Wait.until("the repaired preferred replica gets its priority and leadership back", Duration.ofSeconds(60),
          () -> ownPriority(c.replica(preferred, TOPIC, 0)) == LeadershipGuard.PREFERRED_PRIORITY
              && c.leaderOf(TOPIC, 0).orElse(-1) == preferred);
      assertReplicasIdentical(c, truth);
      assertTrue(c.fatalErrors().isEmpty(), c.fatalErrors().toString());
    }
  }

  /**
   * A repairing replica that becomes leader anyway (here an operator raises its priority above all
   * and transfers leadership to it) cannot take writes, so it steps down at once: a healthy replica
   * leads within seconds and acks=all produces succeed while the repair is still held; the damaged
   * replica lowers its priority again. Released, it repairs and the replicas agree on exactly the
   * acknowledged records.
   */
  @Test
  void aRepairingReplicaThatBecomesLeaderHandsLeadershipToAHealthyReplica() throws Exception {
    try (MiniCluster c = MiniCluster.start(3, dir, overrides(100))) {
      c.createTopic(TOPIC, 1, 3);
      List<String> truth = new ArrayList<>(produceAll(c, 0, 250));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 250);
      }
      int damaged = c.awaitLeader(TOPIC, 0, Duration.ofSeconds(30)) % 3 + 1;
      Damage damage = killAndDamage(c, damaged, truth, 250, 255);

      c.holdRepairs(damaged);
      c.startBroker(damaged);
      c.awaitAllRegistered(Duration.ofSeconds(60));
      PartitionStateMachine sm = Wait.forValue("the damaged replica restored and repairing", Duration.ofSeconds(60),
          () -> c.localReplica(damaged, TOPIC, 0).map(PartitionReplica::stateMachine)
              .filter(s -> s.isReady() && s.isRepairing()).orElse(null));
      PartitionReplica replica = c.localReplica(damaged, TOPIC, 0).orElseThrow();
      Wait.until("the damaged replica caught up with the Raft log, priority lowered", Duration.ofSeconds(60),
          () -> ownPriority(replica) == LeadershipGuard.REPAIRING_PRIORITY && replica.division() != null
              && replica.division().getRaftLog().getLastCommittedIndex() > replica.division().getRaftLog()
                  .getSnapshotIndex());

      // Make it leader: highest priority, then a leadership transfer to it (its own guard lowers the
      // priority again as soon as it sees it, so this may take a few tries).
      RaftPeerId target = GroupIds.peerId(damaged);
      try (RaftClient admin = RaftClients.create(replica.division().getGroup(), 1024 * 1024)) {
        Wait.until("the damaged replica became leader once", Duration.ofSeconds(90), () -> {
          if (handOvers(c, damaged) > 0) {
            return true;
          }
          List<RaftPeer> peers = replica.division().getRaftConf().getCurrentPeers().stream()
              .map(p -> RaftPeer.newBuilder(p).setPriority(p.getId().equals(target) ? 9 : 1).build()).toList();
          try {
            admin.admin().setConfiguration(peers);
            admin.admin().transferLeadership(target, 3_000);
          } catch (IOException e) {
            // lost the race against the replica's guard, or no leader right now: try again
          }
          return handOvers(c, damaged) > 0;
        });
      }
      long handedOverAt = System.nanoTime();
      assertTrue(sm.isRepairing(), "still repairing when it led");

      // A healthy replica leads within a deadline and takes acks=all writes; the repair is still held.
      int healthy = Wait.forValue("a healthy replica leads", Duration.ofSeconds(20),
          () -> c.leaderOf(TOPIC, 0).filter(l -> l != damaged).orElse(null));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - handedOverAt);
      assertTrue(tookMs < 20_000, "handed over in " + tookMs + " ms");
      for (int i = 255; i < 265; i++) {
        assertEquals(i, produce(c, value(i)));
        truth.add(value(i));
      }
      assertTrue(sm.isRepairing(), "the produces succeeded while the repair was held");
      assertEquals(damage.cut(), sm.highWatermark());
      Wait.until("the damaged replica's priority lowered again, not leading", Duration.ofSeconds(60),
          () -> priorityAtLeader(c, damaged) == LeadershipGuard.REPAIRING_PRIORITY && !replica.isLeader());
      assertNotEquals(-1, healthy);

      c.releaseRepairs(damaged);
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 265);
      }
      assertEquals(new RepairRange(damage.cut(), damage.snapshotNext()), sm.lastRepair());
      Wait.until("the repaired replica gets a normal priority back", Duration.ofSeconds(60),
          () -> ownPriority(replica) >= LeadershipGuard.FOLLOWER_PRIORITY);
      truth.addAll(produceAll(c, 265, 270));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 270);
      }
      assertReplicasIdentical(c, truth);
      assertTrue(c.fatalErrors().isEmpty(), c.fatalErrors().toString());
    }
  }

  /**
   * A broker shut down while its replica's apply thread waits for a held-up repair closes promptly
   * (Ratis joins the apply thread without interrupting it) and quietly: one INFO line says which
   * entries are left unapplied, instead of one ERROR with a stack trace per committed entry. Nothing
   * was applied: after a restart the replica repairs and catches up, and the replicas agree.
   */
  @Test
  void closingWhileTheApplyThreadWaitsForTheRepairIsPromptAndQuiet() throws Exception {
    try (MiniCluster c = MiniCluster.start(3, dir, overrides(100))) {
      c.createTopic(TOPIC, 1, 3);
      List<String> truth = new ArrayList<>(produceAll(c, 0, 250));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 250);
      }
      int leader = c.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
      int damaged = leader % 3 + 1;
      killAndDamage(c, damaged, truth, 250, 260);

      c.holdRepairs(damaged);
      c.startBroker(damaged);
      // Entries after the snapshot are committed: the apply thread has reached them and waits.
      Wait.until("the damaged replica knows entries after its snapshot are committed", Duration.ofSeconds(60),
          () -> c.localReplica(damaged, TOPIC, 0).map(r -> r.division() != null && r.stateMachine().isRepairing()
              && r.division().getRaftLog().getLastCommittedIndex() > r.division().getRaftLog().getSnapshotIndex() + 5)
              .orElse(false));
      PartitionReplica replica = c.localReplica(damaged, TOPIC, 0).orElseThrow();
      long committed = replica.division().getRaftLog().getLastCommittedIndex();
      long applied = replica.stateMachine().getLastAppliedTermIndex().getIndex();
      assertTrue(committed - applied > 5, "entries wait to be applied: committed " + committed + ", applied " + applied);
      String member = damaged + "@" + replica.groupId();
      String who = "broker-" + damaged + " " + TOPIC + "-0";
      long start = System.nanoTime();
      List<String> logged;
      try (LogCapture capture = LogCapture.start()) {
        c.kill(damaged);
        capture.close();
        logged = capture.lines();
      }
      long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(closeMs < 15_000, "closed in " + closeMs + " ms");
      List<String> failedApplies = logged.stream().filter(l -> l.contains(member) && l.contains("applying txn")).toList();
      assertTrue(failedApplies.isEmpty(), "no failed apply per entry: " + failedApplies);
      List<String> unapplied = logged.stream().filter(l -> l.contains(who) && l.contains("left unapplied")).toList();
      assertEquals(1, unapplied.size(), "one line says what was left unapplied: " + unapplied);
      List<String> aboutTheReplica = logged.stream().filter(l -> l.contains(member) || l.contains(who)).toList();
      assertTrue(aboutTheReplica.size() <= 5, "a few lines about the closing replica: " + aboutTheReplica);
      assertTrue(logged.stream().noneMatch(l -> l.contains("ERROR") && (l.contains(member) || l.contains(who))),
          "no ERROR about the closing replica: " + aboutTheReplica);

      c.releaseRepairs(damaged);
      c.startBroker(damaged);
      c.awaitAllRegistered(Duration.ofSeconds(60));
      awaitHighWatermark(c, damaged, 260);
      assertReplicasIdentical(c, truth);
      assertTrue(c.fatalErrors().isEmpty(), c.fatalErrors().toString());
    }
  }

  /**
   * Damage above the snapshot's next offset (a corrupt last batch) needs no repair: recovery cuts
   * it, and Raft replays the entries after the snapshot, writing the missing batches again.
   */
  @Test
  void damageAboveTheSnapshotIsHealedByReplay() throws Exception {
    // One snapshot, at about offset 100; the damage is at 149.
    try (MiniCluster c = MiniCluster.start(3, dir, overrides(100))) {
      c.createTopic(TOPIC, 1, 3);
      List<String> truth = new ArrayList<>(produceAll(c, 0, 150));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 150);
      }
      int leader = c.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
      int damaged = leader % 3 + 1;
      PartitionReplica before = c.replica(damaged, TOPIC, 0);
      Path logDir = groupDir(damaged, "partitions", before).resolve("log");
      Path raftDir = groupDir(damaged, "raft", before);
      c.kill(damaged);

      long snapshotNext = snapshotNextOffset(raftDir);
      flipByteInLastBatch(logDir);
      long cut = endAfterRecovery(logDir);
      assertEquals(149, cut, "recovery cuts the corrupt last batch");
      assertTrue(snapshotNext <= cut, "the damage lies above the snapshot: cut at " + cut + ", snapshot " + snapshotNext);

      c.startBroker(damaged);
      c.awaitAllRegistered(Duration.ofSeconds(60));
      awaitHighWatermark(c, damaged, 150);
      assertNull(c.localReplica(damaged, TOPIC, 0).orElseThrow().stateMachine().lastRepair(), "no repair needed");
      assertReplicasIdentical(c, truth);
      truth.addAll(produceAll(c, 150, 155));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 155);
      }
      assertReplicasIdentical(c, truth);
    }
  }

  private static FetchPartitionResult fetch(MiniCluster c, int broker, long offset) {
    return FetchServiceGrpc.newBlockingStub(c.channel(broker)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .fetch(FetchRequest.newBuilder().addPartitions(FetchPartition.newBuilder().setTopic(TOPIC).setPartition(0)
            .setOffset(offset).setMaxBytes(16 * 1024 * 1024)).build()).getResults(0);
  }

  /**
   * Reads the replica from offset 0 whenever its high watermark moves (long-poll style, no sleeps),
   * recording every high watermark seen and checking every record against what was acknowledged.
   */
  private static final class Reader {
    final PartitionReplica replica;
    final List<String> truth;
    final long cut;
    final long snapshotNext;
    final List<Long> highWatermarks = new CopyOnWriteArrayList<>();
    final List<String> problems = new CopyOnWriteArrayList<>();
    volatile boolean stopped;
    final Thread thread;

    Reader(PartitionReplica replica, List<String> truth, long cut, long snapshotNext) {
      this.replica = replica;
      this.truth = List.copyOf(truth);
      this.cut = cut;
      this.snapshotNext = snapshotNext;
      this.thread = new Thread(this::run, "repair-test-reader");
      this.thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    void run() {
      long seen = -1;
      while (!stopped) {
        PartitionStateMachine sm = replica.stateMachine();
        try {
          long hw = sm.highWatermark();
          if (hw == seen) {
            CompletableFuture<Void> moved = sm.awaitBeyond(hw);
            try {
              moved.get(200, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
              sm.cancelWait(moved);
            }
            continue;
          }
          PartitionReader.ReadResult r = PartitionReader.read(replica, 0, 64 * 1024 * 1024, false);
          seen = r.highWatermark();
          highWatermarks.add(seen);
          if (seen > cut && seen < snapshotNext) {
            problems.add("high watermark " + seen + " inside the damaged range [" + cut + ", " + snapshotNext + ")");
          }
          for (Record rec : r.records()) {
            if (rec.getOffset() >= seen) {
              problems.add("record at " + rec.getOffset() + " at or beyond the high watermark " + seen);
            } else if (rec.getOffset() < truth.size() && !truth.get((int) rec.getOffset()).equals(rec.getValue()
                .toStringUtf8())) {
              problems.add("wrong record at offset " + rec.getOffset());
            }
          }
        } catch (BrokerException e) {
          // a retriable answer while the replica changes state; read again
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
          return;
        } catch (RuntimeException e) {
          problems.add("read failed: " + e);
        }
      }
    }

    void stop() throws InterruptedException {
      stopped = true;
      thread.join(30_000);
    }

    void assertSawOnlyGoodData() {
      assertTrue(problems.isEmpty(), problems.toString());
      assertFalse(highWatermarks.isEmpty());
    }
  }
}
