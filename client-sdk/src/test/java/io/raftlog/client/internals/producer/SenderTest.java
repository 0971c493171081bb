package io.raftlog.client.internals.producer;

import io.raftlog.client.fake.ManualClock;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    private final ManualClock clock = new ManualClock(0);
    private final FakeTransport transport = new FakeTransport();
    private final FakeMetadata metadata = new FakeMetadata();
    private RecordAccumulator accumulator;
    private Sender sender;

    /** Each record is its own batch when {@code oneRecordPerBatch}. */
    private void setUp(boolean idempotent, Acks acks, int maxInFlight, long deliveryTimeoutMs, boolean oneRecordPerBatch) {
        int batchSize = oneRecordPerBatch ? 1 : 16_384;
        accumulator = new RecordAccumulator(batchSize, 5, deliveryTimeoutMs, new BufferPool(1 << 20),
                Compression.NONE);
        sender = new Sender(accumulator, metadata, transport, clock, new Sender.Settings(acks, idempotent, maxInFlight,
                REQUEST_TIMEOUT, BACKOFF, deliveryTimeoutMs));
        metadata.leaders.put(TP0, B1);
        metadata.leaders.put(TP1, B1);
        metadata.leaders.put(TP2, B2);
    }

    private void setUpDefault() {
        setUp(true, Acks.ACKS_ALL, 5, 10_000, true);
    }

    private CompletableFuture<RecordMetadata> send(TopicPartition tp, String value) {
        CompletableFuture<RecordMetadata> f = new CompletableFuture<>();
        accumulator.append(tp, clock.millis(), null, value.getBytes(StandardCharsets.UTF_8), new Header[0], f, null, 0,
                clock.millis());
        return f;
    }

    private void step() {
        sender.runOnce(clock.millis());
    }

    /** Producer ids each record value was ever sent under. */
    private Map<String, Set<Long>> producerIdsPerValue() {
        Map<String, Set<Long>> out = new HashMap<>();
        for (Sent s : transport.sent) {
            for (FakeTransport.SentBatch b : s.batches()) {
                for (String v : b.values()) {
                    out.computeIfAbsent(v, k -> new HashSet<>()).add(b.producerId());
                }
            }
        }
        return out;
    }

    private static void assertSent(Sent sent, long producerId, int sequence, String value) {
        assertEquals(producerId, sent.only().producerId(), "producer id of " + value);
        assertEquals(sequence, sent.only().baseSequence(), "sequence of " + value);
        assertEquals(List.of(value), sent.only().values());
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

    /**
     * Chaos suite, seed 101: the first batch's answer is lost, later batches land, and new batches
     * keep coming. No batch may get a sequence 5 or more batches past the unresolved first one, so
     * the broker (which remembers 5 batches per producer) still knows it when it is retried.
     */
    @Test
    void noNewSequenceFiveOrMoreBatchesPastTheEarliestUnresolvedOne() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> first = send(TP0, "a");
        for (String v : List.of("b", "c", "d", "e")) {
            send(TP0, v);
        }
        step();
        assertEquals(5, transport.sent.size());
        transport.sent.get(0).fail(ErrorCode.REQUEST_TIMED_OUT);
        for (int i = 1; i < 5; i++) {
            transport.sent.get(i).succeed(i);
        }
        step();
        send(TP0, "f");
        send(TP0, "g");
        clock.advance(BACKOFF);
        step();
        step();
        // Only the retry of "a" goes out; "f" (5 batches past it) waits until "a" is resolved.
        assertEquals(6, transport.sent.size(), "only the retry may be sent: " + transport.sent);
        assertSent(transport.sent.get(5), transport.sent.get(0).only().producerId(), 0, "a");
        transport.sent.get(5).succeed(0);
        step();
        assertEquals(0, first.join().offset());
        step();
        assertEquals(8, transport.sent.size());
        assertEquals(List.of("f"), transport.sent.get(6).only().values());
        assertEquals(5, transport.sent.get(6).only().baseSequence());
        assertEquals(6, transport.sent.get(7).only().baseSequence());
    }

    @Test
    void outOfOrderForTheEarliestUnresolvedBatchIsRetriedUnderANewProducerIdFromSequenceZero() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> f = send(TP0, "a");
        step();
        long pid = transport.sent.get(0).only().producerId();
        transport.sent.get(0).fail(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        step();
        step(); // the new producer id arrives
        assertFalse(f.isDone(), "not stored, so retried rather than failed");
        Sent next = transport.last();
        assertEquals(2, transport.sent.size());
        assertNotEquals(pid, next.only().producerId(), "the partition continues under a new producer id");
        assertEquals(0, next.only().baseSequence());
        assertEquals(List.of("a"), next.only().values());
        next.succeed(0);
        step();
        assertEquals(0, f.join().offset());
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

    // ---- producer id changes with batches in flight ---------------------------------------------

    /**
     * m0, m1, m2 in flight under one id; m0's delivery timeout expires (failed for good, outcome
     * unknown), m1 and m2 get REQUEST_TIMED_OUT. They may be stored under the old id, so they are
     * retried with it and their sequences; the partition moves to a new id only afterwards.
     */
    @Test
    void retriesAfterAnEarlierBatchFailedForGoodKeepTheirProducerIdAndSequence() {
        setUp(true, Acks.ACKS_ALL, 5, 2000, true);
        step();
        CompletableFuture<RecordMetadata> lost = send(TP0, "m0");
        step();
        clock.advance(500);
        CompletableFuture<RecordMetadata> f1 = send(TP0, "m1");
        CompletableFuture<RecordMetadata> f2 = send(TP0, "m2");
        step();
        assertEquals(3, transport.sent.size());
        long pid = transport.sent.get(0).only().producerId();
        assertSent(transport.sent.get(2), pid, 2, "m2");

        clock.advance(1500); // m0's delivery deadline
        step();
        Throwable timeout = failure(lost);
        assertInstanceOf(TimeoutException.class, timeout);

        transport.sent.get(1).fail(ErrorCode.REQUEST_TIMED_OUT);
        transport.sent.get(2).fail(ErrorCode.REQUEST_TIMED_OUT);
        step();
        clock.advance(BACKOFF);
        step();
        assertEquals(5, transport.sent.size());
        assertSent(transport.sent.get(3), pid, 1, "m1");
        assertSent(transport.sent.get(4), pid, 2, "m2");
        CompletableFuture<RecordMetadata> f3 = send(TP0, "m3");
        step();
        assertEquals(5, transport.sent.size(), "m3 waits: m1 and m2 are unresolved under the old id");
        // m0 (and m1) had been stored: the broker answers the duplicate m1 with its original offset.
        transport.sent.get(3).succeed(1);
        transport.sent.get(4).succeed(2);
        step();
        step(); // the new producer id arrives
        assertEquals(6, transport.sent.size());
        long newPid = transport.last().only().producerId();
        assertNotEquals(pid, newPid, "nothing is unresolved under the old id any more: m3 starts a new one");
        assertSent(transport.last(), newPid, 0, "m3");
        transport.last().succeed(3);
        step();
        assertEquals(1, f1.join().offset());
        assertEquals(2, f2.join().offset());
        assertEquals(3, f3.join().offset());
        producerIdsPerValue().forEach((value, pids) ->
                assertEquals(1, pids.size(), value + " was sent under producer ids " + pids));
        assertTrue(timeout.getMessage().contains("may or may not have been written"), timeout.getMessage());
    }

    /**
     * As above, but m0 had not been stored: the retry of m1, now the earliest unresolved batch,
     * gets OUT_OF_ORDER_SEQUENCE, which proves m1 (and m2 behind it) were not stored. They are
     * re-sequenced under a new id from 0, in order, ahead of m3, and none fails.
     */
    @Test
    void outOfOrderForTheEarliestUnresolvedRetryMovesItAndTheBatchesBehindToANewProducerId() {
        setUp(true, Acks.ACKS_ALL, 5, 2000, true);
        step();
        send(TP0, "m0");
        step();
        clock.advance(500);
        CompletableFuture<RecordMetadata> f1 = send(TP0, "m1");
        CompletableFuture<RecordMetadata> f2 = send(TP0, "m2");
        step();
        long pid = transport.sent.get(0).only().producerId();
        clock.advance(1500);
        step(); // m0 fails for good
        CompletableFuture<RecordMetadata> f3 = send(TP0, "m3");
        transport.sent.get(1).fail(ErrorCode.REQUEST_TIMED_OUT);
        transport.sent.get(2).fail(ErrorCode.REQUEST_TIMED_OUT);
        step();
        clock.advance(BACKOFF);
        step();
        assertEquals(5, transport.sent.size());
        assertSent(transport.sent.get(3), pid, 1, "m1");
        assertSent(transport.sent.get(4), pid, 2, "m2");

        transport.sent.get(3).fail(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        step();
        assertEquals(5, transport.sent.size(), "m2 is still in flight under the old id");
        transport.sent.get(4).fail(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        step();
        step(); // the new producer id arrives
        assertEquals(8, transport.sent.size(), "" + transport.sent);
        long newPid = transport.sent.get(5).only().producerId();
        assertNotEquals(pid, newPid);
        assertSent(transport.sent.get(5), newPid, 0, "m1");
        assertSent(transport.sent.get(6), newPid, 1, "m2");
        assertSent(transport.sent.get(7), newPid, 2, "m3");
        for (int i = 5; i < 8; i++) {
            transport.sent.get(i).succeed(i - 5);
        }
        step();
        assertEquals(0, f1.join().offset());
        assertEquals(1, f2.join().offset());
        assertEquals(2, f3.join().offset());
    }

    /**
     * The broker no longer knows the producer id (e.g. expired after idling): UNKNOWN_PRODUCER_ID
     * for the first batch in flight means it was not stored. The partition takes a new id and
     * resends the batches from sequence 0 in order; all are acknowledged, none fails.
     */
    @Test
    void unknownProducerIdForTheFirstInFlightBatchResendsEverythingUnderANewProducerIdFromZero() {
        setUpDefault();
        step();
        CompletableFuture<RecordMetadata> f0 = send(TP0, "m0");
        step();
        long pid = transport.sent.get(0).only().producerId();
        transport.sent.get(0).succeed(0);
        step();
        assertEquals(0, f0.join().offset());

        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            futures.add(send(TP0, "m" + i));
        }
        step();
        assertEquals(4, transport.sent.size());
        assertSent(transport.sent.get(1), pid, 1, "m1");
        for (int i = 1; i <= 3; i++) {
            transport.sent.get(i).fail(ErrorCode.UNKNOWN_PRODUCER_ID);
        }
        step();
        step(); // the new producer id arrives
        futures.forEach(f -> assertFalse(f.isDone()));
        assertEquals(7, transport.sent.size(), "" + transport.sent);
        long newPid = transport.sent.get(4).only().producerId();
        assertNotEquals(pid, newPid);
        for (int i = 0; i < 3; i++) {
            assertSent(transport.sent.get(4 + i), newPid, i, "m" + (i + 1));
            transport.sent.get(4 + i).succeed(10 + i);
        }
        step();
        for (int i = 0; i < 3; i++) {
            assertEquals(10 + i, futures.get(i).join().offset());
        }
        assertFalse(accumulator.hasIncomplete());
    }

    /**
     * m0 failed for good; m1 got REQUEST_TIMED_OUT (outcome unknown) and is retried; m2 got
     * OUT_OF_ORDER_SEQUENCE and m3 UNKNOWN_PRODUCER_ID while m1 is unresolved: they are re-queued
     * unchanged (same producer id and sequence) behind m1, not re-sequenced.
     */
    @Test
    void outOfOrderForALaterBatchWhileAnEarlierIsRetriedRequeuesItUnchanged() {
        setUp(true, Acks.ACKS_ALL, 5, 2000, true);
        step();
        send(TP0, "m0");
        step();
        clock.advance(500);
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            futures.add(send(TP0, "m" + i));
        }
        step();
        long pid = transport.sent.get(0).only().producerId();
        clock.advance(1500);
        step(); // m0 fails for good
        transport.sent.get(1).fail(ErrorCode.REQUEST_TIMED_OUT);
        transport.sent.get(2).fail(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        transport.sent.get(3).fail(ErrorCode.UNKNOWN_PRODUCER_ID);
        step();
        clock.advance(BACKOFF);
        step();
        assertEquals(7, transport.sent.size(), "" + transport.sent);
        for (int i = 1; i <= 3; i++) {
            assertSent(transport.sent.get(3 + i), pid, i, "m" + i);
        }
        assertEquals(1, transport.producerIdRequests.size(), "no new producer id while the outcome is unknown");
        for (int i = 1; i <= 3; i++) {
            transport.sent.get(3 + i).succeed(i);
        }
        step();
        for (int i = 1; i <= 3; i++) {
            assertEquals(i, futures.get(i - 1).join().offset());
        }
        producerIdsPerValue().forEach((value, pids) ->
                assertEquals(1, pids.size(), value + " was sent under producer ids " + pids));
    }

    /** Without a failure for good, OUT_OF_ORDER behind an unanswered earlier batch keeps everything. */
    @Test
    void outOfOrderBehindATimedOutEarlierBatchKeepsProducerIdAndSequences() {
        setUpDefault();
        step();
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            futures.add(send(TP0, "m" + i));
        }
        step();
        long pid = transport.sent.get(0).only().producerId();
        transport.sent.get(0).fail(ErrorCode.REQUEST_TIMED_OUT);
        transport.sent.get(1).fail(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        transport.sent.get(2).fail(ErrorCode.OUT_OF_ORDER_SEQUENCE);
        step();
        clock.advance(BACKOFF);
        step();
        assertEquals(6, transport.sent.size());
        for (int i = 0; i < 3; i++) {
            assertSent(transport.sent.get(3 + i), pid, i, "m" + i);
            transport.sent.get(3 + i).succeed(i);
        }
        step();
        for (int i = 0; i < 3; i++) {
            assertEquals(i, futures.get(i).join().offset());
        }
        assertEquals(1, transport.producerIdRequests.size());
    }

    @Test
    void deliveryTimeoutOfARetriedBatchSaysItMayHaveBeenWritten() {
        setUp(true, Acks.ACKS_ALL, 5, 2000, true);
        step();
        CompletableFuture<RecordMetadata> f = send(TP0, "a");
        step();
        transport.sent.get(0).fail(ErrorCode.REQUEST_TIMED_OUT);
        step();
        metadata.leaders.remove(TP0); // the retry cannot be sent
        clock.advance(2000);
        step();
        Throwable t = failure(f);
        assertInstanceOf(TimeoutException.class, t);
        assertTrue(t.getMessage().contains("may or may not have been written"), t.getMessage());
    }
}
