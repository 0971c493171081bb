package io.raftlog.client.internals.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.OutOfOrderSequenceException;
import io.raftlog.client.errors.RecordTooLargeException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.internals.producer.FakeTransport.Sent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The sender stepped by hand: fake clock, fake transport, fake metadata, no threads, no sleeps. */
@Timeout(10)
class SenderTest {
    private static final TopicPartition TP0 = new TopicPartition("t", 0);
    private static final TopicPartition TP1 = new TopicPartition("t", 1);
    private static final TopicPartition TP2 = new TopicPartition("t", 2);
    private static final String B1 = "b1:9092";
    private static final String B2 = "b2:9092";
    private static final long BACKOFF = 100;
    private static final int REQUEST_TIMEOUT = 3000;

    private final MutableClock clock = new MutableClock(0);
    private final FakeTransport transport = new FakeTransport();
    private final FakeMetadata metadata = new FakeMetadata();
    private RecordAccumulator accumulator;
    private Sender sender;

    /** Each record is its own batch when {@code oneRecordPerBatch}. */
    private void setUp(boolean idempotent, Acks acks, int maxInFlight, long deliveryTimeoutMs, boolean oneRecordPerBatch) {
        int batchSize = oneRecordPerBatch ? 1 : 16_384;
        accumulator = new RecordAccumulator(batchSize, 5, deliveryTimeoutMs, new BufferPool(1 << 20));
        sender = new Sender(accumulator, metadata, transport, clock, new Sender.Settings(acks, idempotent, maxInFlight,
                REQUEST_TIMEOUT, BACKOFF, deliveryTimeoutMs, Compression.NONE));
        metadata.leaders.put(TP0, B1);
        metadata.leaders.put(TP1, B1);
        metadata.leaders.put(TP2, B2);
    }

    private void setUpDefault() {
        setUp(true, Acks.ACKS_ALL, 5, 10_000, true);
    }

    private CompletableFuture<RecordMetadata> send(TopicPartition tp, String value) {
        CompletableFuture<RecordMetadata> f = new CompletableFuture<>();
        accumulator.append(tp, clock.millis(), null, value.getBytes(StandardCharsets.UTF_8), new Header[0], f, 0,
                clock.millis());
        return f;
    }

    private void step() {
        sender.runOnce(clock.millis());
    }

    private static Throwable failure(CompletableFuture<?> f) {
        assertTrue(f.isCompletedExceptionally(), "expected failure");
        return f.handle((v, e) -> e).join();
    }

    @Test
    void groupsReadyBatchesPerLeaderBrokerAfterLinger() {
        setUp(true, Acks.ACKS_ALL, 5, 10_000, false);
        step(); // producer id
        send(TP0, "a");
        send(TP1, "b");
        send(TP2, "c");
        step();
        assertEquals(0, transport.sent.size(), "lingering");
        clock.advance(5);
        step();
        assertEquals(2, transport.sent.size(), "one request per broker");
        Sent toB1 = transport.sent.stream().filter(s -> s.address().equals(B1)).findFirst().orElseThrow();
        assertEquals(2, toB1.request().getPartitionsCount(), "both b1 partitions in one request");
        assertEquals(Acks.ACKS_ALL, toB1.request().getAcks());
        assertEquals(REQUEST_TIMEOUT, toB1.request().getTimeoutMs());
        toB1.batches().forEach(b -> assertEquals(0, b.baseSequence()));
    }

