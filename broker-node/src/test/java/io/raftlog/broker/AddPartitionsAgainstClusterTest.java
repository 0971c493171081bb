package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Acks;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.CreatePartitionsResult;
import io.raftlog.client.PartitionInfo;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.TopicDescription;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adding partitions to a topic of a 3-broker in-process cluster: the new partitions get replicas on
 * the brokers of their placement, a leader and three in-sync replicas; a producer that was running
 * before sends keyless records to them once its metadata is refreshed; records written to them
 * are read back; a group member subscribed before gets them assigned; the old partitions' stored
 * batches are untouched. Then the errors: a count that does not grow, an unknown topic, and too few
 * live brokers for the topic's replication factor.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AddPartitionsAgainstClusterTest {

  private static final String TOPIC = "grow";

  @TempDir
  Path dir;

  @Test
  void partitionsAddedToATopicAreReplicatedLedWrittenAndRead() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir);
        Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap())
            .requestTimeoutMs(20_000).build());
        // Started before the partitions are added; refreshes its metadata every 500 ms.
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).lingerMs(0).metadataMaxAgeMs(500).build(),
            new StringSerializer(), new StringSerializer());
        Consumer<String, String> member = Consumer.create(ConsumerConfig.builder()
            .bootstrapServers(cluster.bootstrap()).groupId("growers").autoOffsetReset(AutoOffsetReset.EARLIEST)
            .enableAutoCommit(false).fetchMaxWaitMs(100).build(), new StringDeserializer(), new StringDeserializer())) {
      cluster.createTopic(TOPIC, 2, 3);
      Map<Integer, List<String>> written = new HashMap<>();
      for (int i = 0; i < 10; i++) {
        String value = "before-" + i;
        int p = producer.send(new ProducerRecord<>(TOPIC, value)).get(30, TimeUnit.SECONDS).partition();
        written.computeIfAbsent(p, k -> new ArrayList<>()).add(value);
      }
      assertEquals(Set.of(0, 1), written.keySet(), "keyless records went round-robin over both partitions");
      member.subscribe(List.of(TOPIC));
      Set<String> consumed = new HashSet<>();
      pollUntil(member, consumed, "the member read the first records", () -> consumed.size() == 10);
      assertEquals(Set.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1)), member.assignment());

      // Every replica of the old partitions, byte for byte, before the change.
      Map<String, byte[]> before = new HashMap<>();
      for (int b : cluster.runningIds()) {
        for (int p = 0; p < 2; p++) {
          int partition = p;
          MiniCluster.ReplicaLog log = Wait.forValue("replica of " + TOPIC + "-" + p + " on broker " + b + " caught up",
              Duration.ofSeconds(30), () -> {
                MiniCluster.ReplicaLog l = cluster.readReplicaLog(b, TOPIC, partition, 1 << 20);
                return l.highWatermark() == written.get(partition).size() ? l : null;
              });
          before.put(b + "/" + p, log.batches());
        }
      }

      CreatePartitionsResult result = admin.blocking().createPartitions(TOPIC, 4);
      assertEquals(new CreatePartitionsResult(TOPIC, 2, 4), result);

      // Each new partition: a replica on each of its 3 brokers, a leader, 3 in-sync replicas.
      TopicDescription described = Wait.forValue("4 partitions, each with a leader and 3 in-sync replicas",
          Duration.ofSeconds(60), () -> {
            TopicDescription d = admin.blocking().describeTopic(TOPIC);
            boolean ready = d.partitions().size() == 4 && d.partitions().stream()
                .allMatch(p -> p.leader() >= 0 && p.replicas().size() == 3 && new HashSet<>(p.isr()).size() == 3);
            return ready ? d : null;
          });
      assertEquals(List.of(0, 1, 2, 3), described.partitions().stream().map(PartitionInfo::partition).toList());
      Map<Integer, Integer> preferredLeaders = new HashMap<>();
      for (PartitionInfo p : described.partitions()) {
        assertEquals(Set.of(1, 2, 3), new HashSet<>(p.replicas()), "partition " + p.partition());
        preferredLeaders.merge(p.replicas().get(0), 1, Integer::sum);
      }
      assertTrue(preferredLeaders.values().stream().allMatch(c -> c <= 2),
          "preferred leaders spread over the brokers: " + preferredLeaders);
      for (int p = 2; p < 4; p++) {
        for (int b : cluster.runningIds()) {
          assertTrue(cluster.localReplica(b, TOPIC, p).isPresent(), "broker " + b + " hosts " + TOPIC + "-" + p);
        }
        assertEquals(0, described.partitions().get(p).logEndOffset(), "a new partition starts empty");
      }

      // The running producer finds the new partitions after its next metadata refresh.
      int[] sent = {0};
      Set<Integer> reached = new TreeSet<>();
      Wait.until("keyless records of the running producer reach partitions 2 and 3", Duration.ofSeconds(60), () -> {
        String value = "after-" + sent[0]++;
        int p;
        try {
          p = producer.send(new ProducerRecord<>(TOPIC, value)).get(30, TimeUnit.SECONDS).partition();
        } catch (Exception e) {
          throw new AssertionError("send failed", e);
        }
        written.computeIfAbsent(p, k -> new ArrayList<>()).add(value);
        reached.add(p);
        return reached.containsAll(List.of(2, 3));
      });
      for (int p = 2; p < 4; p++) {
        for (int i = 0; i < 3; i++) {
          String value = "explicit-" + p + "-" + i;
          assertEquals(p, producer.send(new ProducerRecord<>(TOPIC, p, null, value)).get(30, TimeUnit.SECONDS)
              .partition());
          written.get(p).add(value);
        }
      }

      // Read back from the new partitions, in order, by a consumer assigned to them.
      try (Consumer<String, String> reader = Consumer.create(ConsumerConfig.builder()
          .bootstrapServers(cluster.bootstrap()).autoOffsetReset(AutoOffsetReset.EARLIEST).fetchMaxWaitMs(100).build(),
          new StringDeserializer(), new StringDeserializer())) {
        reader.assign(List.of(new TopicPartition(TOPIC, 2), new TopicPartition(TOPIC, 3)));
        Map<Integer, List<String>> read = new HashMap<>();
        Wait.until("the records of partitions 2 and 3 read back", Duration.ofSeconds(60), () -> {
          for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(200))) {
            read.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.value());
          }
          return written.get(2).equals(read.get(2)) && written.get(3).equals(read.get(3));
        });
      }

      // The group member was given the new partitions and reads everything written to them.
      pollUntil(member, consumed, "the member got partitions 2 and 3 and read their records",
          () -> member.assignment().size() == 4 && written.values().stream().allMatch(consumed::containsAll));

      // The old partitions: what they held before is still there, byte for byte, on every replica
      // (the running producer appended to them since, after it).
      for (int b : cluster.runningIds()) {
        for (int p = 0; p < 2; p++) {
          int partition = p;
          MiniCluster.ReplicaLog log = Wait.forValue("replica of " + TOPIC + "-" + p + " on broker " + b + " caught up",
              Duration.ofSeconds(30), () -> {
                MiniCluster.ReplicaLog l = cluster.readReplicaLog(b, TOPIC, partition, 1 << 20);
                return l.highWatermark() == written.get(partition).size() ? l : null;
              });
          byte[] old = before.get(b + "/" + p);
          assertArrayEquals(old, Arrays.copyOf(log.batches(), old.length), "broker " + b + ": " + TOPIC + "-" + p);
        }
      }

      // Errors: the count only grows; unknown topics are not found.
      InvalidArgumentException shrink = assertThrows(InvalidArgumentException.class,
          () -> admin.blocking().createPartitions(TOPIC, 4));
      assertTrue(shrink.getMessage().contains("topic 'grow' has 4 partitions; the count can only grow"),
          shrink.getMessage());
      assertThrows(UnknownTopicOrPartitionException.class, () -> admin.blocking().createPartitions("no-such-topic", 5));
      assertEquals(4, admin.blocking().describeTopic(TOPIC).partitions().size());

      // Not enough live brokers for the topic's replication factor: refused, like a topic creation.
      cluster.kill(3);
      Wait.until("brokers 1 and 2 count broker 3 as not alive", Duration.ofSeconds(30), () ->
          cluster.runningIds().stream().allMatch(b -> cluster.broker(b).metadata().liveBrokerIds().equals(List.of(1, 2))));
      InvalidArgumentException tooFew = assertThrows(InvalidArgumentException.class,
          () -> admin.blocking().createPartitions(TOPIC, 6));
      assertTrue(tooFew.getMessage().contains("cannot place the new partitions of topic 'grow': replication factor 3 is"
          + " larger than the number of live brokers (2); not counted: broker 3: no heartbeat for "),
          tooFew.getMessage());
      assertEquals(4, admin.blocking().describeTopic(TOPIC).partitions().size());
      assertEquals(List.of(), cluster.fatalErrors());
    }
  }

  /** Polls the member, collecting record values, until the condition holds. */
  private static void pollUntil(Consumer<String, String> member, Set<String> consumed, String what,
      java.util.function.BooleanSupplier condition) {
    Wait.until(what, Duration.ofSeconds(60), () -> {
      for (ConsumerRecord<String, String> r : member.poll(Duration.ofMillis(200))) {
        consumed.add(r.value());
      }
      return condition.getAsBoolean();
    });
  }
}
