package io.raftlog.broker;

import static io.raftlog.broker.ClusterEndToEndTest.values;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.DeleteTopicRequest;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.ListTopicsRequest;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Broker restarts, full-cluster restarts, leader loss and topic deletion on an in-process cluster. */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RestartAndFailoverTest {

  @TempDir
  Path dir;

  private static PartitionProduceResult produce(MiniCluster c, int broker, String topic, String value) {
    return ProduceServiceGrpc.newBlockingStub(c.channel(broker)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(PartitionProduceData.newBuilder()
            .setTopic(topic).setPartition(0).addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(value))))
            .build()).getResults(0);
  }

  /**
   * Produces one record as sequence {@code sequence} of an idempotent producer, retrying through
   * leader changes: a retry of an attempt that was appended after all is answered with the
   * original offset instead of writing the record twice, so the caller can still assert offsets.
   */
  private static PartitionProduceResult produceIdempotently(MiniCluster c, String topic, long producerId,
      int sequence, String value) {
    return Wait.forValue("record " + sequence + " of " + topic + " acknowledged", Duration.ofSeconds(60), () -> {
      int leader = c.awaitLeader(topic, 0, Duration.ofSeconds(30));
      PartitionProduceResult r = ProduceServiceGrpc.newBlockingStub(c.channel(leader))
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(PartitionProduceData.newBuilder()
              .setTopic(topic).setPartition(0).setProducerId(producerId).setProducerEpoch(0).setBaseSequence(sequence)
              .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(value)))).build())
          .getResults(0);
      return RETRIABLE.contains(r.getError().getCode()) ? null : r;
    });
  }

  private static final java.util.Set<ErrorCode> RETRIABLE = java.util.EnumSet.of(ErrorCode.NOT_LEADER,
      ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS,
      ErrorCode.BROKER_NOT_AVAILABLE);

  private static long initProducerId(MiniCluster c, int broker) {
    return Wait.forValue("a producer id", Duration.ofSeconds(30), () -> ProduceServiceGrpc
        .newBlockingStub(c.channel(broker)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .initProducerId(io.raftlog.api.v1.InitProducerIdRequest.getDefaultInstance()).getProducerId());
  }

  private static FetchPartitionResult fetchAll(MiniCluster c, int broker, String topic) {
    return FetchServiceGrpc.newBlockingStub(c.channel(broker)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .fetch(FetchRequest.newBuilder().addPartitions(FetchPartition.newBuilder().setTopic(topic).setPartition(0)
            .setOffset(0).setMaxBytes(16 * 1024 * 1024)).build()).getResults(0);
  }

  private static void create(MiniCluster c, String topic) {
    c.createTopic(topic, 1, 3);
  }

  @Test
  void dataSurvivesBrokerAndFullClusterRestart() {
    List<String> written = new ArrayList<>();
    // Small snapshot threshold and Raft segments so that restarts exercise snapshots, a purged Raft
    // log and replay of the entries after the snapshot.
    String padding = "p".repeat(3000);
    try (MiniCluster c = MiniCluster.start(3, dir, Map.of("raft.snapshot.threshold.entries", "100",
        "segment.bytes", "4096", "max.batch.bytes", "65536", "raft.log.segment.bytes", "393216"))) {
      create(c, "durable");
      // Leadership can move at any time (notably right after the full restart below), so records
      // are produced idempotently and retried; the offsets must still come out exactly 0..250.
      long producerId = initProducerId(c, 1);
      for (int i = 0; i < 250; i++) {
        PartitionProduceResult r = produceIdempotently(c, "durable", producerId, i, "m-" + i + padding);
        assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
        assertEquals(i, r.getBaseOffset());
        written.add("m-" + i + padding);
      }
      Wait.until("Raft log purged below the snapshot on every broker", Duration.ofSeconds(30),
          () -> java.util.stream.IntStream.rangeClosed(1, 3).allMatch(b -> firstRaftIndex(b, c, "durable") > 0));
      int follower = c.runningIds().stream().filter(id -> id != c.leaderOf("durable", 0).orElse(-1)).findFirst().orElseThrow();
      c.restart(follower);
      Wait.until("restarted follower caught up", Duration.ofSeconds(60),
          () -> fetchAll(c, follower, "durable").getHighWatermark() == 250);
      assertEquals(written, values(fetchAll(c, follower, "durable")));
      // Same directories and ports: the whole cluster comes back with its data and metadata.
      c.stopAll();
      c.startAll();
      c.awaitLeader("durable", 0, Duration.ofSeconds(60));
      PartitionProduceResult r = produceIdempotently(c, "durable", producerId, 250, "after-restart");
      assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
      assertEquals(250, r.getBaseOffset());
      written.add("after-restart");
      for (int b = 1; b <= 3; b++) {
        int broker = b;
        Wait.until("broker " + b + " has everything", Duration.ofSeconds(60),
            () -> fetchAll(c, broker, "durable").getHighWatermark() == 251);
        assertEquals(written, values(fetchAll(c, broker, "durable")));
      }
    }
  }

  /** Lowest Raft index still in a broker's log segments of the partition's group. */
  private long firstRaftIndex(int broker, MiniCluster c, String topic) {
    String group = c.replica(broker, topic, 0).groupId().getUuid().toString();
    Path current = dir.resolve("broker-" + broker).resolve("raft").resolve(group).resolve("current");
    try (Stream<Path> files = Files.list(current)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("log_"))
          .mapToLong(n -> Long.parseLong(n.replace("log_inprogress_", "").replace("log_", "").split("-")[0]))
          .min().orElse(-1);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void newLeaderTakesOverWithoutLosingAcknowledgedRecords() {
    try (MiniCluster c = MiniCluster.start(3, dir)) {
      create(c, "failover");
      List<String> acked = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        int leader = c.awaitLeader("failover", 0, Duration.ofSeconds(30));
        assertEquals(i, produce(c, leader, "failover", "a-" + i).getBaseOffset());
        acked.add("a-" + i);
      }
      int oldLeader = c.awaitLeader("failover", 0, Duration.ofSeconds(30));
      c.kill(oldLeader);
      int newLeader = Wait.forValue("a new leader", Duration.ofSeconds(30),
          () -> c.leaderOf("failover", 0).filter(id -> id != oldLeader).orElse(null));
      assertEquals(20, produce(c, newLeader, "failover", "b-0").getBaseOffset());
      acked.add("b-0");
      assertEquals(acked, values(fetchAll(c, newLeader, "failover")));
      c.startBroker(oldLeader);
      Wait.until("old leader caught up", Duration.ofSeconds(60),
          () -> fetchAll(c, oldLeader, "failover").getHighWatermark() == 21);
      assertEquals(acked, values(fetchAll(c, oldLeader, "failover")));
    }
  }

  @Test
  void killedFollowerLeavesTheIsrAndReturnsOnceCaughtUp() {
    // Snapshots and purges happen on the others while the follower is away: the Raft log must be
    // kept from the follower's commit index on so that it catches up from the log.
    try (MiniCluster c = MiniCluster.start(3, dir, Map.of("raft.snapshot.threshold.entries", "100",
        "max.batch.bytes", "65536", "raft.log.segment.bytes", "393216"))) {
      create(c, "isr");
      int leader = c.awaitLeader("isr", 0, Duration.ofSeconds(30));
      int follower = leader == 3 ? 2 : 3;
      int asker = 6 - leader - follower;
      Wait.until("full ISR", Duration.ofSeconds(30), () -> isr(c, asker).size() == 3);
      c.kill(follower);
      // replica.lag.time.max.ms is 2000 in the test kit; the deadline only bounds a hung test.
      Wait.until("follower out of the ISR", Duration.ofSeconds(30), () -> !isr(c, asker).contains(follower));
      String padding = "p".repeat(3000);
      for (int i = 0; i < 300; i++) {
        produce(c, leader, "isr", "while-away-" + i + padding);
      }
      c.startBroker(follower);
      Wait.until("follower back in the ISR", Duration.ofSeconds(60), () -> isr(c, asker).contains(follower));
      // In the ISR means replicated; applying to the segment files follows right after.
      Wait.until("follower applied everything", Duration.ofSeconds(30),
          () -> fetchAll(c, follower, "isr").getHighWatermark() == 300);
    }
  }

  private static List<Integer> isr(MiniCluster c, int broker) {
    return AdminServiceGrpc.newBlockingStub(c.channel(broker)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .describeTopic(io.raftlog.api.v1.DescribeTopicRequest.newBuilder().setName("isr").build())
        .getPartitions(0).getIsrList();
  }

  @Test
  void deletingTopicRemovesGroupsAndData() throws Exception {
    try (MiniCluster c = MiniCluster.start(3, dir)) {
      create(c, "doomed");
      int leader = c.awaitLeader("doomed", 0, Duration.ofSeconds(30));
      produce(c, leader, "doomed", "x");
      AdminServiceGrpc.newBlockingStub(c.channel(2)).withDeadlineAfter(20, TimeUnit.SECONDS)
          .deleteTopic(DeleteTopicRequest.newBuilder().setName("doomed").build());
      Wait.until("replicas removed everywhere", Duration.ofSeconds(30), () -> c.runningIds().stream()
          .allMatch(id -> c.broker(id).partitions().replicas().isEmpty()));
      for (int b = 1; b <= 3; b++) {
        Path partitions = dir.resolve("broker-" + b).resolve("partitions");
        Wait.until("partition data of broker " + b + " deleted", Duration.ofSeconds(30), () -> {
          try (Stream<Path> files = Files.list(partitions)) {
            return files.count() == 0;
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
      }
      assertEquals(0, AdminServiceGrpc.newBlockingStub(c.channel(3)).listTopics(ListTopicsRequest.getDefaultInstance())
          .getNamesCount());
      // The name can be used again, with fresh groups.
      create(c, "doomed");
      assertEquals(0, produce(c, c.awaitLeader("doomed", 0, Duration.ofSeconds(30)), "doomed", "y").getBaseOffset());
    }
  }
}
