package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.RecordFormat;
import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.client.Acks;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.StringSerializer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit against real brokers: with one Raft entry in flight per partition, the batches of
 * several concurrent producers (acks=all, acks=1, idempotent or not) that wait meanwhile are
 * committed together, and each still gets its own offsets, in its producer's order, once.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class GroupCommitAgainstClusterTest {

  private static final String TOPIC = "grouped";

  @TempDir
  Path dir;

  @Test
  void concurrentProducersBatchesShareRaftEntriesAndKeepTheirOwnOffsetsAndOrder() throws Exception {
    int producers = 4;
    int perProducer = 3_000;
    try (MiniCluster cluster = MiniCluster.start(3, dir, Map.of(BrokerConfig.GROUP_COMMIT_MAX_IN_FLIGHT, "1"))) {
      cluster.createTopic(TOPIC, 1, 3);
      List<Producer<String, String>> clients = new ArrayList<>();
      Map<String, RecordMetadata> acked = new HashMap<>();
      try {
        for (int p = 0; p < producers; p++) {
          // Small batches, no linger, five in flight each: many batches reach the leader at once.
          clients.add(Producer.create(ProducerConfig.builder().bootstrapServers(cluster.bootstrap())
              .acks(p == 1 ? Acks.LEADER : Acks.ALL).idempotence(p != 2).lingerMs(0).batchSizeBytes(512).build(),
              new StringSerializer(), new StringSerializer()));
        }
        Map<String, CompletableFuture<RecordMetadata>> futures = new HashMap<>();
        for (int i = 0; i < perProducer; i++) {
          for (int p = 0; p < producers; p++) {
            String value = "p" + p + "-" + i;
            futures.put(value, clients.get(p).send(new ProducerRecord<>(TOPIC, value)));
          }
        }
        for (Producer<String, String> c : clients) {
          c.flush();
        }
        for (Map.Entry<String, CompletableFuture<RecordMetadata>> e : futures.entrySet()) {
          acked.put(e.getKey(), e.getValue().get(60, TimeUnit.SECONDS));
        }
      } finally {
        clients.forEach(Producer::close);
      }

      int total = producers * perProducer;
      int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
      List<RecordBatch> batches = readAll(cluster, leader, total);
      Map<Long, String> byOffset = new HashMap<>();
      for (RecordBatch b : batches) {
        for (Record r : b) {
          byOffset.put(r.offset(), StandardCharsets.UTF_8.decode(r.value()).toString());
        }
      }
      assertEquals(total, byOffset.size(), "every record stored once");
      Set<String> seen = new HashSet<>();
      int[] nextIndex = new int[producers];
      for (long offset = 0; offset < total; offset++) {
        String value = byOffset.get(offset);
        assertTrue(value != null && seen.add(value), "offset " + offset + " holds a record not seen before: " + value);
        assertEquals(offset, acked.get(value).offset(), value + " was acknowledged with the offset it is stored at");
        int p = Integer.parseInt(value.substring(1, value.indexOf('-')));
        int i = Integer.parseInt(value.substring(value.indexOf('-') + 1));
        assertEquals(nextIndex[p]++, i, "producer " + p + "'s records are stored in send order, none missing: " + value);
      }

      // Fewer Raft entries than stored batches: batches were committed together.
      long raftEntries = cluster.replica(leader, TOPIC, 0).stateMachine().getLastAppliedTermIndex().getIndex();
      assertTrue(raftEntries < batches.size(), "group commit: " + batches.size() + " batches in " + raftEntries
          + " Raft entries (including elections' no-op entries)");
      assertEquals(List.of(), cluster.fatalErrors());
    }
  }

  private static List<RecordBatch> readAll(MiniCluster cluster, int leader, int records) {
    List<RecordBatch> out = new ArrayList<>();
    long next = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (next < records && System.nanoTime() < deadline) {
      FetchPartitionResult r = FetchServiceGrpc.newBlockingStub(cluster.channel(leader))
          .withDeadlineAfter(20, TimeUnit.SECONDS).fetch(FetchRequest.newBuilder().setMaxWaitMs(500)
              .setFormat(RecordFormat.RECORD_BATCHES).addPartitions(FetchPartition.newBuilder().setTopic(TOPIC)
                  .setPartition(0).setOffset(next).setMaxBytes(4 << 20)).build()).getResults(0);
      assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
      ByteBuffer raw = r.getRecordBatches().asReadOnlyByteBuffer();
      for (RecordBatch b : MemoryRecords.readableRecords(raw).batches()) {
        if (b.baseOffset() >= next) {
          out.add(b);
          next = b.nextOffset();
        }
      }
    }
    return out;
  }
}
