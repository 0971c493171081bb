package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.GetMetadataRequest;
import io.raftlog.api.v1.MetadataServiceGrpc;
import io.raftlog.api.v1.TopicMetadata;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Acks;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.OffsetSpec;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.TopicDescription;
import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TopicAlreadyExistsException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.internals.Partitioner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The Java SDK against a real (in-process) 3-broker cluster: partitioning, ordering, acks, reads. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SdkAgainstClusterTest {

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

  private static Producer<String, String> producer(Acks acks) {
    return Producer.create(ProducerConfig.builder().bootstrapServers(cluster.bootstrap()).acks(acks).build(),
        new StringSerializer(), new StringSerializer());
  }

  private static Consumer<String, String> consumer() {
    return Consumer.create(ConsumerConfig.builder().bootstrapServers(cluster.bootstrap())
        .autoOffsetReset(AutoOffsetReset.EARLIEST).fetchMaxWaitMs(200).build(), new StringDeserializer(), new StringDeserializer());
  }

  private static List<ConsumerRecord<String, String>> readAll(String topic, int partitions, int expected) {
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (Consumer<String, String> c = consumer()) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (out.size() < expected && System.nanoTime() < deadline) {
        out.addAll(c.poll(Duration.ofMillis(500)));
      }
    }
    return out;
  }

  @Test
  void keyedRecordsLandWhereKafkaWouldPutThemInOrder() throws Exception {
    createTopic("keyed", 3);
    Map<String, List<Long>> offsetsByKey = new HashMap<>();
    try (Producer<String, String> p = producer(Acks.ALL)) {
      List<java.util.concurrent.CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        sent.add(p.send(new ProducerRecord<>("keyed", "key-" + (i % 5), "v" + i)));
      }
      for (int i = 0; i < sent.size(); i++) {
        RecordMetadata md = sent.get(i).get(30, TimeUnit.SECONDS);
        String key = "key-" + (i % 5);
        int expectedPartition = Partitioner.toPositive(Partitioner.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 3;
        assertEquals(expectedPartition, md.partition(), "partition of " + key);
        offsetsByKey.computeIfAbsent(key, k -> new ArrayList<>()).add(md.offset());
      }
    }
    offsetsByKey.values().forEach(offsets -> {
      for (int i = 1; i < offsets.size(); i++) {
        assertTrue(offsets.get(i) > offsets.get(i - 1), "per-key send order is offset order: " + offsets);
      }
    });
    List<ConsumerRecord<String, String>> read = readAll("keyed", 3, 60);
    assertEquals(60, read.size());
    Map<String, List<String>> valuesByKey = new HashMap<>();
    read.forEach(r -> valuesByKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value()));
    for (int k = 0; k < 5; k++) {
      List<String> expected = new ArrayList<>();
      for (int i = k; i < 60; i += 5) {
        expected.add("v" + i);
      }
      assertEquals(expected, valuesByKey.get("key-" + k), "consumer sees key-" + k + " in send order");
    }
  }

  @Test
  void keylessRecordsGoRoundRobinWithEveryAcksLevel() throws Exception {
    createTopic("spread-rr", 3);
    for (Acks acks : List.of(Acks.ALL, Acks.LEADER, Acks.NONE)) {
      try (Producer<String, String> p = producer(acks)) {
        List<RecordMetadata> results = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          results.add(p.send(new ProducerRecord<>("spread-rr", acks + "-" + i)).get(30, TimeUnit.SECONDS));
        }
        for (int i = 0; i < 6; i++) {
          assertEquals(i % 3, results.get(i).partition(), "message " + (i + 1) + " goes to partition " + (i % 3));
          if (acks == Acks.NONE) {
            assertEquals(-1, results.get(i).offset());
          } else {
            assertTrue(results.get(i).offset() >= 0);
          }
        }
      }
    }
    assertEquals(18, readAll("spread-rr", 3, 18).size());
  }

  /**
   * A name no topic can have fails every SDK call at once with InvalidTopicException carrying the
   * broker's own message (it used to come back as "unknown topic"). The producer's max.block.ms is
   * far above the test timeout, so waiting for metadata would fail the test.
   */
  @Test
  void invalidTopicNamesFailFastWithTheBrokersMessage() throws Exception {
    createTopic("valid-next-to-invalid", 1);
    for (String name : List.of("bad name!", "", "..", "a".repeat(250), "tópico")) {
      TopicMetadata answer = MetadataServiceGrpc.newBlockingStub(cluster.channel(1))
          .withDeadlineAfter(20, TimeUnit.SECONDS)
          .getMetadata(GetMetadataRequest.newBuilder().addTopics(name).build()).getTopics(0);
      assertEquals(ErrorCode.INVALID_ARGUMENT, answer.getError().getCode(), name);
      String brokerMessage = answer.getError().getMessage();

      try (Producer<String, String> p = Producer.create(ProducerConfig.builder().bootstrapServers(cluster.bootstrap())
          .maxBlockMs(600_000).build(), new StringSerializer(), new StringSerializer())) {
        AtomicReference<RaftlogException> callbackError = new AtomicReference<>();
        CompletableFuture<RecordMetadata> f = p.send(new ProducerRecord<>(name, "v"), (m, e) -> callbackError.set(e));
        assertTrue(f.isDone(), "send completes its future before returning");
        assertInvalidTopic(name, brokerMessage, assertThrows(ExecutionException.class, f::get).getCause());
        assertInvalidTopic(name, brokerMessage, callbackError.get());
        // The same producer still sends to a valid topic.
        assertEquals(0, p.send(new ProducerRecord<>("valid-next-to-invalid", "ok")).get(30, TimeUnit.SECONDS)
            .partition());
      }

      try (Consumer<String, String> c = consumer()) {
        assertInvalidTopic(name, brokerMessage, assertThrows(RaftlogException.class, () -> c.partitionsFor(name)));
        assertInvalidTopic(name, brokerMessage, assertThrows(RaftlogException.class,
            () -> c.assign(List.of(new TopicPartition(name, 0)))));
        assertTrue(c.assignment().isEmpty());
      }

      assertInvalidTopic(name, brokerMessage, assertThrows(RaftlogException.class,
          () -> admin.blocking().createTopic(name, 1, 1)));
      assertInvalidTopic(name, brokerMessage, assertThrows(RaftlogException.class,
          () -> admin.blocking().describeTopic(name)));
      assertInvalidTopic(name, brokerMessage, assertThrows(RaftlogException.class,
          () -> admin.blocking().deleteTopic(name)));
      assertInvalidTopic(name, brokerMessage, assertThrows(RaftlogException.class,
          () -> admin.blocking().listOffsets(new TopicPartition(name, 0), OffsetSpec.LATEST)));
    }
  }

  private static void assertInvalidTopic(String topic, String brokerMessage, Throwable t) {
    InvalidTopicException e = assertInstanceOf(InvalidTopicException.class, t);
    assertEquals(topic, e.topic());
    assertEquals(brokerMessage, e.getMessage());
  }

  @Test
  void adminReportsTopicsAndErrors() {
    createTopic("admin-t", 2);
    assertTrue(admin.blocking().listTopics().contains("admin-t"));
    assertEquals(2, admin.blocking().describeTopic("admin-t").partitions().size());
    assertThrows(TopicAlreadyExistsException.class, () -> admin.blocking().createTopic("admin-t", 1, 1));
    assertEquals(3, admin.blocking().describeCluster().brokers().size());
  }

  /** Topic configs through the SDK: set at creation, shown by describe, changed at run time. */
  @Test
  void topicConfigsThroughTheAdminClient() {
    admin.blocking().createTopic("configured", 1, 3, Map.of("retention.ms", "86400000", "segment.bytes", "1048576"));
    cluster.awaitLeader("configured", 0, Duration.ofSeconds(30));
    // Every broker answers describe from its own view, which has the topic once it hosts a replica.
    TopicDescription created = Wait.forValue("configured described", Duration.ofSeconds(10),
        () -> admin.blocking().describeTopic("configured"));
    assertEquals(Map.of("retention.ms", "86400000", "segment.bytes", "1048576"), created.configOverrides());
    assertEquals(Map.of("cleanup.policy", "delete", "max.message.bytes", "1048576", "retention.bytes", "-1",
        "retention.ms", "86400000", "segment.bytes", "1048576", "segment.ms", "604800000",
        "delete.retention.ms", "86400000", "min.cleanable.dirty.ratio", "0.5", "min.compaction.lag.ms", "0"),
        created.config());

    Map<String, String> after = admin.blocking().alterTopicConfig("configured",
        Map.of("retention.bytes", "1073741824"), List.of("segment.bytes"));
    assertEquals(Map.of("retention.ms", "86400000", "retention.bytes", "1073741824"), after);
    // Brokers apply the change a moment after it is committed: each one must show it.
    for (int b : cluster.runningIds()) {
      Wait.until("broker " + b + " shows the change", Duration.ofSeconds(10),
          () -> cluster.broker(b).metadata().topic("configured").orElseThrow().getConfigMap().equals(after));
    }
    TopicDescription changed = admin.blocking().describeTopic("configured");
    assertEquals(after, changed.configOverrides());
    assertEquals("67108864", changed.config().get("segment.bytes"), "back to the broker default");

    assertThrows(UnknownTopicOrPartitionException.class,
        () -> admin.blocking().alterTopicConfig("no-such-topic", Map.of("retention.ms", "1"), List.of()));
    InvalidArgumentException bad = assertThrows(InvalidArgumentException.class,
        () -> admin.blocking().createTopic("misconfigured", 1, 3, Map.of("cleanup.policy", "compacted")));
    assertTrue(bad.getMessage().contains("cleanup.policy must be 'delete', 'compact' or 'compact,delete'"),
        bad.getMessage());
    assertTrue(!admin.blocking().listTopics().contains("misconfigured"));
  }
}
