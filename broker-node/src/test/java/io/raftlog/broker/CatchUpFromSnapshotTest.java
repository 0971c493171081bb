package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.partition.PartitionReplica;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
    // Snapshots every 100 entries, and small Raft log segments (Ratis purges whole closed segments).
    try (MiniCluster cluster = MiniCluster.start(3, dir, Map.of("raft.snapshot.threshold.entries", "100",
        "max.batch.bytes", "1024", "raft.log.segment.bytes", "65536"));
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).lingerMs(0).build(),
            new StringSerializer(), new StringSerializer())) {
      cluster.createTopic(TOPIC, 1, 3);
      int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
      int lost = leader % 3 + 1;
      send(producer, 0, 150);
      Wait.until("every replica at 150", Duration.ofSeconds(30), () -> allAt(cluster, 150));
      String groupUuid = cluster.replica(lost, TOPIC, 0).groupId().getUuid().toString();

      cluster.kill(lost);
      deleteGroupData(cluster.config(lost).dataDir, groupUuid);
      // The other two go on; the leader's snapshots and purges move its Raft log start past 0.
      send(producer, 150, 400);
      Wait.until("the leader's Raft log purged", Duration.ofSeconds(30), () ->
          cluster.replica(leader, TOPIC, 0).division().getRaftLog().getStartIndex() > 0);

      cluster.startBroker(lost);
      Wait.until("the replica that lost its data has every record again", Duration.ofSeconds(90), () -> {
        PartitionStateMachine sm = cluster.localReplica(lost, TOPIC, 0).map(r -> r.stateMachine()).orElse(null);
        return sm != null && sm.isReady() && !sm.isRepairing() && sm.highWatermark() == 400;
      });
      send(producer, 400, 420);
      Wait.until("every replica at 420", Duration.ofSeconds(30), () -> allAt(cluster, 420));
      MiniCluster.ReplicaLog reference = cluster.readReplicaLog(leader, TOPIC, 0, 1 << 20);
      MiniCluster.ReplicaLog copied = cluster.readReplicaLog(lost, TOPIC, 0, 1 << 20);
      assertEquals(reference.highWatermark(), copied.highWatermark());
      assertArrayEquals(reference.batches(), copied.batches(), "the copied replica holds the same bytes");
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  /**
   * A broker that lost every replica (a lost disk) catches up on all of them, whether it led or
   * followed them before, with no writes after it comes back: for the partitions it followed, the
   * leader would send it nothing on its own (see {@code CatchUpNudge}).
   */
  @Test
  void aBrokerThatLostAllItsReplicasCatchesUpOnEachPartition() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir, Map.of("raft.snapshot.threshold.entries", "100",
        "max.batch.bytes", "1024", "raft.log.segment.bytes", "65536"));
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).lingerMs(0).build(),
            new StringSerializer(), new StringSerializer())) {
      cluster.createTopic(TOPIC, 3, 3);
      for (int p = 0; p < 3; p++) {
        cluster.awaitLeader(TOPIC, p, Duration.ofSeconds(30));
      }
      int lost = 3;
      send(producer, 0, 600);
      List<String> groups = new java.util.ArrayList<>();
      for (int p = 0; p < 3; p++) {
        groups.add(cluster.replica(lost, TOPIC, p).groupId().getUuid().toString());
      }
      cluster.kill(lost);
      for (String g : groups) {
        deleteGroupData(cluster.config(lost).dataDir, g);
      }
      long[] ends = new long[3];
      for (int p = 0; p < 3; p++) {
        int leader = cluster.awaitLeader(TOPIC, p, Duration.ofSeconds(30));
        ends[p] = cluster.replica(leader, TOPIC, p).stateMachine().highWatermark();
      }
      cluster.startBroker(lost);
      for (int p = 0; p < 3; p++) {
        int partition = p;
        Wait.until("partition " + p + " caught up on broker " + lost, Duration.ofSeconds(90), () -> {
          PartitionStateMachine sm = cluster.localReplica(lost, TOPIC, partition).map(r -> r.stateMachine()).orElse(null);
          return sm != null && sm.isReady() && !sm.isRepairing() && sm.highWatermark() >= ends[partition];
        });
      }
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  private static void send(Producer<String, String> producer, int from, int until) throws Exception {
    for (int i = from; i < until; i++) {
      // One at a time: one Raft entry each, so the snapshot threshold is reached.
      producer.send(new ProducerRecord<>(TOPIC, "value-" + i + "-" + "x".repeat(500))).get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * A rebuilt replica that restarts before it received anything has only its term and vote on disk
   * (no Raft log, no membership), or also an open log segment holding no entry: Ratis creates the
   * segment and preallocates it with zeros before the first entry's bytes reach the file, so a
   * SIGKILL in between leaves zeros only. Ratis alone would load it with no members (and delete the
   * empty segment), and its first election timeout would shut it down for good (fault suite, seed
   * 505, twice); the broker sets it aside and adds it back with its members from metadata, so it
   * catches up.
   */
  @ParameterizedTest(name = "open segment left on disk: {0}")
  @ValueSource(booleans = {false, true})
  void aRebuiltReplicaRestartedBeforeItsFirstEntryComesBackWithItsMembers(boolean zeroFilledSegment)
      throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir, Map.of("raft.snapshot.threshold.entries", "100",
        "max.batch.bytes", "1024", "raft.log.segment.bytes", "65536"));
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).lingerMs(0).build(),
            new StringSerializer(), new StringSerializer())) {
      cluster.createTopic(TOPIC, 1, 3);
      int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
      int lost = leader % 3 + 1;
      send(producer, 0, 300);
      Wait.until("every replica at 300", Duration.ofSeconds(30), () -> allAt(cluster, 300));
      String groupUuid = cluster.replica(lost, TOPIC, 0).groupId().getUuid().toString();

      cluster.kill(lost);
      Path dataDir = cluster.config(lost).dataDir;
      Path raftMeta = dataDir.resolve("raft").resolve(groupUuid).resolve("current").resolve("raft-meta");
      Path descriptor = dataDir.resolve("partitions").resolve(groupUuid).resolve("partition.properties");
      byte[] termAndVote = Files.readAllBytes(raftMeta);
      byte[] partition = Files.readAllBytes(descriptor);
      deleteGroupData(dataDir, groupUuid);
      // What a replica rebuilt after losing its disk leaves when it is restarted before its first
      // entry: its term and vote, and which partition it is.
      Files.createDirectories(raftMeta.getParent());
      Files.write(raftMeta, termAndVote);
      if (zeroFilledSegment) {
        Files.write(raftMeta.resolveSibling("log_inprogress_0"), new byte[64 * 1024]);
      }
      Files.createDirectories(descriptor.getParent());
      Files.write(descriptor, partition);

      cluster.startBroker(lost);
      send(producer, 300, 320);
      Wait.until("the restarted replica hosts the group with its members and caught up", Duration.ofSeconds(90),
          () -> {
            PartitionReplica replica = cluster.localReplica(lost, TOPIC, 0).orElse(null);
            if (replica == null || replica.division() == null) {
              return false;
            }
            // Never without itself in the membership, from the moment Ratis hosts it.
            assertTrue(replica.division().getRaftConf().getPeer(replica.division().getId()) != null,
                "broker " + lost + " hosts the group without being a member: " + replica.division().getRaftConf());
            PartitionStateMachine sm = replica.stateMachine();
            return sm.isReady() && !sm.isRepairing() && sm.highWatermark() == 320;
          });
      assertFalse(Files.exists(dataDir.resolve("raft-parked").resolve(groupUuid)), "put back");
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
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
