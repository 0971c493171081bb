package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Acks;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.PartitionInfo;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import io.raftlog.statemachine.store.OffsetOutOfRangeException;
import io.raftlog.statemachine.store.Retention;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention by size against real brokers: the leader proposes the new log start through Raft,
 * every replica moves to the same offset and deletes its segment files below it, reads below it
 * are refused, and a restarted replica keeps the start (from its snapshot and Raft log).
 */
class RetentionAgainstClusterTest {

  private static final String TOPIC = "retained";

  @TempDir
  Path dir;

  @Test
  void sizeRetentionMovesTheLogStartOnEveryReplicaAndSurvivesARestart() throws Exception {
    Map<String, String> brokerConfig = Map.of(
        "segment.bytes", "1024",
        "retention.bytes", "4096",
        "retention.check.interval.ms", "100",
        // snapshots (and Raft log purges) during the test, so a restart loads the start from one
        "raft.snapshot.threshold.entries", "100");
    try (MiniCluster cluster = MiniCluster.start(3, dir, brokerConfig);
        Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap())
            .requestTimeoutMs(10_000).build());
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).lingerMs(0).build(),
            new io.raftlog.client.StringSerializer(), new io.raftlog.client.StringSerializer())) {
      cluster.createTopic(TOPIC, 1, 3);
      for (int i = 0; i < 300; i++) {
        // One at a time: one Raft entry each, so the replicas take snapshots (every 100 entries).
        producer.send(new ProducerRecord<>(TOPIC, "value-" + i + "-" + "x".repeat(60))).get(30, TimeUnit.SECONDS);
      }

      // Retention ran during the writes too; wait for the pass after the last write.
      Wait.until("every replica down to about retention.bytes, with the same log start", Duration.ofSeconds(60),
          () -> {
            long start = replica(cluster, 1).logStartOffset();
            if (!sameStartEverywhere(cluster, start)) {
              return false;
            }
            for (int id = 1; id <= 3; id++) {
              if (bytesKept(replica(cluster, id)) >= 4096 + 2 * 1024) {
                return false;
              }
            }
            // and the leader's next pass has nothing left to delete, so the start stays put while we read
            int leader = cluster.leaderOf(TOPIC, 0).orElse(-1);
            return start > 0 && leader > 0 && Retention.newLogStart(segmentsOf(replica(cluster, leader)), start,
                -1, 4096, System.currentTimeMillis()) == -1
                // Read again after judging the leader: a start it proposed earlier may have been
                // applied by some replicas in between (its segments are then already trimmed).
                && sameStartEverywhere(cluster, start);
          });
      long start = replica(cluster, 1).logStartOffset();
      long end = replica(cluster, 1).highWatermark();
      assertEquals(300, end);
      for (int id = 1; id <= 3; id++) {
        PartitionStateMachine sm = replica(cluster, id);
        assertTrue(bytesKept(sm) >= 4096, "broker " + id + " keeps at least retention.bytes");
        assertThrows(OffsetOutOfRangeException.class, () -> sm.read(start - 1, 1024));
        assertTrue(sm.read(start, 1024).remaining() > 0, "the log start is readable");
      }
      Wait.until("describe shows the log start", Duration.ofSeconds(30), () -> {
        PartitionInfo p = admin.blocking().describeTopic(TOPIC).partitions().get(0);
        return p.logStartOffset() >= start && p.logEndOffset() == 300;
      });

      int follower = cluster.leaderOf(TOPIC, 0).orElseThrow() % 3 + 1;
      long startBeforeRestart = replica(cluster, follower).logStartOffset();
      cluster.restart(follower);
      Wait.until("the restarted replica is back with at least the same log start", Duration.ofSeconds(60), () -> {
        PartitionStateMachine sm = cluster.localReplica(follower, TOPIC, 0).map(r -> r.stateMachine()).orElse(null);
        return sm != null && sm.isReady() && sm.highWatermark() == 300
            && sm.logStartOffset() >= startBeforeRestart;
      });
      // By the hosted replicas, not the metadata view, which the restarted broker may still be replaying.
      PartitionStateMachine restarted = cluster.localReplica(follower, TOPIC, 0).orElseThrow().stateMachine();
      long restartedStart = restarted.logStartOffset();
      assertThrows(OffsetOutOfRangeException.class, () -> restarted.read(restartedStart - 1, 1024));
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  /**
   * Every replica publishes {@code start} and its store has not trimmed past it: applying a new
   * start deletes the segments before the state machine publishes the start, so a replica in the
   * middle of that apply shows the old start with the new segments (and refuses reads at it).
   */
  private static boolean sameStartEverywhere(MiniCluster cluster, long start) {
    for (int id = 1; id <= 3; id++) {
      PartitionStateMachine sm = replica(cluster, id);
      if (sm.logStartOffset() != start) {
        return false;
      }
      java.util.List<io.raftlog.statemachine.store.LogStore.SegmentInfo> segments = segmentsOf(sm);
      if (segments.isEmpty() || segments.get(0).baseOffset() > start) {
        return false;
      }
    }
    return true;
  }

  private static long bytesKept(PartitionStateMachine sm) {
    return segmentsOf(sm).stream().mapToLong(s -> s.sizeBytes()).sum();
  }

  private static java.util.List<io.raftlog.statemachine.store.LogStore.SegmentInfo> segmentsOf(PartitionStateMachine sm) {
    try {
      return sm.segments();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static PartitionStateMachine replica(MiniCluster cluster, int brokerId) {
    return cluster.replica(brokerId, TOPIC, 0).stateMachine();
  }
}
