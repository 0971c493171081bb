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
import io.raftlog.broker.partition.PartitionReader;
import io.raftlog.broker.partition.PartitionReplica;
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
import java.io.UncheckedIOException;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
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

  /** Produces one record through whoever leads (retrying while leadership moves); returns its offset. */
  private static long produce(MiniCluster c, String value) {
    long[] offset = new long[1];
    Wait.until("record " + value.substring(0, Math.min(10, value.length())) + " produced", Duration.ofSeconds(90),
        () -> {
          int leader = c.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
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

  /**
   * The damaged replica is the preferred leader: it takes leadership back while its repair is held
   * up. It cannot become leader-ready (its first entry of the term waits for the repair), so
   * produces sent to it fail retriably and are not applied, and fetches from it see the high
   * watermark at the damage. Released, it repairs, applies, leads, and the replicas agree.
   */
  @Test
  void aDamagedReplicaElectedLeaderServesNothingBeyondTheDamageUntilRepaired() throws Exception {
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
      c.kill(preferred);

      long snapshotNext = snapshotNextOffset(raftDir);
      cutSegmentsAround(logDir, snapshotNext / 3);
      long cut = endAfterRecovery(logDir);
      assertTrue(cut < snapshotNext, "damage below the snapshot: cut at " + cut + ", snapshot " + snapshotNext);

      // The others go on without it.
      truth.addAll(produceAll(c, 250, 255));

      c.holdRepairs(preferred);
      c.startBroker(preferred);
      c.awaitAllRegistered(Duration.ofSeconds(60));
      Wait.until("the damaged replica leads its group again, still repairing", Duration.ofSeconds(90),
          () -> c.localReplica(preferred, TOPIC, 0).map(r -> r.isLeader() && r.stateMachine().isRepairing())
              .orElse(false));
      PartitionReplica replica = c.localReplica(preferred, TOPIC, 0).orElseThrow();
      PartitionStateMachine sm = replica.stateMachine();
      assertFalse(replica.isLeaderReady(), "not ready while its entries cannot be applied");
      assertEquals(cut, sm.highWatermark());

      // Fetches see the high watermark at the damage, and only good records below it.
      FetchPartitionResult fetched = Wait.forValue("a fetch answered by the damaged leader", Duration.ofSeconds(30),
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

      // A produce sent to it now is refused retriably, not applied.
      AtomicBoolean released = new AtomicBoolean();
      PartitionProduceResult refused = produceVia(c, preferred, "refused");
      assertNotEquals(ErrorCode.NONE, refused.getError().getCode(), "no produce succeeds before the repair");
      assertTrue(refused.getError().getCode() == ErrorCode.LEADER_NOT_AVAILABLE
          || refused.getError().getCode() == ErrorCode.NOT_LEADER, refused.getError().toString());
      // One that keeps retrying succeeds only once released.
      CompletableFuture<Long> pending = CompletableFuture.supplyAsync(() -> {
        long offset = produce(c, value(255));
        assertTrue(released.get(), "a produce succeeded before the repair was released");
        return offset;
      });
      assertEquals(cut, sm.highWatermark());
      assertTrue(sm.isRepairing());

      released.set(true);
      c.releaseRepairs(preferred);
      assertEquals(255, pending.get(120, TimeUnit.SECONDS));
      truth.add(value(255));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 256);
      }
      assertEquals(new RepairRange(cut, snapshotNext), sm.lastRepair());
      assertReplicasIdentical(c, truth);
      truth.addAll(produceAll(c, 256, 260));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 260);
      }
      assertReplicasIdentical(c, truth);
    }
  }

  /**
   * A broker shut down while its replica's apply thread waits for a held-up repair closes promptly
   * (Ratis joins the apply thread without interrupting it), applies nothing, and after a restart
   * the replica repairs and catches up.
   */
  @Test
  void closingWhileTheApplyThreadWaitsForTheRepairDoesNotHang() throws Exception {
    try (MiniCluster c = MiniCluster.start(3, dir, overrides(100))) {
      c.createTopic(TOPIC, 1, 3);
      List<String> truth = new ArrayList<>(produceAll(c, 0, 250));
      for (int b = 1; b <= 3; b++) {
        awaitHighWatermark(c, b, 250);
      }
      int leader = c.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
      int damaged = leader % 3 + 1;
      PartitionReplica before = c.replica(damaged, TOPIC, 0);
      Path logDir = groupDir(damaged, "partitions", before).resolve("log");
      Path raftDir = groupDir(damaged, "raft", before);
      c.kill(damaged);
      long snapshotNext = snapshotNextOffset(raftDir);
      cutSegmentsAround(logDir, snapshotNext / 3);
      truth.addAll(produceAll(c, 250, 260));

      c.holdRepairs(damaged);
      c.startBroker(damaged);
      // Entries after the snapshot are committed: the apply thread has reached them and waits.
      Wait.until("the damaged replica knows entries after its snapshot are committed", Duration.ofSeconds(60),
          () -> c.localReplica(damaged, TOPIC, 0).map(r -> r.division() != null && r.stateMachine().isRepairing()
              && r.division().getRaftLog().getLastCommittedIndex() > r.division().getRaftLog().getSnapshotIndex())
              .orElse(false));
      long start = System.nanoTime();
      c.kill(damaged);
      long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(closeMs < 15_000, "closed in " + closeMs + " ms");

      c.releaseRepairs(damaged);
      c.startBroker(damaged);
      c.awaitAllRegistered(Duration.ofSeconds(60));
      awaitHighWatermark(c, damaged, 260);
      assertReplicasIdentical(c, truth);
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
