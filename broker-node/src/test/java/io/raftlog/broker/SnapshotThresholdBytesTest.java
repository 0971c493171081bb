package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Acks;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.StringSerializer;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code raft.snapshot.threshold.bytes}: a partition replica snapshots once the entries applied
 * since its last snapshot reach that many bytes, long before the entry threshold.
 */
class SnapshotThresholdBytesTest {

  @TempDir
  Path dir;

  @Test
  void replicasSnapshotByBytesBeforeTheEntryThreshold() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir, Map.of("raft.snapshot.threshold.entries", "10000",
        "raft.snapshot.threshold.bytes", "65536"));
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).lingerMs(0).build(),
            new StringSerializer(), new StringSerializer())) {
      cluster.createTopic("by-bytes", 1, 3);
      for (int i = 0; i < 100; i++) {
        // ~100 entries of ~1 KiB: over 64 KiB, far below 10,000 entries
        producer.send(new ProducerRecord<>("by-bytes", "v" + i + "x".repeat(1000))).get(30, TimeUnit.SECONDS);
      }
      for (int id = 1; id <= 3; id++) {
        PartitionStateMachine sm = cluster.replica(id, "by-bytes", 0).stateMachine();
        Wait.until("broker " + id + " took a snapshot", Duration.ofSeconds(30), () -> {
          try {
            return sm.latestSnapshotCopy().isPresent();
          } catch (java.io.IOException e) {
            return false; // a snapshot replaced meanwhile: look again
          }
        });
      }
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }
}
