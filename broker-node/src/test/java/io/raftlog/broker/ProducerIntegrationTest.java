package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.api.v1.RecordFormat;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.client.Acks;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.StringSerializer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The SDK producer against a real 3-broker cluster: batching, ordering, failover, compression. */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ProducerIntegrationTest {

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

  private static void create(String topic, int partitions) {
    cluster.createTopic(topic, partitions, 3);
  }

  private static Producer<String, String> producer(ProducerConfig.Builder builder) {
    return Producer.create(builder.bootstrapServers(cluster.bootstrap()).build(), new StringSerializer(),
        new StringSerializer());
  }

  /** Every committed record of the partition, read from its current leader with raw Fetch. */
  private static List<Record> readAll(String topic, int partition, int expected) {
    List<Record> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (out.size() < expected && System.nanoTime() < deadline) {
      int leader = cluster.awaitLeader(topic, partition, Duration.ofSeconds(60));
      FetchPartitionResult r = FetchServiceGrpc.newBlockingStub(cluster.channel(leader))
          .withDeadlineAfter(20, TimeUnit.SECONDS).fetch(FetchRequest.newBuilder().setMaxWaitMs(500)
              .setFormat(RecordFormat.RECORDS).addPartitions(FetchPartition.newBuilder().setTopic(topic)
                  .setPartition(partition).setOffset(out.size()).setMaxBytes(4 << 20)).build()).getResults(0);
      if (r.getError().getCode() == ErrorCode.NONE) {
        out.addAll(r.getRecordsList());
      }
    }
    return out;
  }

  private static String value(Record r) {
    return r.getValue().toString(StandardCharsets.UTF_8);
  }

  @Test
  void twentyThousandRecordsArriveBatchedInSendOrderPerPartition() throws Exception {
    create("order", 3);
    int n = 20_000;
    List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
    try (Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(5))) {
      for (int i = 0; i < n; i++) {
        futures.add(producer.send(new ProducerRecord<>("order", "v" + i)));
      }
      producer.flush();
    }
    long[] nextOffset = new long[3];
    for (int i = 0; i < n; i++) {
      RecordMetadata m = futures.get(i).get();
      assertEquals(i % 3, m.partition(), "keyless records go round-robin");
      assertEquals(nextOffset[m.partition()]++, m.offset(), "record " + i + ": offsets follow send order");
    }
    for (int p = 0; p < 3; p++) {
      List<Record> log = readAll("order", p, (int) nextOffset[p]);
      assertEquals(nextOffset[p], log.size());
      for (int j = 0; j < log.size(); j++) {
        assertEquals("v" + (j * 3 + p), value(log.get(j)));
      }
    }
  }

  @Test
  void leaderKillDuringSendsLeavesNoDuplicatesAndNoGaps() throws Exception {
    create("failover", 1);
    int n = 3000;
    int killedLeader = -1;
    List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
    try (Producer<String, String> producer = producer(ProducerConfig.builder().acks(Acks.ALL).lingerMs(2)
        .batchSizeBytes(512).requestTimeoutMs(5000).deliveryTimeoutMs(90_000))) {
      for (int i = 0; i < n; i++) {
        futures.add(producer.send(new ProducerRecord<>("failover", "r" + i)));
        if (i == n / 3) {
          futures.get(i / 2).get(60, TimeUnit.SECONDS); // some batches acknowledged, many in flight
          killedLeader = cluster.awaitLeader("failover", 0, Duration.ofSeconds(30));
          cluster.kill(killedLeader);
        }
      }
      producer.flush();
    } finally {
      if (killedLeader > 0) {
        cluster.startBroker(killedLeader);
      }
    }
    Set<Long> offsets = new HashSet<>();
    for (int i = 0; i < n; i++) {
      RecordMetadata m = futures.get(i).get();
      assertEquals(i, m.offset(), "record " + i);
      assertTrue(offsets.add(m.offset()));
    }
    List<Record> log = readAll("failover", 0, n);
    assertEquals(n, log.size(), "no gaps, no duplicates");
    for (int i = 0; i < n; i++) {
      assertEquals("r" + i, value(log.get(i)), "offset " + i);
    }
    int leader = cluster.awaitLeader("failover", 0, Duration.ofSeconds(60));
    long highWatermark = FetchServiceGrpc.newBlockingStub(cluster.channel(leader)).withDeadlineAfter(20, TimeUnit.SECONDS)
        .fetch(FetchRequest.newBuilder().addPartitions(FetchPartition.newBuilder().setTopic("failover")
            .setPartition(0).setOffset(0).setMaxBytes(1)).build()).getResults(0).getHighWatermark();
    assertEquals(n, highWatermark, "nothing stored twice at the end");
  }

  @Test
  void lz4BatchesRoundTrip() throws Exception {
    create("lz4-producer", 1);
    int n = 500;
    try (Producer<String, String> producer = producer(ProducerConfig.builder()
        .compression(ProducerConfig.CompressionType.LZ4).lingerMs(20))) {
      List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(producer.send(new ProducerRecord<>("lz4-producer", "key" + i, "compressible value " + i)));
      }
      producer.flush();
      for (CompletableFuture<RecordMetadata> f : futures) {
        f.get();
      }
    }
    List<Record> log = readAll("lz4-producer", 0, n);
    assertEquals(n, log.size());
    for (int i = 0; i < n; i++) {
      assertEquals("compressible value " + i, value(log.get(i)));
      assertEquals("key" + i, log.get(i).getKey().toString(StandardCharsets.UTF_8));
    }
    int leader = cluster.awaitLeader("lz4-producer", 0, Duration.ofSeconds(30));
    FetchPartitionResult raw = FetchServiceGrpc.newBlockingStub(cluster.channel(leader))
        .withDeadlineAfter(20, TimeUnit.SECONDS).fetch(FetchRequest.newBuilder()
            .setFormat(RecordFormat.RECORD_BATCHES).addPartitions(FetchPartition.newBuilder()
                .setTopic("lz4-producer").setPartition(0).setOffset(0)).build()).getResults(0);
    List<RecordBatch> batches = new ArrayList<>();
    MemoryRecords.readableRecords(raw.getRecordBatches().asReadOnlyByteBuffer()).batches().forEach(batches::add);
    assertTrue(batches.size() < n, "records were batched: " + batches.size() + " batches");
    batches.forEach(b -> assertEquals(CompressionType.LZ4, b.compressionType()));
    assertTrue(batches.get(0).hasProducerId(), "idempotent by default");
  }
}
