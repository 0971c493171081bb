package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.fake.Await;
import io.raftlog.client.fake.FakeCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Topic names no topic can have fail fast in every client with {@link InvalidTopicException} and
 * the broker's message: at once, without a request, when the client's copy of the rules refuses
 * the name; after one metadata answer when only the broker does ({@link FakeCluster#refuseTopicName},
 * a broker with stricter rules). Before, they surfaced as "unknown topic".
 */
@Timeout(20)
class InvalidTopicNameTest {
    private static final String BAD = "bad name!";
    private static final String BAD_MESSAGE = "topic name 'bad name!' is illegal: character ' ' (U+0020) at index 3; "
            + "use only ASCII letters, digits, '.', '_' and '-'";
    /** A name the client's rules accept but the fake brokers refuse. */
    private static final String REFUSED = "reserved";
    private static final String REFUSED_MESSAGE = "topic name 'reserved' is reserved";

    private FakeCluster cluster;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("t", 3, 2);
        cluster.refuseTopicName(REFUSED, REFUSED_MESSAGE);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        cluster.close();
    }

    /**
     * A producer whose sender thread has done its own first metadata refresh (for every topic),
     * so that the requests a test counts afterwards are the ones its sends cause: that refresh
     * otherwise races with them.
     */
    private Producer<String, String> producer() {
        int before = cluster.metadataCalls();
        // max.block.ms far above the test timeout: failing fast must not depend on it.
        Producer<String, String> p = Producer.create(ProducerConfig.builder().bootstrapServers(cluster.address(1))
                .channelFactory(cluster.channelFactory()).retryBackoffMs(10).requestTimeoutMs(3000)
                .maxBlockMs(600_000).build(), new StringSerializer(), new StringSerializer());
        clients.add(p);
        Await.until("the producer's first metadata refresh", Duration.ofSeconds(10),
                () -> cluster.metadataCalls() > before);
        return p;
    }

    private Consumer<String, String> consumer() {
        Consumer<String, String> c = Consumer.create(ConsumerConfig.builder().bootstrapServers(cluster.address(1))
                .channelFactory(cluster.channelFactory()).retryBackoffMs(10).requestTimeoutMs(3000)
                .fetchMaxWaitMs(100).autoOffsetReset(AutoOffsetReset.EARLIEST).build(),
                new StringDeserializer(), new StringDeserializer());
        clients.add(c);
        return c;
    }

    private Admin admin() {
        Admin a = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap())
                .channelFactory(cluster.channelFactory()).requestTimeoutMs(3000).retryBackoffMs(10).build());
        clients.add(a);
        return a;
    }

    /** The exception a future already failed with (it must be done: "at once" means before the call returned). */
    private static RaftlogException failure(CompletableFuture<?> future) {
        assertTrue(future.isDone(), "the future must already be complete");
        ExecutionException e = assertThrows(ExecutionException.class, future::get);
        return assertInstanceOf(RaftlogException.class, e.getCause());
    }

    private static void assertInvalidTopic(String topic, String message, Throwable t) {
        InvalidTopicException e = assertInstanceOf(InvalidTopicException.class, t);
        assertEquals(topic, e.topic());
        assertEquals(message, e.getMessage());
        assertFalse(e.isRetriable());
    }

    // ---- producer -------------------------------------------------------------------------------

    @Test
    void producerFailsAtOnceWithoutARequest() {
        Producer<String, String> producer = producer();
        int calls = cluster.metadataCalls();
        AtomicReference<RaftlogException> callbackError = new AtomicReference<>();
        CompletableFuture<RecordMetadata> f = producer.send(new ProducerRecord<>(BAD, "v"),
                (m, e) -> callbackError.set(e));
        assertInvalidTopic(BAD, BAD_MESSAGE, failure(f));
        assertInvalidTopic(BAD, BAD_MESSAGE, callbackError.get());
        assertEquals(calls, cluster.metadataCalls(), "no request for a name the client's rules refuse");
        assertTrue(cluster.produceCalls().isEmpty());
        // The producer is not harmed: valid topics still work.
        assertEquals("t", producer.send(new ProducerRecord<>("t", 0, null, "ok")).join().topic());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "tab\there", "slash/es", "tópico"})
    void producerRefusesEveryKindOfIllegalName(String name) {
        Producer<String, String> producer = producer();
        int calls = cluster.metadataCalls();
        RaftlogException e = failure(producer.send(new ProducerRecord<>(name, "v")));
        assertInstanceOf(InvalidTopicException.class, e);
        assertEquals(calls, cluster.metadataCalls());
    }

    @Test
    void producerRefusesAnOverlongName() {
        String name = "a".repeat(250);
        assertInvalidTopic(name, "topic name is 250 characters long; at most 249 are allowed",
                failure(producer().send(new ProducerRecord<>(name, "v"))));
    }

    @Test
    void producerReportsTheBrokersRefusalOnceAndStopsAskingForTheName() {
        Producer<String, String> producer = producer();
        int before = cluster.metadataCalls();
        assertInvalidTopic(REFUSED, REFUSED_MESSAGE, failure(producer.send(new ProducerRecord<>(REFUSED, "v"))));
        int calls = cluster.metadataCalls();
        assertEquals(before + 1, calls);
        // Remembered: the next send fails the same way without asking again.
        assertInvalidTopic(REFUSED, REFUSED_MESSAGE, failure(producer.send(new ProducerRecord<>(REFUSED, "w"))));
        assertEquals(calls, cluster.metadataCalls());
        // And later refreshes (for other topics) no longer carry it. (A topic created now: the
        // producer's first refresh already brought "t".)
        cluster.createTopic("u", 1, 1);
        producer.send(new ProducerRecord<>("u", 0, null, "ok")).join();
        List<List<String>> requests = cluster.metadataRequests();
        assertTrue(requests.size() > calls);
        requests.subList(calls, requests.size()).forEach(r -> assertFalse(r.contains(REFUSED), r.toString()));
        assertTrue(cluster.produceCalls().stream().noneMatch(c -> c.tp().topic().equals(REFUSED)));
    }

    // ---- consumer -------------------------------------------------------------------------------

    @Test
    void consumerPartitionsForAndAssignRefuseAtOnce() {
        Consumer<String, String> consumer = consumer();
        assertInvalidTopic(BAD, BAD_MESSAGE, assertThrows(RaftlogException.class, () -> consumer.partitionsFor(BAD)));
        TopicPartition good = new TopicPartition("t", 0);
        consumer.assign(List.of(good));
        int calls = cluster.metadataCalls();
        assertInvalidTopic(BAD, BAD_MESSAGE, assertThrows(RaftlogException.class,
                () -> consumer.assign(List.of(good, new TopicPartition(BAD, 0)))));
        assertEquals(calls, cluster.metadataCalls(), "no request for a name the client's rules refuse");
        assertEquals(Set.of(good), consumer.assignment(), "a refused assign leaves the assignment unchanged");
        // Nothing was tracked either: the next refresh asks for "t" only.
        consumer.poll(Duration.ofMillis(50));
        cluster.metadataRequests().forEach(r -> assertFalse(r.contains(BAD), r.toString()));
    }

    @Test
    void consumerReportsTheBrokersRefusal() {
        Consumer<String, String> consumer = consumer();
        assertInvalidTopic(REFUSED, REFUSED_MESSAGE,
                assertThrows(RaftlogException.class, () -> consumer.partitionsFor(REFUSED)));
        assertInvalidTopic(REFUSED, REFUSED_MESSAGE, assertThrows(RaftlogException.class,
                () -> consumer.assign(List.of(new TopicPartition(REFUSED, 0)))));
        assertTrue(consumer.assignment().isEmpty());
        assertTrue(cluster.fetchCalls().isEmpty());
    }

    @Test
    void pollReportsTheBrokersRefusalOfATopicAssignedWhileNoBrokerAnswered() throws Exception {
        Consumer<String, String> consumer = consumer();
        for (int id = 1; id <= 3; id++) {
            cluster.stopBroker(id);
        }
        consumer.assign(List.of(new TopicPartition(REFUSED, 0)));
        for (int id = 1; id <= 3; id++) {
            cluster.startBroker(id);
        }
        // poll first gets past the refresh backoff, then the answer says INVALID_ARGUMENT.
        RaftlogException thrown = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (thrown == null && System.nanoTime() < deadline) {
            try {
                assertTrue(consumer.poll(Duration.ofMillis(100)).isEmpty());
            } catch (RaftlogException e) {
                thrown = e;
            }
        }
        assertInvalidTopic(REFUSED, REFUSED_MESSAGE, thrown);
        assertTrue(cluster.fetchCalls().isEmpty(), "nothing is fetched for a refused name");
    }

    // ---- admin ----------------------------------------------------------------------------------

    @Test
    void adminCallsFailAtOnceWithoutARequest() {
        Admin admin = admin();
        assertInvalidTopic(BAD, BAD_MESSAGE, failure(admin.createTopic(BAD, 1, 1)));
        assertInvalidTopic(BAD, BAD_MESSAGE, failure(admin.deleteTopic(BAD)));
        assertInvalidTopic(BAD, BAD_MESSAGE, failure(admin.describeTopic(BAD)));
        assertInvalidTopic(BAD, BAD_MESSAGE, failure(admin.listOffsets(new TopicPartition(BAD, 0), OffsetSpec.LATEST)));
        assertInvalidTopic("", "topic name must not be empty", failure(admin.createTopic("", 1, 1)));
        assertInvalidTopic(BAD, BAD_MESSAGE,
                assertThrows(RaftlogException.class, () -> admin.blocking().createTopic(BAD, 1, 1)));
        assertEquals(0, cluster.adminCalls());
        assertEquals(0, cluster.metadataCalls());
    }

    @Test
    void adminReportsTheBrokersRefusalWithItsMessage() {
        Admin admin = admin();
        for (Runnable call : List.<Runnable>of(() -> admin.blocking().createTopic(REFUSED, 1, 1),
                () -> admin.blocking().deleteTopic(REFUSED), () -> admin.blocking().describeTopic(REFUSED))) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call::run);
            assertEquals(REFUSED_MESSAGE, e.getMessage());
        }
        assertEquals(3, cluster.adminCalls(), "one request each: INVALID_ARGUMENT is not retried on another broker");
        assertInvalidTopic(REFUSED, REFUSED_MESSAGE, assertThrows(RaftlogException.class,
                () -> admin.blocking().listOffsets(new TopicPartition(REFUSED, 0), OffsetSpec.EARLIEST)));
    }
}