    @Test
    void keepsAtMostMaxInFlightBatchesPerPartitionAndPipelinesThem() {
        setUp(true, Acks.ACKS_ALL, 2, 10_000, true);
        step();
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            futures.add(send(TP0, "m" + i));
        }
        step();
        assertEquals(2, transport.sent.size(), "two in flight without waiting for answers");
        assertEquals(0, transport.sent.get(0).only().baseSequence());
        assertEquals(1, transport.sent.get(1).only().baseSequence());
        transport.sent.get(0).succeed(10);
        step();
        assertEquals(3, transport.sent.size());
        assertEquals(2, transport.sent.get(2).only().baseSequence());
        assertEquals(new RecordMetadata("t", 0, 10, 0), futures.get(0).join());
        assertFalse(futures.get(1).isDone());
    }

    @Test
    void retriableFailureResendsInOrderWithTheSameSequencesAfterEarlierBatchesResolve() {
        setUpDefault();
        step();
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            futures.add(send(TP0, "m" + i));
        }
        step();
        assertEquals(3, transport.sent.size());
        long pid = transport.sent.get(0).only().producerId();
        metadata.clusterLeaders.put(TP0, B2);

        transport.sent.get(0).fail(ErrorCode.NOT_LEADER);
        clock.advance(BACKOFF);
        step();
        assertEquals(3, transport.sent.size(), "nothing resent while later batches are unanswered");
        assertEquals(1, metadata.refreshes, "leader change refreshes metadata");

        // The broker rejects the later batches: the first one is missing.
        transport.sent.get(1).fail(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        transport.sent.get(2).fail(ErrorCode.NOT_LEADER);
        step();
        clock.advance(BACKOFF);
        step();
        List<Sent> resent = transport.sent.subList(3, transport.sent.size());
        assertEquals(3, resent.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(B2, resent.get(i).address(), "to the new leader");
            assertEquals(pid, resent.get(i).only().producerId());
            assertEquals(i, resent.get(i).only().baseSequence(), "sequence kept across the retry");
            assertEquals(List.of("m" + i), resent.get(i).only().values());
        }
        resent.forEach(s -> s.succeed(transport.sent.indexOf(s) - 3 + 40));
        step();
        for (int i = 0; i < 3; i++) {
            assertEquals(40 + i, futures.get(i).join().offset());
        }
    }

    @Test
    void laterBatchThatLandedCompletesWhileTheEarlierOneIsRetried() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> first = send(TP0, "a");
        CompletableFuture<RecordMetadata> second = send(TP0, "b");
        step();
        // The first batch was stored but its answer got lost; the second one was appended after it.
        transport.sent.get(0).fail(ErrorCode.REQUEST_TIMED_OUT);
        transport.sent.get(1).succeed(1);
        step();
        assertEquals(1, second.join().offset());
        clock.advance(BACKOFF);
        step();
        assertEquals(3, transport.sent.size());
        assertEquals(0, transport.sent.get(2).only().baseSequence(), "same sequence: the broker answers the duplicate");
        transport.sent.get(2).succeed(0);
        step();
        assertEquals(0, first.join().offset());
    }

    @Test
    void outOfOrderWithoutAnUnresolvedPredecessorIsFatalAndResetsTheProducerId() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> f = send(TP0, "a");
        step();
        long pid = transport.sent.get(0).only().producerId();
        transport.sent.get(0).fail(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        step();
        assertInstanceOf(OutOfOrderSequenceException.class, failure(f));
        send(TP0, "b");
        step();
        step(); // the new producer id arrives
        Sent next = transport.last();
        assertEquals(2, transport.sent.size());
        assertNotEquals(pid, next.only().producerId(), "the partition continues under a new producer id");
        assertEquals(0, next.only().baseSequence());
    }

    @Test
    void fatalErrorFailsTheBatchAtOnceWithoutRetry() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> f = send(TP0, "big");
        CompletableFuture<RecordMetadata> other = send(TP1, "ok");
        step();
        transport.sent.get(0).fail(ErrorCode.RECORD_TOO_LARGE);
        step();
        assertInstanceOf(RecordTooLargeException.class, failure(f));
        assertTrue(other.isCompletedExceptionally(), "same request: TP1 got the same injected error");
        clock.advance(10 * BACKOFF);
        step();
        assertEquals(1, transport.sent.size(), "not retried");
        assertFalse(accumulator.hasIncomplete(), "memory given back");
    }

    @Test
    void deliveryTimeoutAfterSendFailsAndMovesThePartitionToANewProducerId() {
        setUp(true, Acks.ACKS_ALL, 5, 2000, true);
        step();
        CompletableFuture<RecordMetadata> lost = send(TP0, "lost");
        step();
        long pid = transport.sent.get(0).only().producerId();
        clock.advance(1999);
        step();
        assertFalse(lost.isDone());
        clock.advance(1);
        step();
        assertInstanceOf(TimeoutException.class, failure(lost));
        assertEquals(List.of(), transport.disconnects, "a delivery deadline does not break the stream");
        send(TP0, "next");
        step();
        step();
        Sent next = transport.last();
        assertNotEquals(pid, next.only().producerId(), "the outcome of 'lost' is unknown: never reuse its sequence");
        assertEquals(0, next.only().baseSequence());
        // A late answer to the abandoned request is ignored.
        transport.sent.get(0).succeed(0);
        step();
        assertInstanceOf(TimeoutException.class, failure(lost));
    }

    @Test
    void queuedBatchesExpireWhenNoLeaderIsKnown() {
        setUp(true, Acks.ACKS_ALL, 5, 2000, true);
        metadata.leaders.remove(TP0);
        step();
        CompletableFuture<RecordMetadata> f = send(TP0, "x");
        clock.advance(5);
        step();
        assertEquals(0, transport.sent.size());
        assertTrue(metadata.updateRequested, "an unknown leader asks for a refresh");
        step();
        assertEquals(1, metadata.refreshes, "done by the next step");
        clock.advance(2000);
        step();
        assertTrue(failure(f).getMessage().contains("before it could be sent"));
    }

    @Test
    void requestTimeoutReconnectsAndRetriesWithTheSameSequence() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> f = send(TP0, "a");
        step();
        clock.advance(REQUEST_TIMEOUT);
        step();
        assertEquals(List.of(B1), transport.disconnects);
        clock.advance(BACKOFF);
        step();
        assertEquals(2, transport.sent.size());
        assertEquals(transport.sent.get(0).only().producerId(), transport.sent.get(1).only().producerId());
        assertEquals(0, transport.sent.get(1).only().baseSequence());
        transport.sent.get(1).succeed(5);
        step();
        assertEquals(5, f.join().offset());
    }

    @Test
    void streamFailureIsRetriedAfterAMetadataRefresh() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> f = send(TP0, "a");
        step();
        transport.sent.get(0).answer().completeExceptionally(Status.UNAVAILABLE.asRuntimeException());
        metadata.clusterLeaders.put(TP0, B2);
        step();
        clock.advance(BACKOFF);
        step();
        assertEquals(B2, transport.last().address());
        transport.last().succeed(0);
        step();
        assertEquals(0, f.join().offset());
    }

    @Test
    void unknownTopicIsRetriedOnceAfterARefreshThenFails() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> f = send(TP0, "a");
        step();
        transport.sent.get(0).fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        step();
        clock.advance(BACKOFF);
        step();
        assertEquals(2, transport.sent.size());
        assertEquals(1, metadata.refreshes);
        transport.sent.get(1).fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        step();
        assertInstanceOf(UnknownTopicOrPartitionException.class, failure(f));
    }

    @Test
    void waitsForAProducerIdBeforeSendingIdempotentBatches() {
        setUpDefault();
        transport.autoProducerId = false;
        send(TP0, "a");
        clock.advance(5);
        step();
        assertEquals(0, transport.sent.size());
        assertEquals(1, transport.producerIdRequests.size());
        transport.producerIdRequests.get(0).complete(
                io.raftlog.api.v1.InitProducerIdResponse.newBuilder().setProducerId(77).build());
        step();
        assertEquals(77, transport.sent.get(0).only().producerId());
    }

    @Test
    void acksZeroSendsNonIdempotentBatchesAndReportsMinusOne() {
        setUp(false, Acks.ACKS_NONE, 5, 10_000, true);
        CompletableFuture<RecordMetadata> f = send(TP0, "a");
        clock.advance(5);
        step();
        assertEquals(0, transport.producerIdRequests.size());
        assertEquals(-1, transport.sent.get(0).only().producerId());
        assertEquals(Acks.ACKS_NONE, transport.sent.get(0).request().getAcks());
        transport.sent.get(0).succeed(-1);
        step();
        assertEquals(-1, f.join().offset());
    }

    @Test
    void closingSendsLingeringBatchesAtOnce() {
        setUp(true, Acks.ACKS_ALL, 5, 10_000, false);
        step();
        send(TP0, "a");
        accumulator.close();
        step();
        assertEquals(1, transport.sent.size());
    }
}
