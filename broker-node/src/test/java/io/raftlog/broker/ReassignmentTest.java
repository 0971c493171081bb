package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.AlterReplicationFactorRequest;
import io.raftlog.api.v1.DecommissionBrokerRequest;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.DescribeTopicResponse;
import io.raftlog.api.v1.ListPartitionReassignmentsRequest;
import io.raftlog.api.v1.PartitionDescription;
import io.raftlog.api.v1.PartitionReplicas;
import io.raftlog.api.v1.ReassignPartitionsRequest;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Acks;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.TopicPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partition reassignment on a 4-broker cluster, under acks=all load: moving a partition off its
 * leader's broker, changing the replication factor, decommissioning a broker. Every acknowledged
 * record must be read back once, at its acknowledged offset, and the replicas that left must be gone.
 */
class ReassignmentTest {

  private static final String TOPIC = "moves";

  @TempDir
  Path dir;

  @Test
  void partitionsMoveUnderLoadWithoutLosingOrDuplicatingAcknowledgedRecords() throws Exception {
    // Snapshots every 100 entries: the new replicas join past a purged Raft log, so they catch up
    // from a snapshot and the segment files of the others.
    try (MiniCluster cluster = MiniCluster.start(4, dir, Map.of("raft.snapshot.threshold.entries", "100"))) {
      cluster.createTopic(TOPIC, 2, 3);
      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(cluster.channel(1));
      Map<Integer, Map<Long, String>> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> producerError = new AtomicReference<>();
      Thread load = new Thread(() -> produce(cluster.bootstrap(), acked, stop, producerError), "reassignment-load");
      load.start();
      try {
        try {
          Wait.until("some records acknowledged", Duration.ofSeconds(30), () -> count(acked) >= 200);
        } catch (AssertionError e) {
          // Seen once in CI (2026-11-29): no acknowledgment in 30 s, cause unknown; say what the producer saw.
          e.addSuppressed(new AssertionError("acknowledged: " + count(acked) + ", producer error: " + producerError.get(),
              producerError.get()));
          throw e;
        }

        // 1. Move partition 0 off the broker that leads it, onto the broker that has no replica.
        PartitionDescription p0 = describe(admin).getPartitions(0);
        int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(30));
        int outsider = outsider(p0.getReplicasList());
        List<Integer> target = new ArrayList<>(p0.getReplicasList());
        target.set(target.indexOf(leader), outsider);
        var reply = admin.reassignPartitions(ReassignPartitionsRequest.newBuilder().setTopic(TOPIC)
            .addPartitions(PartitionReplicas.newBuilder().setPartition(0).addAllReplicas(target)).build());
        assertEquals(List.of(outsider), reply.getReassignments(0).getAddingReplicasList());
        assertEquals(List.of(leader), reply.getReassignments(0).getRemovingReplicasList());
        awaitReplicas(admin, 0, target);
        Wait.until("broker " + leader + " removed its replica of partition 0", Duration.ofSeconds(30),
            () -> cluster.localReplica(leader, TOPIC, 0).isEmpty());
        assertTrue(cluster.localReplica(outsider, TOPIC, 0).isPresent());

        // 2. Replication factor 3 -> 2 -> 4.
        admin.alterReplicationFactor(AlterReplicationFactorRequest.newBuilder().setTopic(TOPIC).setReplicationFactor(2)
            .build());
        awaitReplicationFactor(admin, 2);
        admin.alterReplicationFactor(AlterReplicationFactorRequest.newBuilder().setTopic(TOPIC).setReplicationFactor(4)
            .build());
        awaitReplicationFactor(admin, 4);

        // 3. Decommission broker 4: everything moves off it (RF 4 cannot be kept on 3 brokers, so
        // first back to 3).
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> admin.decommissionBroker(
            DecommissionBrokerRequest.newBuilder().setBrokerId(4).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode(), refused.getStatus().toString());
        admin.alterReplicationFactor(AlterReplicationFactorRequest.newBuilder().setTopic(TOPIC).setReplicationFactor(3)
            .build());
        awaitReplicationFactor(admin, 3);
        admin.decommissionBroker(DecommissionBrokerRequest.newBuilder().setBrokerId(4).build());
        Wait.until("no replica on broker 4", Duration.ofSeconds(90), () -> {
          DescribeTopicResponse d = describe(admin);
          return d.getPartitionsList().stream().allMatch(p -> !p.getReplicasList().contains(4)
              && p.getTargetReplicasCount() == 0 && p.getIsrCount() == 3);
        });
        Wait.until("broker 4 removed its replicas", Duration.ofSeconds(30),
            () -> cluster.localReplica(4, TOPIC, 0).isEmpty() && cluster.localReplica(4, TOPIC, 1).isEmpty());
        assertEquals(0, admin.listPartitionReassignments(ListPartitionReassignmentsRequest.getDefaultInstance())
            .getReassignmentsCount());
        int before = count(acked);
        Wait.until("records still acknowledged after the moves", Duration.ofSeconds(30), () -> count(acked) > before + 50);
      } finally {
        stop.set(true);
        load.join(60_000);
      }
      assertEquals(null, producerError.get(), "the producer failed");
      assertFalse(load.isAlive());
      for (int p = 0; p < 2; p++) {
        assertReadBack(cluster.bootstrap(), p, acked.getOrDefault(p, Map.of()));
      }
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  @Test
  void badReassignmentsAreRefusedWithReasons() {
    try (MiniCluster cluster = MiniCluster.start(3, dir)) {
      cluster.createTopic(TOPIC, 1, 3);
      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(cluster.channel(1));
      assertRefused(admin, Status.Code.INVALID_ARGUMENT, "broker 9 is not registered", List.of(1, 2, 9));
      assertRefused(admin, Status.Code.INVALID_ARGUMENT, "name a broker twice", List.of(1, 1, 2));
      assertRefused(admin, Status.Code.INVALID_ARGUMENT, "at least one replica", List.of());
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> admin.reassignPartitions(
          ReassignPartitionsRequest.newBuilder().setTopic(TOPIC).addPartitions(PartitionReplicas.newBuilder()
              .setPartition(5).addReplicas(1)).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      e = assertThrows(StatusRuntimeException.class, () -> admin.reassignPartitions(
          ReassignPartitionsRequest.newBuilder().setTopic("nope").addPartitions(PartitionReplicas.newBuilder()
              .setPartition(0).addReplicas(1)).build()));
      assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
      e = assertThrows(StatusRuntimeException.class, () -> admin.decommissionBroker(
          DecommissionBrokerRequest.newBuilder().setBrokerId(2).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("no other broker"), e.getStatus().toString());
      // Same replicas in a new order: only the preferred leader changes.
      admin.reassignPartitions(ReassignPartitionsRequest.newBuilder().setTopic(TOPIC).addPartitions(
          PartitionReplicas.newBuilder().setPartition(0).addAllReplicas(List.of(3, 2, 1))).build());
      awaitReplicas(admin, 0, List.of(3, 2, 1));
    }
  }

  private static void assertRefused(AdminServiceGrpc.AdminServiceBlockingStub admin, Status.Code code, String text,
      List<Integer> replicas) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> admin.reassignPartitions(
        ReassignPartitionsRequest.newBuilder().setTopic(TOPIC).addPartitions(PartitionReplicas.newBuilder()
            .setPartition(0).addAllReplicas(replicas)).build()));
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription().contains(text), e.getStatus().toString());
  }

