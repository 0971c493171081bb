package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.Record;
import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.RecordTooLargeException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.fake.FakeCluster.ProduceCall;
import io.raftlog.client.fake.FakeCluster.ProduceFault;
import io.raftlog.client.internals.Partitioner;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class ProducerTest {
    private FakeCluster cluster;
    private final List<Producer<String, String>> producers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("t", 3, 2);
    }

    @AfterEach
    void tearDown() {
        producers.forEach(Producer::close);
        cluster.close();
    }

    private Producer<String, String> producer(ProducerConfig.Builder builder) {
        Producer<String, String> p = Producer.create(builder.bootstrapServers(cluster.address(1))
                .channelFactory(cluster.channelFactory()).retryBackoffMs(10).requestTimeoutMs(3000).build(),
                new StringSerializer(), new StringSerializer());
        producers.add(p);
        return p;
    }

    private static RecordMetadata get(CompletableFuture<RecordMetadata> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static String value(Record r) {
        return r.getValue().toStringUtf8();
    }

    @Test
    void sendsToThePartitionLeaderAndReportsOffsets() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder());
        RecordMetadata m0 = get(producer.send(new ProducerRecord<>("t", 2, null, "a")));
        RecordMetadata m1 = get(producer.send(new ProducerRecord<>("t", 2, null, "b")));
        assertEquals("t", m0.topic());
        assertEquals(2, m0.partition());
        assertEquals(0, m0.offset());
        assertTrue(m0.timestampMs() > 0, "a record without timestamp is stamped with the send time");
        assertEquals(1, m1.offset());
        TopicPartition tp = new TopicPartition("t", 2);
        assertEquals(List.of("a", "b"), cluster.log(tp).stream().map(ProducerTest::value).toList());
        for (ProduceCall call : cluster.produceCalls()) {
            assertEquals(cluster.leader(tp), call.brokerId(), "must go to the leader, not the bootstrap broker");
            assertNotNull(call.producerId(), "idempotent by default");
            assertEquals(io.raftlog.api.v1.Acks.ACKS_ALL, call.acks());
        }
    }

    @Test
    void keylessRoundRobinAndKeyedMurmur2() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder());
        List<Integer> partitions = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            partitions.add(get(producer.send(new ProducerRecord<>("t", "v" + i))).partition());
        }
        assertEquals(List.of(0, 1, 2, 0), partitions);
        int expected = Partitioner.toPositive(Partitioner.murmur2("foobar".getBytes(StandardCharsets.UTF_8))) % 3;
        assertEquals(expected, get(producer.send(new ProducerRecord<>("t", "foobar", "x"))).partition());
        Record stored = cluster.log(new TopicPartition("t", expected)).stream()
                .filter(r -> value(r).equals("x")).findFirst().orElseThrow();
        assertEquals("foobar", stored.getKey().toStringUtf8());
    }

    @Test
    void notLeaderRefreshesMetadataAndResendsTheSameBatchToTheNewLeader() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder());
        TopicPartition tp = new TopicPartition("t", 0);
        get(producer.send(new ProducerRecord<>("t", 0, null, "first")));
        int oldLeader = cluster.leader(tp);
        int newLeader = oldLeader % 3 + 1;
        cluster.moveLeaderSilently(tp, newLeader);
        int metadataBefore = cluster.metadataCalls();

        RecordMetadata m = get(producer.send(new ProducerRecord<>("t", 0, null, "second")));
        assertEquals(1, m.offset());
        assertTrue(cluster.metadataCalls() > metadataBefore, "metadata refreshed after NOT_LEADER");

        List<ProduceCall> secondBatch = cluster.produceCalls().subList(1, cluster.produceCalls().size());
        assertEquals(2, secondBatch.size());
        assertEquals(oldLeader, secondBatch.get(0).brokerId());
        assertEquals(newLeader, secondBatch.get(1).brokerId());
        assertEquals(1, secondBatch.get(0).baseSequence());
        assertEquals(secondBatch.get(0).baseSequence(), secondBatch.get(1).baseSequence());
        assertEquals(secondBatch.get(0).producerId(), secondBatch.get(1).producerId());
        assertEquals(List.of("first", "second"), cluster.log(tp).stream().map(ProducerTest::value).toList());
    }

    @Test
    void lostAcknowledgementIsRetriedWithTheSameSequenceAndStoredOnce() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder());
        TopicPartition tp = new TopicPartition("t", 1);
        cluster.injectProduceFault(tp, ProduceFault.APPEND_THEN_TIMEOUT);
        RecordMetadata m = get(producer.send(new ProducerRecord<>("t", 1, null, "once")));
        assertEquals(0, m.offset());
        assertEquals(List.of("once"), cluster.log(tp).stream().map(ProducerTest::value).toList());
        List<ProduceCall> calls = cluster.produceCalls();
        assertEquals(2, calls.size());
        assertEquals(calls.get(0).baseSequence(), calls.get(1).baseSequence());
        assertEquals(calls.get(0).producerId(), calls.get(1).producerId());

        // The sequence advanced past the acknowledged batch.
        assertEquals(1, get(producer.send(new ProducerRecord<>("t", 1, null, "next"))).offset());
        assertEquals(1, cluster.produceCalls().get(2).baseSequence());
    }

    @Test
    void injectedNotLeaderOnceIsRetried() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder());
        TopicPartition tp = new TopicPartition("t", 0);
        cluster.injectProduceFault(tp, ProduceFault.NOT_LEADER);
        assertEquals(0, get(producer.send(new ProducerRecord<>("t", 0, null, "x"))).offset());
        assertEquals(1, cluster.log(tp).size());
    }

    @Test
    void manyRecordsStayInSendOrderPerPartition() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().batchSizeBytes(7 * 20).lingerMs(50));
        TopicPartition tp = new TopicPartition("t", 0);
        cluster.injectProduceFault(tp, ProduceFault.NOT_LEADER);
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            futures.add(producer.send(new ProducerRecord<>("t", 0, null, "m" + i)));
        }
        producer.flush();
        for (int i = 0; i < 200; i++) {
            assertTrue(futures.get(i).isDone(), "flush waits for every record");
            assertEquals(i, futures.get(i).get().offset());
        }
        List<String> log = cluster.log(tp).stream().map(ProducerTest::value).toList();
        for (int i = 0; i < 200; i++) {
            assertEquals("m" + i, log.get(i));
        }
        assertEquals(200, log.size());
        assertTrue(cluster.produceCalls().stream().allMatch(c -> c.records() <= 7), "batch.size bounds batches");
        assertTrue(cluster.produceCalls().stream().anyMatch(c -> c.records() > 1), "records were batched");
    }

    @Test
    void acksZeroReportsOffsetMinusOneAndIsNotIdempotent() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().acks(Acks.NONE));
        RecordMetadata m = get(producer.send(new ProducerRecord<>("t", 1, null, "fire-and-forget")));
        assertEquals(-1, m.offset());
        assertEquals(1, m.partition());
        ProduceCall call = cluster.produceCalls().get(0);
        assertEquals(io.raftlog.api.v1.Acks.ACKS_NONE, call.acks());
        assertEquals(null, call.producerId());
        assertEquals(1, cluster.log(new TopicPartition("t", 1)).size());
    }

    @Test
    void acksOneIsSentAsLeaderAcks() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().acks(Acks.LEADER).idempotence(false));
        assertEquals(0, get(producer.send(new ProducerRecord<>("t", 0, null, "v"))).offset());
        assertEquals(io.raftlog.api.v1.Acks.ACKS_LEADER, cluster.produceCalls().get(0).acks());
        assertEquals(null, cluster.produceCalls().get(0).producerId());
    }

    @Test
    void fatalErrorsFailTheBatchWithATypedException() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder());
        TopicPartition tp = new TopicPartition("t", 0);
        cluster.injectProduceFault(tp, ProduceFault.RECORD_TOO_LARGE);
        CompletableFuture<RecordMetadata> f = producer.send(new ProducerRecord<>("t", 0, null, "big"));
        CompletionException e = assertThrows(CompletionException.class, f::join);
        assertInstanceOf(RecordTooLargeException.class, e.getCause());
        assertEquals(1, cluster.produceCalls().size(), "fatal errors are not retried");
        // The failed batch did not consume its sequence: the next one reuses it and succeeds.
        assertEquals(0, get(producer.send(new ProducerRecord<>("t", 0, null, "small"))).offset());
        assertEquals(0, cluster.produceCalls().get(1).baseSequence());
    }

    @Test
    void aNegativeTimestampFailsTheFutureAndTheProducerGoesOn() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder());
        CompletionException e = assertThrows(CompletionException.class,
                () -> producer.send(new ProducerRecord<>("t", 0, null, "v", -5L, List.of())).join());
        assertInstanceOf(InvalidArgumentException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("negative"), e.getCause().getMessage());
        assertEquals(0, get(producer.send(new ProducerRecord<>("t", 0, null, "ok"))).offset());
    }

    @Test
    void unknownTopicFailsTheFuture() {
        Producer<String, String> producer = producer(ProducerConfig.builder());
        CompletionException e = assertThrows(CompletionException.class,
                () -> producer.send(new ProducerRecord<>("missing", "v")).join());
        assertInstanceOf(UnknownTopicOrPartitionException.class, e.getCause());
    }

    @Test
    void deliveryTimeoutExpiresWhenTheLeaderIsUnreachable() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().deliveryTimeoutMs(300));
        TopicPartition tp = new TopicPartition("t", 0);
        producer.send(new ProducerRecord<>("t", 0, null, "warm-up")).get(10, TimeUnit.SECONDS);
        cluster.stopBroker(cluster.leader(tp));
        CompletableFuture<RecordMetadata> f = producer.send(new ProducerRecord<>("t", 0, null, "lost"));
        CompletionException e = assertThrows(CompletionException.class, f::join);
        assertInstanceOf(TimeoutException.class, e.getCause());
    }

    /**
     * Partitions added to a topic while a producer runs: keyless records reach them once the
     * producer's metadata is {@code metadata.max.age.ms} old and refreshed, without any error.
     */
    @Test
    void aRunningProducerSendsToPartitionsAddedToTheTopicAfterTheMetadataMaxAge() throws Exception {
        Producer<String, String> producer = producer(ProducerConfig.builder().lingerMs(0).metadataMaxAgeMs(200));
        for (int i = 0; i < 3; i++) {
            assertTrue(get(producer.send(new ProducerRecord<>("t", "before-" + i))).partition() < 3);
        }
        cluster.addPartitions("t", 5);
        java.util.Set<Integer> seen = new java.util.TreeSet<>();
        int[] sent = {0};
        io.raftlog.client.fake.Await.until("keyless records reach partitions 3 and 4", java.time.Duration.ofSeconds(10),
                () -> {
                    try {
                        seen.add(get(producer.send(new ProducerRecord<>("t", "after-" + sent[0]++))).partition());
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    return seen.containsAll(List.of(3, 4));
                });
        assertTrue(cluster.log(new TopicPartition("t", 3)).size() >= 1);
        assertTrue(cluster.log(new TopicPartition("t", 4)).size() >= 1);
    }
}
