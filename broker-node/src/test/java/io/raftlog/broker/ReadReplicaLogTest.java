package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.broker.rpc.BrokerInternalServiceImpl;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.internal.v1.BrokerInternalServiceGrpc;
import io.raftlog.internal.v1.ReadReplicaLogRequest;
import io.raftlog.internal.v1.ReadReplicaLogResponse;
import io.raftlog.log.v1.TopicRecord;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The internal ReadReplicaLog RPC: every replica's committed batches byte for byte, and its errors. */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ReadReplicaLogTest {

  @TempDir
  static Path dir;
  static MiniCluster cluster;

  @BeforeAll
  static void start() {
    cluster = MiniCluster.start(3, dir);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static ByteString batch(Compression compression, int records, int valueBytes, String prefix) {
    MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(records * (valueBytes + 64) + 128),
        RecordBatch.MAGIC_VALUE_V2, compression, TimestampType.CREATE_TIME, 0L);
    for (int i = 0; i < records; i++) {
      byte[] value = (prefix + "-" + i + "-" + "x".repeat(valueBytes)).getBytes(StandardCharsets.UTF_8);
      b.append(System.currentTimeMillis(), null, value);
    }
    return ByteString.copyFrom(b.build().buffer());
  }

  /** Appends a batch through the current leader, retrying while leadership moves; returns its base offset. */
  static long produce(String topic, ByteString batch) {
    long[] base = new long[1];
    Wait.until("batch appended to " + topic, Duration.ofSeconds(60), () -> {
      int leader = cluster.awaitLeader(topic, 0, Duration.ofSeconds(60));
      PartitionProduceResult r = ProduceServiceGrpc.newBlockingStub(cluster.channel(leader))
          .withDeadlineAfter(20, TimeUnit.SECONDS)
          .produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(PartitionProduceData.newBuilder()
              .setTopic(topic).setPartition(0).setRecordBatch(batch)).build())
          .getResults(0);
      base[0] = r.getBaseOffset();
      return r.getError().getCode() == ErrorCode.NONE;
    });
    return base[0];
  }

  static ReadReplicaLogResponse read(int broker, ReadReplicaLogRequest.Builder request) {
    return BrokerInternalServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .readReplicaLog(request.build());
  }

  static ReadReplicaLogRequest.Builder request(String topic, long offset, int maxBytes) {
    return ReadReplicaLogRequest.newBuilder().setTopic(topic).setPartition(0).setOffset(offset).setMaxBytes(maxBytes);
  }

  static List<MutableRecordBatch> batches(byte[] bytes) {
    List<MutableRecordBatch> out = new ArrayList<>();
    MemoryRecords.readableRecords(ByteBuffer.wrap(bytes)).batches().forEach(out::add);
    return out;
  }

  @Test
  void everyReplicaReturnsTheSameBytesAsStored() {
    String topic = "same";
    cluster.createTopic(topic, 1, 3);
    long next = 0;
    for (int i = 0; i < 30; i++) {
      Compression c = i % 3 == 0 ? Compression.lz4().build() : i % 3 == 1 ? Compression.gzip().build() : Compression.NONE;
      int records = i % 5 + 1;
      assertEquals(next, produce(topic, batch(c, records, 50 + 37 * i, "b" + i)));
      next += records;
    }
    long total = next;
    for (int b = 1; b <= 3; b++) {
      int broker = b;
      Wait.until("broker " + b + " applied everything", Duration.ofSeconds(30),
          () -> read(broker, request(topic, 0, 1)).getHighWatermark() == total);
    }
    MiniCluster.ReplicaLog reference = cluster.readReplicaLog(1, topic, 0, 1024 * 1024);
    assertEquals(total, reference.highWatermark());
    List<MutableRecordBatch> parsed = batches(reference.batches());
    assertEquals(30, parsed.size());
    long expected = 0;
    for (MutableRecordBatch batch : parsed) {
      batch.ensureValid();
      assertEquals(expected, batch.baseOffset(), "contiguous offsets");
      expected = batch.nextOffset();
    }
    assertEquals(total, expected);
    for (int b = 2; b <= 3; b++) {
      MiniCluster.ReplicaLog other = cluster.readReplicaLog(b, topic, 0, 1024 * 1024);
      assertEquals(total, other.highWatermark());
      assertArrayEquals(reference.batches(), other.batches(), "broker " + b + " stores the same bytes as broker 1");
    }
    // Page by page (one batch per call: max_bytes below any batch's size) gives the same bytes.
    assertArrayEquals(reference.batches(), cluster.readReplicaLog(2, topic, 0, 1).batches());

    ReadReplicaLogResponse first = read(3, request(topic, 0, 1));
    assertEquals(3, first.getBrokerId());
    assertEquals(0, first.getLogStartOffset());
    assertEquals(total, first.getHighWatermark());
    assertEquals(1, batches(first.getRecordBatches().toByteArray()).size(), "at least one whole batch");

    // An offset inside a batch: the answer starts with the batch containing it.
    MutableRecordBatch multi = parsed.get(4); // 5 records
    ReadReplicaLogResponse inside = read(2, request(topic, multi.baseOffset() + 2, 1));
    MutableRecordBatch got = batches(inside.getRecordBatches().toByteArray()).get(0);
    assertEquals(multi.baseOffset(), got.baseOffset());
    assertEquals(multi.checksum(), got.checksum());

    // At the high watermark: nothing, no error.
    ReadReplicaLogResponse atEnd = read(1, request(topic, total, 1024));
    assertEquals(0, atEnd.getRecordBatches().size());
    assertEquals(total, atEnd.getHighWatermark());

    // With the topic id: the same; with another topic id: not found.
    String topicId = cluster.broker(1).metadata().topic(topic).map(TopicRecord::getTopicId).orElseThrow();
    assertEquals(first.getRecordBatches(), read(3, request(topic, 0, 1).setTopicId(topicId)).getRecordBatches());
    assertCode(Status.Code.NOT_FOUND, () -> read(3, request(topic, 0, 1).setTopicId("not-" + topicId)));
  }

  @Test
  void errors() {
    String topic = "errors";
    cluster.createTopic(topic, 1, 3);
    produce(topic, batch(Compression.NONE, 3, 10, "e"));
    Wait.until("broker 1 applied", Duration.ofSeconds(30), () -> read(1, request(topic, 0, 1)).getHighWatermark() == 3);

    assertCode(Status.Code.NOT_FOUND, () -> read(1, request("no-such-topic", 0, 1024)));
    assertCode(Status.Code.NOT_FOUND, () -> read(1, request(topic, 0, 1024).setPartition(1)));
    StatusRuntimeException negative = assertCode(Status.Code.INVALID_ARGUMENT, () -> read(1, request(topic, -1, 1024)));
    assertTrue(negative.getStatus().getDescription().contains("offset"), negative.getStatus().getDescription());
    assertCode(Status.Code.INVALID_ARGUMENT, () -> read(1, request(topic, 0, 0)));
    assertCode(Status.Code.INVALID_ARGUMENT, () -> read(1, request(topic, 0, -5)));
    StatusRuntimeException beyond = assertCode(Status.Code.OUT_OF_RANGE, () -> read(1, request(topic, 4, 1024)));
    assertTrue(beyond.getStatus().getDescription().contains("0 (log start) to 3"), beyond.getStatus().getDescription());

    // A broker that hosts no replica of a partition (replication factor 1).
    cluster.createTopic("solo", 1, 1);
    TopicRecord solo = cluster.broker(1).metadata().topic("solo").orElseThrow();
    int host = solo.getAssignments(0).getReplicas(0);
    int other = host % 3 + 1;
    Wait.until("broker " + host + " hosts solo", Duration.ofSeconds(30),
        () -> read(host, request("solo", 0, 1024)).getHighWatermark() == 0);
    StatusRuntimeException notHere = assertCode(Status.Code.NOT_FOUND, () -> read(other, request("solo", 0, 1024)));
    assertTrue(notHere.getStatus().getDescription().contains("hosts no replica"), notHere.getStatus().getDescription());
  }

  @Test
  void answersAreCappedAtEightMebibytes() throws Exception {
    String topic = "big";
    cluster.createTopic(topic, 1, 1);
    int batchValueBytes = 1000 * 1024; // just under the 1 MiB max.batch.bytes
    for (int i = 0; i < 10; i++) {
      produce(topic, batch(Compression.NONE, 1, batchValueBytes, "big" + i));
    }
    int host = cluster.broker(1).metadata().topic(topic).orElseThrow().getAssignments(0).getReplicas(0);
    ManagedChannel channel = NettyChannelBuilder.forAddress(cluster.config(host).host, cluster.broker(host).port())
        .usePlaintext().maxInboundMessageSize(64 * 1024 * 1024).build();
    try {
      ReadReplicaLogResponse all = BrokerInternalServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS).readReplicaLog(request(topic, 0, Integer.MAX_VALUE).build());
      assertEquals(10, all.getHighWatermark());
      int size = all.getRecordBatches().size();
      assertTrue(size <= BrokerInternalServiceImpl.MAX_READ_REPLICA_LOG_BYTES, "capped: " + size);
      List<MutableRecordBatch> got = batches(all.getRecordBatches().toByteArray());
      assertEquals(size, got.stream().mapToInt(MutableRecordBatch::sizeInBytes).sum(), "whole batches only");
      assertEquals(BrokerInternalServiceImpl.MAX_READ_REPLICA_LOG_BYTES / got.get(0).sizeInBytes(), got.size(),
          "as many whole batches as fit");
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  static StatusRuntimeException assertCode(Status.Code code, org.junit.jupiter.api.function.Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    return e;
  }
}
