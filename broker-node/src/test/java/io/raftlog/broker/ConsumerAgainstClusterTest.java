package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.OffsetOutOfRangeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK consumer against a real 3-broker cluster: broker restarts and leader changes mid-read
 * (every offset exactly once, in order), auto.offset.reset, parallel fetches across leaders and
 * compressed batches. Records are produced with raw gRPC {@code record_batch}es so these tests do
 * not depend on the SDK producer.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ConsumerAgainstClusterTest {

  @TempDir
  static Path dir;
  static MiniCluster cluster;
  static Admin admin;

  @BeforeAll
  static void start() {
    cluster = MiniCluster.start(3, dir);
    admin = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap()).build());
  }

  @AfterAll
  static void stop() {
    if (admin != null) {
      admin.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private static void createTopic(String name, int partitions) {
    cluster.createTopic(name, partitions, 3);
  }

  private static ConsumerConfig.Builder config(AutoOffsetReset reset) {
    return ConsumerConfig.builder().bootstrapServers(cluster.bootstrap()).autoOffsetReset(reset)
        .fetchMaxWaitMs(200).retryBackoffMs(50).requestTimeoutMs(5000);
  }

  private static Consumer<String, String> consumer(ConsumerConfig.Builder config) {
    return Consumer.create(config.build(), new StringDeserializer(), new StringDeserializer());
  }

  static ByteString batch(Compression compression, List<String> values) {
    MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2, compression,
        TimestampType.CREATE_TIME, 0L);
    for (String v : values) {
      b.append(System.currentTimeMillis(), ("key-" + v).getBytes(StandardCharsets.UTF_8),
          v.getBytes(StandardCharsets.UTF_8),
          new org.apache.kafka.common.header.Header[] {new RecordHeader("h", v.getBytes(StandardCharsets.UTF_8))});
    }
    return ByteString.copyFrom(b.build().buffer());
  }

  /** Appends one batch through the current leader (retrying while leadership moves); returns its base offset. */
  static long produce(String topic, int partition, ByteString batch) {
    long[] base = new long[1];
    Wait.until("batch appended to " + topic + "-" + partition, Duration.ofSeconds(60), () -> {
      int leader = cluster.awaitLeader(topic, partition, Duration.ofSeconds(60));
      PartitionProduceResult r = ProduceServiceGrpc.newBlockingStub(cluster.channel(leader))
          .withDeadlineAfter(20, TimeUnit.SECONDS)
          .produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(PartitionProduceData.newBuilder()
              .setTopic(topic).setPartition(partition).setRecordBatch(batch)).build())
          .getResults(0);
      base[0] = r.getBaseOffset();
      return r.getError().getCode() == ErrorCode.NONE;
    });
    return base[0];
  }

  /** Produces values prefix-from .. prefix-(to-1) to partition 0 in batches of 10 (lz4). */
  static void produceRange(String topic, String prefix, int from, int to) {
    for (int i = from; i < to; i += 10) {
      List<String> values = new ArrayList<>();
      for (int j = i; j < Math.min(to, i + 10); j++) {
        values.add(prefix + j);
      }
      produce(topic, 0, batch(Compression.lz4().build(), values));
    }
  }

  /** Polls until {@code total} records were read in all, failing on any duplicate, gap or reorder. */
  private static List<ConsumerRecord<String, String>> readExactly(Consumer<String, String> c, int count,
                                                                  Map<Integer, Long> nextExpected) {
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (out.size() < count) {
      assertTrue(System.nanoTime() < deadline, "read only " + out.size() + " of " + count);
      for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
        long expected = nextExpected.getOrDefault(r.partition(), 0L);
        assertEquals(expected, r.offset(), "partition " + r.partition() + ": next offset exactly once, in order");
        nextExpected.put(r.partition(), expected + 1);
        out.add(r);
      }
    }
    return out;
  }

  @Test
  void restartingTheLeaderMidReadDeliversEveryOffsetExactlyOnce() {
    String topic = "restart-mid-read";
    createTopic(topic, 1);
    produceRange(topic, "v", 0, 300);
    TopicPartition tp = new TopicPartition(topic, 0);
    Map<Integer, Long> next = new TreeMap<>();
    // Small fetches and polls so the read spans many round trips around the restart.
    try (Consumer<String, String> c = consumer(config(AutoOffsetReset.EARLIEST).maxPartitionFetchBytes(256)
        .maxPollRecords(20))) {
      c.assign(List.of(tp));
      List<ConsumerRecord<String, String>> read = new ArrayList<>(readExactly(c, 100, next));
      int leader = cluster.awaitLeader(topic, 0, Duration.ofSeconds(60));
      cluster.restart(leader);
      read.addAll(readExactly(c, 200, next));
      produceRange(topic, "v", 300, 350);
      read.addAll(readExactly(c, 50, next));
      assertEquals(LongStream.range(0, 350).boxed().toList(), read.stream().map(ConsumerRecord::offset).toList());
      assertEquals("v349", read.get(349).value());
      assertEquals(350, c.position(tp));
      assertTrue(c.poll(Duration.ofMillis(300)).isEmpty(), "nothing delivered twice");
    }
  }

  @Test
  void leaderChangeDuringConsumptionIsFollowed() {
    String topic = "leader-change";
    createTopic(topic, 1);
    produceRange(topic, "a", 0, 50);
    TopicPartition tp = new TopicPartition(topic, 0);
    Map<Integer, Long> next = new TreeMap<>();
    try (Consumer<String, String> c = consumer(config(AutoOffsetReset.EARLIEST))) {
      c.assign(List.of(tp));
      readExactly(c, 50, next);
      int oldLeader = cluster.awaitLeader(topic, 0, Duration.ofSeconds(60));
      cluster.kill(oldLeader);
      try {
        Wait.until("a new leader", Duration.ofSeconds(60),
            () -> cluster.leaderOf(topic, 0).filter(l -> l != oldLeader).isPresent());
        produceRange(topic, "a", 50, 120);
        List<ConsumerRecord<String, String>> after = readExactly(c, 70, next);
        assertEquals("a50", after.get(0).value());
        assertEquals("a119", after.get(69).value());
      } finally {
        cluster.startBroker(oldLeader);
        cluster.awaitAllRegistered(Duration.ofSeconds(60));
      }
    }
  }

  @Test
  void autoOffsetResetAppliesToOutOfRangeSeeks() {
    String topic = "reset";
    createTopic(topic, 1);
    produceRange(topic, "r", 0, 5);
    TopicPartition tp = new TopicPartition(topic, 0);

    try (Consumer<String, String> c = consumer(config(AutoOffsetReset.EARLIEST))) {
      c.assign(List.of(tp));
      c.seek(tp, 50);
      List<ConsumerRecord<String, String>> read = readExactly(c, 5, new TreeMap<>());
      assertEquals("r0", read.get(0).value());
    }

    try (Consumer<String, String> c = consumer(config(AutoOffsetReset.LATEST))) {
      c.assign(List.of(tp));
      c.seek(tp, 50);
      assertTrue(c.poll(Duration.ofMillis(1500)).isEmpty());
      assertEquals(5, c.position(tp), "reset to the log end");
      produceRange(topic, "r", 5, 6);
      List<ConsumerRecord<String, String>> read = readExactly(c, 1, new TreeMap<>(Map.of(0, 5L)));
      assertEquals("r5", read.get(0).value());
    }

    try (Consumer<String, String> c = consumer(config(AutoOffsetReset.NONE))) {
      c.assign(List.of(tp));
      c.seek(tp, 50);
      OffsetOutOfRangeException e = assertThrows(OffsetOutOfRangeException.class, () -> {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
          c.poll(Duration.ofMillis(200));
        }
      });
      assertEquals(tp, e.partition().orElseThrow());
      assertTrue(e.getMessage().contains(tp.toString()), e.getMessage());
      c.seek(tp, 4);
      assertEquals("r4", readExactly(c, 1, new TreeMap<>(Map.of(0, 4L))).get(0).value());
    }
  }

  @Test
  void partitionsOnDifferentLeadersAreFetchedInParallel() {
    String topic = "parallel";
    createTopic(topic, 3);
    Set<Integer> leaders = new HashSet<>();
    for (int p = 0; p < 3; p++) {
      leaders.add(cluster.awaitLeader(topic, p, Duration.ofSeconds(60)));
    }
    assertTrue(leaders.size() > 1, "placement spreads leaders: " + leaders);
    List<TopicPartition> all = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1),
        new TopicPartition(topic, 2));
    // A 20 s long poll: if the brokers were asked one after another, data on one partition would
    // wait behind the idle long polls of the others.
    try (Consumer<String, String> c = consumer(config(AutoOffsetReset.LATEST).fetchMaxWaitMs(20_000)
        .requestTimeoutMs(30_000))) {
      c.assign(all);
      all.forEach(c::position);
      assertTrue(c.poll(Duration.ofMillis(300)).isEmpty(), "long polls are now parked on every leader");
      for (int p = 0; p < 3; p++) {
        produce(topic, p, batch(Compression.NONE, List.of("p" + p)));
      }
      long start = System.nanoTime();
      List<ConsumerRecord<String, String>> read = new ArrayList<>();
      while (read.size() < 3 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10)) {
        read.addAll(c.poll(Duration.ofSeconds(10)));
      }
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(Set.of("p0", "p1", "p2"), Set.copyOf(read.stream().map(ConsumerRecord::value).toList()));
      assertTrue(elapsedMs < 10_000, "every leader answered its own long poll (" + elapsedMs + " ms)");
    }
  }

  @Test
  void compressedBatchesAreDecodedWithKeysAndHeaders() {
    String topic = "compressed";
    createTopic(topic, 1);
    produce(topic, 0, batch(Compression.lz4().build(), List.of("l0", "l1", "l2")));
    produce(topic, 0, batch(Compression.gzip().build(), List.of("g3", "g4")));
    produce(topic, 0, batch(Compression.NONE, List.of("n5")));
    TopicPartition tp = new TopicPartition(topic, 0);
    try (Consumer<String, String> c = consumer(config(AutoOffsetReset.NONE))) {
      c.assign(List.of(tp));
      c.seek(tp, 1); // inside the lz4 batch: its first record must be skipped
      List<ConsumerRecord<String, String>> read = readExactly(c, 5, new TreeMap<>(Map.of(0, 1L)));
      assertEquals(List.of("l1", "l2", "g3", "g4", "n5"), read.stream().map(ConsumerRecord::value).toList());
      assertEquals("key-g3", read.get(2).key());
      assertEquals("h", read.get(2).headers().get(0).key());
      assertEquals("g3", new String(read.get(2).headers().get(0).value(), StandardCharsets.UTF_8));
    }
  }
}
