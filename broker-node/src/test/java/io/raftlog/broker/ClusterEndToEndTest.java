package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.CreateTopicRequest;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.DescribeTopicResponse;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.InitProducerIdRequest;
import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.PartitionDescription;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.broker.rpc.GrpcErrors;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** End to end through the public gRPC API of an in-process 3-broker cluster. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterEndToEndTest {

  @TempDir
  static Path dir;
  static MiniCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = MiniCluster.start(3, dir);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static AdminServiceGrpc.AdminServiceBlockingStub admin(int broker) {
    return AdminServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  static ProduceServiceGrpc.ProduceServiceBlockingStub producer(int broker) {
    return ProduceServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(40, TimeUnit.SECONDS);
  }

  static FetchServiceGrpc.FetchServiceBlockingStub fetcher(int broker) {
    return FetchServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  static void createTopic(String name, int partitions, int rf) {
    cluster.createTopic(name, partitions, rf);
  }

  static Record record(String value) {
    return Record.newBuilder().setValue(ByteString.copyFromUtf8(value)).build();
  }

  static PartitionProduceResult produce(int broker, String topic, int partition, Acks acks, String... values) {
    PartitionProduceData.Builder data = PartitionProduceData.newBuilder().setTopic(topic).setPartition(partition);
    for (String v : values) {
      data.addRecords(record(v));
    }
    return producer(broker).produce(ProduceRequest.newBuilder().setAcks(acks).addPartitions(data).build()).getResults(0);
  }

  static FetchPartitionResult fetch(int broker, String topic, int partition, long offset, int maxWaitMs) {
    return fetcher(broker).fetch(FetchRequest.newBuilder().setMaxWaitMs(maxWaitMs)
        .addPartitions(FetchPartition.newBuilder().setTopic(topic).setPartition(partition).setOffset(offset)).build())
        .getResults(0);
  }

  static List<String> values(FetchPartitionResult r) {
    return r.getRecordsList().stream().map(rec -> rec.getValue().toString(StandardCharsets.UTF_8)).toList();
  }

  @Test
  void producesAndFetchesWithEveryAcksLevel() {
    createTopic("acks", 1, 3);
    int leader = cluster.awaitLeader("acks", 0, Duration.ofSeconds(30));
    PartitionProduceResult all = produce(leader, "acks", 0, Acks.ACKS_ALL, "a", "b");
    assertEquals(ErrorCode.NONE, all.getError().getCode(), all.getError().getMessage());
    assertEquals(0, all.getBaseOffset());
    PartitionProduceResult one = produce(leader, "acks", 0, Acks.ACKS_LEADER, "c");
    assertEquals(ErrorCode.NONE, one.getError().getCode(), one.getError().getMessage());
    assertEquals(2, one.getBaseOffset());
    PartitionProduceResult none = produce(leader, "acks", 0, Acks.ACKS_NONE, "d");
    assertEquals(-1, none.getBaseOffset());
    // Produce through a broker that is not the leader: forwarded by its Ratis client.
    int other = leader == 1 ? 2 : 1;
    PartitionProduceResult forwarded = produce(other, "acks", 0, Acks.ACKS_ALL, "e");
    assertEquals(ErrorCode.NONE, forwarded.getError().getCode(), forwarded.getError().getMessage());
    assertEquals(4, forwarded.getBaseOffset());
    // Every replica serves the same committed records.
    for (int broker = 1; broker <= 3; broker++) {
      int b = broker;
      Wait.until("broker " + b + " caught up", Duration.ofSeconds(20), () -> fetch(b, "acks", 0, 0, 0).getHighWatermark() == 5);
      FetchPartitionResult r = fetch(b, "acks", 0, 0, 0);
      assertEquals(List.of("a", "b", "c", "d", "e"), values(r));
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), r.getRecordsList().stream().map(Record::getOffset).toList());
    }
    FetchPartitionResult fromMiddle = fetch(leader, "acks", 0, 3, 0);
    assertEquals(List.of("d", "e"), values(fromMiddle));
  }

  @Test
  void longPollWaitsForDataAndOutOfRangeIsAnError() throws Exception {
    createTopic("poll", 1, 3);
    int leader = cluster.awaitLeader("poll", 0, Duration.ofSeconds(30));
    var pending = FetchServiceGrpc.newFutureStub(cluster.channel(leader)).fetch(FetchRequest.newBuilder().setMaxWaitMs(10_000)
        .addPartitions(FetchPartition.newBuilder().setTopic("poll").setPartition(0).setOffset(0)).build());
    assertFalse(pending.isDone());
    produce(leader, "poll", 0, Acks.ACKS_ALL, "late");
    FetchPartitionResult r = pending.get(10, TimeUnit.SECONDS).getResults(0);
    assertEquals(List.of("late"), values(r));
    FetchPartitionResult beyond = fetch(leader, "poll", 0, 5, 0);
    assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, beyond.getError().getCode());
    FetchPartitionResult empty = fetch(leader, "poll", 0, 1, 50);
    assertEquals(ErrorCode.NONE, empty.getError().getCode());
    assertTrue(empty.getRecordsList().isEmpty());
  }

  @Test
  void idempotentRetryGetsOriginalOffsets() {
    createTopic("idem", 1, 3);
    int leader = cluster.awaitLeader("idem", 0, Duration.ofSeconds(30));
    InitProducerIdResponse pid = producer(leader).initProducerId(InitProducerIdRequest.getDefaultInstance());
    PartitionProduceData batch = PartitionProduceData.newBuilder().setTopic("idem").setPartition(0)
        .setProducerId(pid.getProducerId()).setProducerEpoch(pid.getProducerEpoch()).setBaseSequence(0)
        .addRecords(record("x")).addRecords(record("y")).build();
    ProduceRequest request = ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(batch).build();
    assertEquals(0, producer(leader).produce(request).getResults(0).getBaseOffset());
    assertEquals(0, producer(leader).produce(request).getResults(0).getBaseOffset(), "a retry is deduplicated");
    PartitionProduceData gap = batch.toBuilder().setBaseSequence(7).build();
    PartitionProduceResult outOfOrder = producer(leader).produce(ProduceRequest.newBuilder()
        .setAcks(Acks.ACKS_ALL).addPartitions(gap).build()).getResults(0);
    assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE, outOfOrder.getError().getCode());
    assertEquals(2, fetch(leader, "idem", 0, 0, 0).getHighWatermark());
  }

  @Test
  void exposesHealthAndReflection() throws Exception {
    var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(cluster.channel(2)).withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance());
    assertEquals(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
    java.util.concurrent.CompletableFuture<List<String>> services = new java.util.concurrent.CompletableFuture<>();
    var requests = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(cluster.channel(2)).serverReflectionInfo(
        new io.grpc.stub.StreamObserver<io.grpc.reflection.v1.ServerReflectionResponse>() {
          @Override
          public void onNext(io.grpc.reflection.v1.ServerReflectionResponse r) {
            services.complete(r.getListServicesResponse().getServiceList().stream()
                .map(io.grpc.reflection.v1.ServiceResponse::getName).toList());
          }

          @Override
          public void onError(Throwable t) {
            services.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
    List<String> names = services.get(10, TimeUnit.SECONDS);
    requests.onCompleted();
    assertTrue(names.containsAll(List.of("raftlog.api.v1.ProduceService", "raftlog.api.v1.FetchService",
        "raftlog.api.v1.AdminService", "raftlog.api.v1.MetadataService", "grpc.health.v1.Health")), names.toString());
  }

  @Test
  void validatesTopicsLikeKafka() {
    StatusRuntimeException badName = assertThrows(StatusRuntimeException.class, () -> admin(2).createTopic(
        CreateTopicRequest.newBuilder().setName("bad name!").setPartitions(1).setReplicationFactor(1).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, badName.getStatus().getCode());
    assertEquals(ErrorCode.INVALID_ARGUMENT, badName.getTrailers().get(GrpcErrors.ERROR_KEY).getCode());
    StatusRuntimeException badRf = assertThrows(StatusRuntimeException.class, () -> admin(2).createTopic(
        CreateTopicRequest.newBuilder().setName("rf").setPartitions(1).setReplicationFactor(4).build()));
    assertTrue(badRf.getStatus().getDescription().contains("replication factor 4"), badRf.getStatus().getDescription());
    createTopic("dup", 1, 1);
    StatusRuntimeException dup = assertThrows(StatusRuntimeException.class, () -> admin(3).createTopic(
        CreateTopicRequest.newBuilder().setName("dup").setPartitions(1).setReplicationFactor(1).build()));
    assertEquals(Status.Code.ALREADY_EXISTS, dup.getStatus().getCode());
    PartitionProduceResult missing = produce(1, "no-such-topic", 0, Acks.ACKS_ALL, "x");
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, missing.getError().getCode());
  }

  @Test
  void spreadsLeadersAndReportsIsr() {
    createTopic("spread", 3, 3);
    Wait.until("each broker leads one partition", Duration.ofSeconds(60), () -> {
      Set<Integer> leaders = new HashSet<>();
      for (int p = 0; p < 3; p++) {
        cluster.leaderOf("spread", p).ifPresent(leaders::add);
      }
      return leaders.size() == 3;
    });
    Wait.until("full ISR", Duration.ofSeconds(30), () -> {
      DescribeTopicResponse d = admin(1).describeTopic(DescribeTopicRequest.newBuilder().setName("spread").build());
      return d.getPartitionsList().stream().allMatch(p -> p.getIsrCount() == 3 && p.getLeaderId() > 0);
    });
    DescribeTopicResponse d = admin(2).describeTopic(DescribeTopicRequest.newBuilder().setName("spread").build());
    for (PartitionDescription p : d.getPartitionsList()) {
      assertEquals(3, p.getReplicasCount());
      assertEquals(p.getReplicas(0), p.getLeaderId(), "the preferred replica leads");
    }
  }
}
