package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Acks;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.TopicPartition;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Log compaction against real brokers: a topic with cleanup.policy=compact keeps, on every
 * replica, only the latest record of each key (at its original offset), drops a deleted key's
 * tombstone after delete.retention.ms, refuses keyless records, and a consumer reading from the
 * start sees the latest value of every key and reaches the end of the log.
 */
class CompactionAgainstClusterTest {

  private static final String TOPIC = "compacted";
  private static final int KEYS = 10;
  private static final int ROUNDS = 20;

  @TempDir
  Path dir;

  @Test
  void everyReplicaKeepsTheLatestRecordPerKeyAtItsOffset() throws Exception {
    Map<String, String> brokerConfig = Map.of("segment.bytes", "1024", "cleaner.backoff.ms", "200");
    try (MiniCluster cluster = MiniCluster.start(3, dir, brokerConfig);
        Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap())
            .requestTimeoutMs(10_000).build());
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).lingerMs(0).build(),
            new StringSerializer(), new StringSerializer())) {
      admin.blocking().createTopic(TOPIC, 1, 3, Map.of("cleanup.policy", "compact",
          "min.cleanable.dirty.ratio", "0.01", "delete.retention.ms", "0"));
      cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));

      Map<String, Long> latestOffset = new LinkedHashMap<>();
      Map<String, String> latestValue = new LinkedHashMap<>();
      for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < KEYS; k++) {
          String key = "key-" + k;
          String value = key + "-round-" + round + "-" + "x".repeat(50);
          latestOffset.put(key, send(producer, key, value));
          latestValue.put(key, value);
        }
      }
      // key-0 is deleted: a tombstone, which delete.retention.ms=0 lets the next cleaning remove.
      send(producer, "key-0", null);
      latestValue.remove("key-0");
      latestOffset.remove("key-0");

      ExecutionException keyless = assertThrows(ExecutionException.class,
          () -> producer.send(new ProducerRecord<>(TOPIC, null, "no key")).get(30, TimeUnit.SECONDS));
      assertTrue(keyless.getCause().getMessage().contains("every record needs a key"), keyless.getCause().toString());

      // The same through the raw gRPC API's records (the broker builds the batch): refused, nothing written.
      int leader = cluster.leaderOf(TOPIC, 0).orElseThrow();
      long endBefore = replica(cluster, leader).highWatermark();
      PartitionProduceResult raw = ProduceServiceGrpc.newBlockingStub(cluster.channel(leader))
          .withDeadlineAfter(10, TimeUnit.SECONDS).produce(ProduceRequest.newBuilder().setAcks(io.raftlog.api.v1.Acks.ACKS_ALL)
              .addPartitions(PartitionProduceData.newBuilder().setTopic(TOPIC).setPartition(0)
                  .addRecords(io.raftlog.api.v1.Record.newBuilder().setKey(ByteString.copyFromUtf8("k")).setValue(
                      ByteString.copyFromUtf8("keyed")))
                  .addRecords(io.raftlog.api.v1.Record.newBuilder().setValue(ByteString.copyFromUtf8("keyless"))))
              .build()).getResults(0);
      assertEquals(ErrorCode.INVALID_ARGUMENT, raw.getError().getCode(), raw.toString());
      assertTrue(raw.getError().getMessage().contains("record 1 for compacted-0 has no key"), raw.toString());
      assertEquals(endBefore, replica(cluster, leader).highWatermark(), "nothing of the refused batch written");

      // Filler records (their own keys) seal the segments holding the updates and keep the log
      // dirty, so the cleaner runs again after it stamped the tombstone.
      int[] filler = {0};
      Wait.until("every replica holds one record per key, and no record of the deleted key", Duration.ofSeconds(90),
          () -> {
            send(producer, "filler-" + filler[0]++, "f".repeat(400));
            for (int b = 1; b <= 3; b++) {
              Map<String, List<Long>> held = recordsByKey(replica(cluster, b), latestValue);
              if (held == null || held.containsKey("key-0")) {
                return false;
              }
              for (String key : latestOffset.keySet()) {
                if (!List.of(latestOffset.get(key)).equals(held.get(key))) {
                  return false;
                }
              }
            }
            return true;
          });

      // A consumer from offset 0 reads the latest value of every key at its original offset, and
      // moves through the emptied batches to the end of the log.
      long end = replica(cluster, cluster.leaderOf(TOPIC, 0).orElseThrow()).highWatermark();
      try (Consumer<String, String> reader = Consumer.create(ConsumerConfig.builder()
          .bootstrapServers(cluster.bootstrap()).autoOffsetReset(AutoOffsetReset.EARLIEST).fetchMaxWaitMs(100)
          .build(), new StringDeserializer(), new StringDeserializer())) {
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        reader.assign(List.of(tp));
        reader.seek(tp, 0);
        Map<String, String> read = new HashMap<>();
        Map<String, Long> readAt = new HashMap<>();
        Wait.until("the consumer reached the end of the compacted log", Duration.ofSeconds(60), () -> {
          for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(200))) {
            read.put(r.key(), r.value());
            readAt.put(r.key(), r.offset());
          }
          return reader.position(tp) >= end;
        });
        for (String key : latestValue.keySet()) {
          assertEquals(latestValue.get(key), read.get(key), key);
          assertEquals(latestOffset.get(key), readAt.get(key), key + " keeps its offset");
        }
        assertFalse(read.containsKey("key-0"), "the deleted key is gone");
      }
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  private static long send(Producer<String, String> producer, String key, String value) {
    try {
      return producer.send(new ProducerRecord<>(TOPIC, key, value)).get(30, TimeUnit.SECONDS).offset();
    } catch (Exception e) {
      throw new IllegalStateException("produce of " + key + " failed", e);
    }
  }

  private static PartitionStateMachine replica(MiniCluster cluster, int brokerId) {
    return cluster.replica(brokerId, TOPIC, 0).stateMachine();
  }

  /**
   * The offsets of the records each update key still has on the replica (filler keys left out);
   * null if the replica cannot be read right now.
   */
  private static Map<String, List<Long>> recordsByKey(PartitionStateMachine sm, Map<String, String> updateKeys) {
    Map<String, List<Long>> out = new HashMap<>();
    try {
      long offset = sm.logStartOffset();
      long end = sm.highWatermark();
      while (offset < end) {
        ByteBuffer data = sm.read(offset, 1 << 20);
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(data).batches()) {
          for (Record r : batch) {
            String key = r.hasKey() ? StandardCharsets.UTF_8.decode(r.key()).toString() : null;
            if (key != null && (updateKeys.containsKey(key) || key.equals("key-0"))) {
              out.computeIfAbsent(key, k -> new ArrayList<>()).add(r.offset());
            }
          }
          offset = Math.max(offset, batch.nextOffset());
        }
      }
      return out;
    } catch (Exception e) {
      return null;
    }
  }
}
