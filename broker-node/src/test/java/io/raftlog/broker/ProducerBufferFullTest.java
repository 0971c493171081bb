package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.errors.BufferExhaustedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A stopped cluster fills the producer's buffer; send then blocks max.block.ms and fails typed. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ProducerBufferFullTest {

  @TempDir
  Path dir;

  @Test
  void sendBlocksForMaxBlockMsThenFailsWithBufferExhausted() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir)) {
      cluster.createTopic("full", 1, 3);
      long maxBlockMs = 1500;
      try (Producer<String, String> producer = Producer.create(ProducerConfig.builder()
          .bootstrapServers(cluster.bootstrap()).batchSizeBytes(1024).bufferMemoryBytes(4096).maxBlockMs(maxBlockMs)
          .deliveryTimeoutMs(120_000).build(), new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>("full", "warm-up")).get(60, TimeUnit.SECONDS); // metadata cached
        cluster.stopAll();
        String value = "x".repeat(400);
        CompletableFuture<RecordMetadata> failed = null;
        long blockedMs = 0;
        for (int i = 0; i < 20 && failed == null; i++) {
          long start = System.nanoTime();
          CompletableFuture<RecordMetadata> f = producer.send(new ProducerRecord<>("full", value));
          if (f.isCompletedExceptionally()) {
            failed = f;
            blockedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
          }
        }
        assertTrue(failed != null, "the 4 KiB buffer must fill up");
        Throwable cause = failed.handle((m, e) -> e).join();
        assertInstanceOf(BufferExhaustedException.class, cause);
        assertTrue(blockedMs >= maxBlockMs - 50 && blockedMs < maxBlockMs + 5000,
            "send blocked about max.block.ms: " + blockedMs + " ms");
        producer.close(Duration.ZERO);
      }
    }
  }
}
