package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.api.v1.RecordFormat;
import io.raftlog.broker.testkit.MiniCluster;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Client-built (and compressed) record batches, raw-batch fetches and the ordered produce stream. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClientBatchAndStreamTest {

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

  private static int create(String topic) {
    cluster.createTopic(topic, 1, 3);
    return cluster.awaitLeader(topic, 0, Duration.ofSeconds(60));
  }

  private static ByteString batch(Compression compression, long producerId, short epoch, int baseSequence,
      String... values) {
    MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2, compression,
        TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP, producerId, epoch, baseSequence, false,
        RecordBatch.NO_PARTITION_LEADER_EPOCH);
    for (String v : values) {
      b.append(System.currentTimeMillis(), null, v.getBytes(StandardCharsets.UTF_8));
    }
    return ByteString.copyFrom(b.build().buffer());
  }

  private static PartitionProduceResult produceBatch(int broker, String topic, ByteString batch) {
    return ProduceServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(PartitionProduceData.newBuilder()
            .setTopic(topic).setPartition(0).setRecordBatch(batch)).build()).getResults(0);
  }

  private static FetchPartitionResult fetch(int broker, String topic, long offset, RecordFormat format) {
    return FetchServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .fetch(FetchRequest.newBuilder().setFormat(format).addPartitions(FetchPartition.newBuilder()
            .setTopic(topic).setPartition(0).setOffset(offset)).build()).getResults(0);
  }

  @Test
  void compressedBatchesAreStoredCompressedAndReadBack() {
    int leader = create("lz4");
    PartitionProduceResult first = produceBatch(leader, "lz4", batch(Compression.lz4().build(), -1, (short) -1, -1,
        "one", "two", "three"));
    assertEquals(ErrorCode.NONE, first.getError().getCode(), first.getError().getMessage());
    assertEquals(0, first.getBaseOffset());
    assertEquals(3, produceBatch(leader, "lz4", batch(Compression.NONE, -1, (short) -1, -1, "four")).getBaseOffset());

    FetchPartitionResult decoded = fetch(leader, "lz4", 1, RecordFormat.RECORDS);
    assertEquals(List.of("two", "three", "four"), decoded.getRecordsList().stream()
        .map(r -> r.getValue().toString(StandardCharsets.UTF_8)).toList());
    assertEquals(List.of(1L, 2L, 3L), decoded.getRecordsList().stream().map(Record::getOffset).toList());

    FetchPartitionResult raw = fetch(leader, "lz4", 1, RecordFormat.RECORD_BATCHES);
    List<RecordBatch> batches = new ArrayList<>();
    MemoryRecords.readableRecords(raw.getRecordBatches().asReadOnlyByteBuffer()).batches().forEach(batches::add);
    assertEquals(2, batches.size());
    assertEquals(org.apache.kafka.common.record.internal.CompressionType.LZ4, batches.get(0).compressionType(),
        "stored as the client compressed it");
    assertEquals(0, batches.get(0).baseOffset(), "the batch holding the requested offset starts before it");
    assertEquals(3, batches.get(1).baseOffset());
  }

  @Test
  void rejectsCorruptAndUnsupportedBatches() {
    int leader = create("bad-batches");
    ByteString good = batch(Compression.NONE, -1, (short) -1, -1, "x");
    byte[] corrupt = good.toByteArray();
    corrupt[corrupt.length - 1] ^= 0x5a;
    PartitionProduceResult r = produceBatch(leader, "bad-batches", ByteString.copyFrom(corrupt));
    assertEquals(ErrorCode.CORRUPT_RECORD, r.getError().getCode());
    PartitionProduceResult zstd = produceBatch(leader, "bad-batches", batch(Compression.zstd().build(), -1, (short) -1, -1, "z"));
    assertEquals(ErrorCode.CORRUPT_RECORD, zstd.getError().getCode());
    assertEquals(0, produceBatch(leader, "bad-batches", good).getBaseOffset(), "the partition is unharmed");
  }

  @Test
  void produceStreamKeepsPipelinedIdempotentBatchesInOrder() throws Exception {
    int leader = create("stream");
    long producerId = ProduceServiceGrpc.newBlockingStub(cluster.channel(leader))
        .initProducerId(io.raftlog.api.v1.InitProducerIdRequest.getDefaultInstance()).getProducerId();
    int batches = 50;
    Map<Long, Long> offsetByCorrelation = new ConcurrentHashMap<>();
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<ProduceRequest> requests = ProduceServiceGrpc.newStub(cluster.channel(leader)).produceStream(
        new StreamObserver<>() {
          @Override
          public void onNext(ProduceResponse r) {
            PartitionProduceResult result = r.getResults(0);
            offsetByCorrelation.put(r.getCorrelationId(),
                result.getError().getCode() == ErrorCode.NONE ? result.getBaseOffset() : -100 - result.getError().getCodeValue());
          }

          @Override
          public void onError(Throwable t) {
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
    for (int i = 0; i < batches; i++) {
      // Two records per batch, all in flight at once: sequence i*2 must land at offset i*2.
      requests.onNext(ProduceRequest.newBuilder().setCorrelationId(i).setAcks(i % 2 == 0 ? Acks.ACKS_ALL : Acks.ACKS_LEADER)
          .addPartitions(PartitionProduceData.newBuilder().setTopic("stream").setPartition(0)
              .setRecordBatch(batch(Compression.NONE, producerId, (short) 0, 2 * i, "a" + i, "b" + i))).build());
    }
    requests.onCompleted();
    assertEquals(true, done.await(60, TimeUnit.SECONDS));
    for (long i = 0; i < batches; i++) {
      assertEquals(2 * i, offsetByCorrelation.get(i), "batch " + i);
    }
  }
}