  private static void awaitReplicas(AdminServiceGrpc.AdminServiceBlockingStub admin, int partition, List<Integer> target) {
    Wait.until("partition " + partition + " on " + target + " with all in sync", Duration.ofSeconds(90), () -> {
      PartitionDescription p = describe(admin).getPartitions(partition);
      return p.getReplicasList().equals(target) && p.getTargetReplicasCount() == 0
          && new HashSet<>(p.getIsrList()).equals(new HashSet<>(target)) && target.contains(p.getLeaderId());
    });
  }

  private static void awaitReplicationFactor(AdminServiceGrpc.AdminServiceBlockingStub admin, int rf) {
    Wait.until("replication factor " + rf + " with all in sync", Duration.ofSeconds(90), () -> {
      DescribeTopicResponse d = describe(admin);
      return d.getReplicationFactor() == rf && d.getPartitionsList().stream().allMatch(p -> p.getReplicasCount() == rf
          && p.getTargetReplicasCount() == 0 && p.getIsrCount() == rf && p.getLeaderId() >= 0);
    });
  }

  private static int outsider(List<Integer> replicas) {
    for (int b = 1; b <= 4; b++) {
      if (!replicas.contains(b)) {
        return b;
      }
    }
    throw new AssertionError("no broker outside " + replicas);
  }

  private static DescribeTopicResponse describe(AdminServiceGrpc.AdminServiceBlockingStub admin) {
    return admin.withDeadlineAfter(10, TimeUnit.SECONDS).describeTopic(DescribeTopicRequest.newBuilder().setName(TOPIC)
        .build());
  }

  private static int count(Map<Integer, Map<Long, String>> acked) {
    return acked.values().stream().mapToInt(Map::size).sum();
  }

  /** acks=all, round-robin over both partitions, until stopped; records each acknowledged offset. */
  private static void produce(String bootstrap, Map<Integer, Map<Long, String>> acked, AtomicBoolean stop,
      AtomicReference<Throwable> error) {
    try (Producer<String, String> producer = Producer.create(ProducerConfig.builder().bootstrapServers(bootstrap)
        .acks(Acks.ALL).lingerMs(1).build(), new StringSerializer(), new StringSerializer())) {
      for (int i = 0; !stop.get(); i++) {
        String value = "v" + i;
        RecordMetadata m = producer.send(new ProducerRecord<>(TOPIC, value)).get(60, TimeUnit.SECONDS);
        String previous = acked.computeIfAbsent(m.partition(), p -> new ConcurrentHashMap<>()).put(m.offset(), value);
        if (previous != null) {
          throw new AssertionError("offset " + m.offset() + " of partition " + m.partition() + " acknowledged twice: "
              + previous + " and " + value);
        }
      }
    } catch (Throwable t) {
      error.set(t);
    }
  }

  /** Reads the partition from the beginning: every acknowledged record at its offset, each value once. */
  private static void assertReadBack(String bootstrap, int partition, Map<Long, String> acked) {
    Map<Long, String> read = new TreeMap<>();
    Set<String> values = new HashSet<>();
    long highest = acked.keySet().stream().mapToLong(Long::longValue).max().orElse(-1);
    try (Consumer<String, String> c = Consumer.create(ConsumerConfig.builder().bootstrapServers(bootstrap)
        .autoOffsetReset(AutoOffsetReset.EARLIEST).fetchMaxWaitMs(200).build(), new StringDeserializer(),
        new StringDeserializer())) {
      TopicPartition tp = new TopicPartition(TOPIC, partition);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while ((read.isEmpty() || ((TreeMap<Long, String>) read).lastKey() < highest) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
          assertTrue(values.add(r.value()), "value " + r.value() + " read twice (partition " + partition + ")");
          read.put(r.offset(), r.value());
        }
      }
    }
    acked.forEach((offset, value) -> assertEquals(value, read.get(offset),
        "acknowledged record at offset " + offset + " of partition " + partition));
  }
}
