package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.errors.OffsetOutOfRangeException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.fake.FakeCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class ConsumerTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final TopicPartition P2 = new TopicPartition("t", 2);

    private FakeCluster cluster;
    private final List<Consumer<String, String>> consumers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("t", 3, 2);
    }

    @AfterEach
    void tearDown() {
        consumers.forEach(Consumer::close);
        cluster.close();
    }

    private Consumer<String, String> consumer(AutoOffsetReset reset) {
        Consumer<String, String> c = Consumer.create(ConsumerConfig.builder().bootstrapServers(cluster.address(1))
                .channelFactory(cluster.channelFactory()).retryBackoffMs(10).requestTimeoutMs(3000)
                .fetchMaxWaitMs(100).autoOffsetReset(reset).build(), new StringDeserializer(), new StringDeserializer());
        consumers.add(c);
        return c;
    }

    /** Polls until {@code count} records arrived or the deadline passes. */
    private static List<ConsumerRecord<String, String>> pollFor(Consumer<String, String> c, int count) {
        List<ConsumerRecord<String, String>> all = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (all.size() < count && System.nanoTime() < deadline) {
            all.addAll(c.poll(Duration.ofMillis(200)));
        }
        return all;
    }

    @Test
    void readsEveryPartitionFromTheBeginningInOffsetOrder() {
        cluster.append(P0, "a0", "a1", "a2");
        cluster.append(P1, "b0");
        cluster.append(P2, "c0", "c1");
        Consumer<String, String> c = consumer(AutoOffsetReset.EARLIEST);
        c.assign(c.partitionsFor("t"));
        List<ConsumerRecord<String, String>> records = pollFor(c, 6);
        assertEquals(6, records.size());
        Map<Integer, List<String>> byPartition = new HashMap<>();
        Map<Integer, List<Long>> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            byPartition.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.value());
            offsets.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.offset());
        }
        assertEquals(List.of("a0", "a1", "a2"), byPartition.get(0));
        assertEquals(List.of(0L, 1L, 2L), offsets.get(0));
        assertEquals(List.of("b0"), byPartition.get(1));
        assertEquals(List.of("c0", "c1"), byPartition.get(2));
        assertEquals(3, c.position(P0));
        assertEquals(2, c.position(P2));
        assertTrue(c.poll(Duration.ofMillis(150)).isEmpty(), "nothing is returned twice");
    }

    @Test
    void seekStartsAtTheGivenOffset() {
        cluster.append(P0, "x0", "x1", "x2", "x3");
        Consumer<String, String> c = consumer(AutoOffsetReset.NONE);
        c.assign(List.of(P0));
        c.seek(P0, 2);
        List<ConsumerRecord<String, String>> records = pollFor(c, 2);
        assertEquals(List.of("x2", "x3"), records.stream().map(ConsumerRecord::value).toList());
        assertEquals(List.of(2L, 3L), records.stream().map(ConsumerRecord::offset).toList());
        c.seekToBeginning(List.of(P0));
        assertEquals(0, c.position(P0));
        c.seekToEnd(List.of(P0));
        assertEquals(4, c.position(P0));
    }

    @Test
    void latestStartsAfterExistingRecordsAndLongPollSeesNewOnes() {
        cluster.append(P1, "old");
        Consumer<String, String> c = consumer(AutoOffsetReset.LATEST);
        c.assign(List.of(P1));
        assertEquals(1, c.position(P1));
        Thread appender = new Thread(() -> cluster.append(P1, "new"));
        appender.start();
        List<ConsumerRecord<String, String>> records = pollFor(c, 1);
        assertEquals(1, records.size());
        assertEquals("new", records.get(0).value());
        assertEquals(1, records.get(0).offset());
    }

    @Test
    void leaderMoveIsFollowedWithoutSkippingOrRepeating() {
        cluster.append(P0, "m0", "m1");
        Consumer<String, String> c = consumer(AutoOffsetReset.EARLIEST);
        c.assign(List.of(P0));
        assertEquals(2, pollFor(c, 2).size());
        cluster.moveLeaderSilently(P0, cluster.leader(P0) % 3 + 1);
        cluster.append(P0, "m2", "m3");
        List<ConsumerRecord<String, String>> records = pollFor(c, 2);
        assertEquals(List.of(2L, 3L), records.stream().map(ConsumerRecord::offset).toList());
        assertEquals(List.of("m2", "m3"), records.stream().map(ConsumerRecord::value).toList());
    }

    @Test
    void offsetOutOfRangeWithResetNoneThrows() {
        cluster.append(P0, "only");
        Consumer<String, String> c = consumer(AutoOffsetReset.NONE);
        c.assign(List.of(P0));
        c.seek(P0, 5);
        assertThrows(OffsetOutOfRangeException.class, () -> c.poll(Duration.ofMillis(500)));
    }

    @Test
    void offsetOutOfRangeWithResetEarliestRewinds() {
        cluster.append(P0, "r0", "r1");
        Consumer<String, String> c = consumer(AutoOffsetReset.EARLIEST);
        c.assign(List.of(P0));
        c.seek(P0, 50);
        List<ConsumerRecord<String, String>> records = pollFor(c, 2);
        assertEquals(List.of(0L, 1L), records.stream().map(ConsumerRecord::offset).toList());
    }

    @Test
    void unknownPositionWithResetNoneThrows() {
        Consumer<String, String> c = consumer(AutoOffsetReset.NONE);
        c.assign(List.of(P0));
        assertThrows(OffsetOutOfRangeException.class, () -> c.poll(Duration.ofMillis(100)));
    }

    @Test
    void unknownTopicIsReported() {
        Consumer<String, String> c = consumer(AutoOffsetReset.EARLIEST);
        assertThrows(UnknownTopicOrPartitionException.class, () -> c.partitionsFor("missing"));
        c.assign(List.of(new TopicPartition("missing", 0)));
        assertThrows(UnknownTopicOrPartitionException.class, () -> c.poll(Duration.ofMillis(100)));
    }

    @Test
    void producedRecordsRoundTripWithKeysAndHeaders() throws Exception {
        try (Producer<String, String> p = Producer.create(ProducerConfig.builder().bootstrapServers(cluster.bootstrap())
                .channelFactory(cluster.channelFactory()).build(), new StringSerializer(), new StringSerializer())) {
            p.send(new ProducerRecord<>("t", 2, "k", "v", 1234L,
                    List.of(new Header("h", "hv".getBytes(java.nio.charset.StandardCharsets.UTF_8))))).get();
            p.send(new ProducerRecord<>("t", 2, null, null)).get();
        }
        Consumer<String, String> c = consumer(AutoOffsetReset.EARLIEST);
        c.assign(List.of(P2));
        List<ConsumerRecord<String, String>> records = pollFor(c, 2);
        assertEquals(2, records.size());
        ConsumerRecord<String, String> first = records.get(0);
        assertEquals("k", first.key());
        assertEquals("v", first.value());
        assertEquals(1234L, first.timestampMs());
        assertEquals("h", first.headers().get(0).key());
        assertEquals(null, records.get(1).key(), "keyless stays keyless (not empty)");
        assertEquals(null, records.get(1).value());
    }

    @Test
    void readsCompressedBatchesWithOneFetchPerBrokerInRecordBatchFormat() {
        cluster.fetchCompression(org.apache.kafka.common.compress.Compression.lz4().build());
        for (int i = 0; i < 10; i++) {
            cluster.append(P0, "p0-" + i);
            cluster.append(P1, "p1-" + i);
        }
        cluster.moveLeaderSilently(P1, cluster.leader(P0));
        Consumer<String, String> c = consumer(AutoOffsetReset.NONE);
        c.assign(List.of(P0, P1));
        c.seek(P0, 3);
        c.seek(P1, 5);
        List<ConsumerRecord<String, String>> records = pollFor(c, 12);
        assertEquals(List.of(3L, 4L, 5L, 6L, 7L, 8L, 9L),
                records.stream().filter(r -> r.partition() == 0).map(ConsumerRecord::offset).toList());
        assertEquals(List.of("p1-5", "p1-6", "p1-7", "p1-8", "p1-9"),
                records.stream().filter(r -> r.partition() == 1).map(ConsumerRecord::value).toList());
        FakeCluster.FetchCall first = cluster.fetchCalls().get(0);
        assertEquals(io.raftlog.api.v1.RecordFormat.RECORD_BATCHES, first.format());
        assertEquals(Map.of(P0, 3L, P1, 5L), first.offsets(), "both partitions of the broker in one request");
    }

    @Test
    void concurrentUseIsDetected() throws Exception {
        cluster.append(P0, "x");
        Consumer<String, String> c = consumer(AutoOffsetReset.LATEST);
        c.assign(List.of(P0));
        java.util.concurrent.CountDownLatch polling = new java.util.concurrent.CountDownLatch(1);
        Thread poller = new Thread(() -> {
            polling.countDown();
            c.poll(Duration.ofSeconds(3));
        });
        poller.start();
        polling.await();
        // A fetch reached the broker: the poller thread is inside poll, long-polling.
        io.raftlog.client.fake.Await.until("a fetch", Duration.ofSeconds(5), () -> !cluster.fetchCalls().isEmpty());
        assertThrows(java.util.ConcurrentModificationException.class, () -> c.seek(P0, 0));
        cluster.append(P0, "y");
        poller.join();
    }
}
