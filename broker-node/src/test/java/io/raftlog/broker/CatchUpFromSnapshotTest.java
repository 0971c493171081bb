package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Acks;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.StringSerializer;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica that lost its data while the leader purged its Raft log cannot catch up by replaying
 * entries: it starts from another replica's snapshot and copies the records from the peers, and
 * ends up byte for byte the same as the others.
 */
class CatchUpFromSnapshotTest {

  private static final String TOPIC = "caught-up";

  @TempDir
  Path dir;

  @Test
  void aReplicaThatLostItsDataCatchesUpFromAPeersSnapshotAndRecords() throws Exception {
    catchUpAfterBeingAway(true);
  }

  /**
   * A replica that was down while more than a snapshot interval of entries was written: the
   * leader's Raft log no longer goes back to it (the purge keeps a bounded tail for laggards), so
   * it starts from a snapshot too, keeps its own segment files and copies only what it lacks.
   */
  @Test
  void aReplicaFarBehindKeepsItsRecordsAndCopiesOnlyWhatItLacks() throws Exception {
    catchUpAfterBeingAway(false);
  }

  private void catchUpAfterBeingAway(boolean dataLost) throws Exception {
    // Snapshots every 100 entries, and small Raft log segments (Ratis purges whole closed segments).
    try (MiniCluster cluster = MiniCluster.start(3, dir, Map.of("raft.snapshot.threshold.entries", "100",
        "max.batch.bytes", "1024", "raft.log.segment.bytes", "65536"));
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).lingerMs(0).build(),
            new StringSerializer(), new StringSerializer())) {
      cluster.createTopic(TOPIC, 1, 3);
      int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
      int away = leader % 3 + 1;
      send(producer, 0, 150);
      Wait.until("every replica at 150", Duration.ofSeconds(30), () -> allAt(cluster, 150));
      String groupUuid = cluster.replica(away, TOPIC, 0).groupId().getUuid().toString();
      long awayCommit = cluster.replica(away, TOPIC, 0).division().getRaftLog().getLastCommittedIndex();

      cluster.kill(away);
      if (dataLost) {
        deleteGroupData(cluster.config(away).dataDir, groupUuid);
      }
      // The other two go on; the leader's purges move its Raft log start past what the replica has.
      send(producer, 150, 450);
      Wait.until("the leader's Raft log purged past the missing replica's commit index", Duration.ofSeconds(30),
          () -> cluster.replica(leader, TOPIC, 0).division().getRaftLog().getStartIndex() > awayCommit + 1);

      cluster.startBroker(away);
      Wait.until("the replica that was away has every record again", Duration.ofSeconds(90), () -> {
        PartitionStateMachine sm = cluster.localReplica(away, TOPIC, 0).map(r -> r.stateMachine()).orElse(null);
        return sm != null && sm.isReady() && !sm.isRepairing() && sm.highWatermark() == 450;
      });
      PartitionStateMachine.RepairRange copied = cluster.replica(away, TOPIC, 0).stateMachine().lastRepair();
      assertTrue(copied != null, "started from a snapshot and copied records");
      assertEquals(dataLost ? 0 : 150, copied.fromOffset(), "copied from where its own records ended");
      send(producer, 450, 470);
      Wait.until("every replica at 470", Duration.ofSeconds(30), () -> allAt(cluster, 470));
      MiniCluster.ReplicaLog reference = cluster.readReplicaLog(leader, TOPIC, 0, 1 << 20);
      MiniCluster.ReplicaLog caughtUp = cluster.readReplicaLog(away, TOPIC, 0, 1 << 20);
      assertEquals(reference.highWatermark(), caughtUp.highWatermark());
      assertArrayEquals(reference.batches(), caughtUp.batches(), "the caught-up replica holds the same bytes");
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  private static void send(Producer<String, String> producer, int from, int until) throws Exception {
    for (int i = from; i < until; i++) {
      // One at a time: one Raft entry each, so the snapshot threshold is reached.
      producer.send(new ProducerRecord<>(TOPIC, "value-" + i + "-" + "x".repeat(500))).get(30, TimeUnit.SECONDS);
    }
  }

  private static boolean allAt(MiniCluster cluster, long highWatermark) {
    for (int id : cluster.runningIds()) {
      PartitionStateMachine sm = cluster.localReplica(id, TOPIC, 0).map(r -> r.stateMachine()).orElse(null);
      if (sm == null || sm.highWatermark() != highWatermark) {
        return false;
      }
    }
    return true;
  }

  /** What a lost disk leaves of one partition replica: nothing (segment files, Raft log, snapshots). */
  private static void deleteGroupData(Path dataDir, String groupUuid) throws IOException {
    for (Path d : new Path[] {dataDir.resolve("partitions").resolve(groupUuid), dataDir.resolve("raft").resolve(groupUuid)}) {
      assertTrue(Files.exists(d), d + " should exist");
      try (Stream<Path> files = Files.walk(d)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
  }
}
