package io.raftlog.client.internals.consumer;

import io.raftlog.client.fake.ManualClock;
import static io.raftlog.client.internals.consumer.CompactedBatches.commitMarker;
import static io.raftlog.client.internals.consumer.CompactedBatches.compacted;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.ListOffsetsPartition;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResponse;
import io.raftlog.api.v1.ListOffsetsResult;
import io.raftlog.api.v1.RecordFormat;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.OffsetSpec;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.CorruptRecordException;
import io.raftlog.client.errors.OffsetOutOfRangeException;
import io.raftlog.client.errors.TimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fetch state machine against a fake transport, fake routing and a fake clock: every RPC is
 * completed by the test, time moves only when the fetcher waits, nothing sleeps.
 */
@Timeout(10)
class FetcherTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final TopicPartition P2 = new TopicPartition("t", 2);
    private static final String A = "a:1";
    private static final String B = "b:1";
    private static final String C = "c:1";

    private final ManualClock clock = new ManualClock();
    private final FakeConsumerTransport transport = new FakeConsumerTransport();
    private final Map<TopicPartition, List<String>> candidates = new HashMap<>();
    private int invalidations;

    private final Routing routing = new Routing() {
        @Override
        public List<String> fetchCandidates(TopicPartition tp) {
            return candidates.getOrDefault(tp, List.of());
        }

        @Override
        public Optional<String> leader(TopicPartition tp) {
            return fetchCandidates(tp).stream().findFirst();
        }

        @Override
        public void invalidate() {
            invalidations++;
        }
    };

    /** Waiting just lets fake time pass: nothing else can happen while the test thread is inside poll. */
    private final Waiter waiter = new Waiter() {
        @Override
        public void wakeUp() {
        }

        @Override
        public void await(long timeoutMs) {
            clock.advance(timeoutMs);
        }
    };

    @BeforeEach
    void routes() {
        candidates.put(P0, List.of(A, C));
        candidates.put(P1, List.of(A, C));
        candidates.put(P2, List.of(B, C));
    }

    private Fetcher fetcher(AutoOffsetReset reset, int maxPollRecords) {
        return new Fetcher(new Fetcher.Settings(reset, 1, 500, 1 << 20, maxPollRecords, 30_000, 100),
                transport, routing, clock, waiter);
    }

    // ---- builders -------------------------------------------------------------------------------

    static ByteString batch(Compression compression, long baseOffset, String... values) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(256), RecordBatch.MAGIC_VALUE_V2,
                compression, TimestampType.CREATE_TIME, baseOffset);
        for (String v : values) {
            b.append(42L, ("k-" + v).getBytes(StandardCharsets.UTF_8), v.getBytes(StandardCharsets.UTF_8));
        }
        return ByteString.copyFrom(b.build().buffer());
    }

    static ByteString batch(long baseOffset, String... values) {
        return batch(Compression.NONE, baseOffset, values);
    }

    static FetchPartitionResult ok(TopicPartition tp, long highWatermark, ByteString batches) {
        return FetchPartitionResult.newBuilder().setTopic(tp.topic()).setPartition(tp.partition())
                .setHighWatermark(highWatermark).setRecordBatches(batches).build();
    }

    static FetchPartitionResult error(TopicPartition tp, ErrorCode code) {
        return FetchPartitionResult.newBuilder().setTopic(tp.topic()).setPartition(tp.partition())
                .setError(Error.newBuilder().setCode(code).setMessage(code.name())).build();
    }

    static void answer(FakeConsumerTransport.Call<FetchRequest, FetchResponse> call, FetchPartitionResult... results) {
        call.future().complete(FetchResponse.newBuilder().addAllResults(List.of(results)).build());
    }

    /** Answers a ListOffsets in request order with the given offsets per spec. */
    static void answerOffsets(FakeConsumerTransport.Call<ListOffsetsRequest, ListOffsetsResponse> call,
                              long earliest, long latest) {
        ListOffsetsResponse.Builder response = ListOffsetsResponse.newBuilder();
        for (ListOffsetsPartition p : call.request().getPartitionsList()) {
            response.addResults(ListOffsetsResult.newBuilder().setTopic(p.getTopic()).setPartition(p.getPartition())
                    .setOffset(p.getSpec() == io.raftlog.api.v1.OffsetSpec.EARLIEST ? earliest : latest));
        }
        call.future().complete(response.build());
    }

    static Map<TopicPartition, Long> offsets(FetchRequest request) {
        Map<TopicPartition, Long> out = new HashMap<>();
        for (FetchPartition p : request.getPartitionsList()) {
            out.put(new TopicPartition(p.getTopic(), p.getPartition()), p.getOffset());
        }
        return out;
    }

    static List<Long> offsetsOf(Map<TopicPartition, List<DecodedRecord>> polled, TopicPartition tp) {
        return polled.getOrDefault(tp, List.of()).stream().map(DecodedRecord::offset).toList();
    }

    static List<String> valuesOf(Map<TopicPartition, List<DecodedRecord>> polled, TopicPartition tp) {
        return polled.getOrDefault(tp, List.of()).stream()
                .map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
    }

    // ---- tests ----------------------------------------------------------------------------------

    @Test
    void theNextFetchIsInFlightBeforePollReturnsRecords() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        assertTrue(f.poll(0).isEmpty());
        assertEquals(1, transport.fetches.size());
        FetchRequest first = transport.lastFetch().request();
        assertEquals(RecordFormat.RECORD_BATCHES, first.getFormat());
        assertEquals(500, first.getMaxWaitMs());
        assertEquals(1, first.getMinBytes());
        assertEquals(1 << 20, first.getPartitions(0).getMaxBytes());
        answer(transport.lastFetch(), ok(P0, 3, batch(0, "a", "b", "c")));

        Map<TopicPartition, List<DecodedRecord>> polled = f.poll(0);

        assertEquals(List.of(0L, 1L, 2L), offsetsOf(polled, P0));
        // While the application holds these records, the fetch for offset 3 is already on its way.
        assertEquals(1, transport.pendingFetches().size());
        assertEquals(Map.of(P0, 3L), offsets(transport.pendingFetches().get(0).request()));
        // Its answer is buffered and returned by the next poll without another round trip.
        answer(transport.pendingFetches().get(0), ok(P0, 5, batch(3, "d", "e")));
        assertEquals(List.of("d", "e"), valuesOf(f.poll(0), P0));
        assertEquals(5, f.position(P0, 0));
    }

    @Test
    void onePartitionIsNeverInTwoFetchesAndBuffersAreBounded() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 2);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        answer(transport.lastFetch(), ok(P0, 5, batch(0, "a", "b", "c", "d", "e")));
        assertEquals(List.of(0L, 1L), offsetsOf(f.poll(0), P0));
        // Records still buffered: no new fetch for the partition yet (bounded prefetch).
        assertEquals(0, transport.pendingFetches().size());
        assertEquals(List.of(2L, 3L), offsetsOf(f.poll(0), P0));
        assertEquals(0, transport.pendingFetches().size());
        assertEquals(List.of(4L), offsetsOf(f.poll(0), P0));
        assertEquals(Map.of(P0, 5L), offsets(transport.pendingFetches().get(0).request()));
        assertEquals(2, transport.fetches.size());
    }

    @Test
    void oneRequestPerBrokerCoversAllItsPartitionsAndBrokersAreAskedInParallel() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0, P1, P2));
        f.seek(P0, 0);
        f.seek(P1, 7);
        f.seek(P2, 3);
        f.poll(0);
        assertEquals(2, transport.pendingFetches().size());
        Map<String, Map<TopicPartition, Long>> byBroker = new HashMap<>();
        transport.pendingFetches().forEach(c -> byBroker.put(c.address(), offsets(c.request())));
        assertEquals(Map.of(A, Map.of(P0, 0L, P1, 7L), B, Map.of(P2, 3L)), byBroker);
    }

    @Test
    void firstBatchStartingBeforeThePositionIsTrimmedAndCompressedBatchesAreDecoded() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 2);
        f.poll(0);
        ByteString two = batch(Compression.lz4().build(), 0, "v0", "v1", "v2", "v3")
                .concat(batch(Compression.gzip().build(), 4, "v4"));
        answer(transport.lastFetch(), ok(P0, 5, two));
        Map<TopicPartition, List<DecodedRecord>> polled = f.poll(0);
        assertEquals(List.of("v2", "v3", "v4"), valuesOf(polled, P0));
        DecodedRecord first = polled.get(P0).get(0);
        assertEquals("k-v2", new String(first.key(), StandardCharsets.UTF_8));
        assertEquals(42L, first.timestampMs());
    }

    @Test
    void recordsAtOrAboveTheHighWatermarkAreNotReturned() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        answer(transport.lastFetch(), ok(P0, 2, batch(0, "a", "b", "c")));
        assertEquals(List.of(0L, 1L), offsetsOf(f.poll(0), P0));
        assertEquals(Map.of(P0, 2L), offsets(transport.pendingFetches().get(0).request()));
    }

    @Test
    void seekCancelsTheFetchInFlightAndDropsBufferedRecords() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 1);
        f.assign(List.of(P0, P1));
        f.seek(P0, 0);
        f.seek(P1, 0);
        f.poll(0);
        FakeConsumerTransport.Call<FetchRequest, FetchResponse> inFlight = transport.lastFetch();
        f.seek(P0, 10);
        assertTrue(inFlight.future().isCancelled(), "the stale long-poll is cancelled");
        f.poll(0);
        FakeConsumerTransport.Call<FetchRequest, FetchResponse> refetch = transport.lastFetch();
        assertEquals(Map.of(P0, 10L, P1, 0L), offsets(refetch.request()));

        answer(refetch, ok(P0, 13, batch(10, "x10", "x11", "x12")), ok(P1, 0, ByteString.EMPTY));
        assertEquals(List.of(10L), offsetsOf(f.poll(0), P0));
        // x11 and x12 are buffered; a seek back must never deliver them.
        f.seek(P0, 5);
        // Broker A still has P1's long poll in flight (one fetch per broker): P0 joins the next one.
        FakeConsumerTransport.Call<FetchRequest, FetchResponse> p1Poll = transport.lastFetch();
        assertEquals(Map.of(P1, 0L), offsets(p1Poll.request()));
        answer(p1Poll, ok(P1, 0, ByteString.EMPTY));
        f.poll(0);
        assertEquals(5L, offsets(transport.lastFetch().request()).get(P0));
        answer(transport.lastFetch(), ok(P0, 13, batch(5, "y5")));
        assertEquals(List.of("y5"), valuesOf(f.poll(0), P0));
    }

    @Test
    void aResponseThatCompletedBeforeTheSeekIsDiscarded() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        answer(transport.lastFetch(), ok(P0, 2, batch(0, "stale0", "stale1")));
        f.seek(P0, 1);
        f.poll(0);
        assertEquals(Map.of(P0, 1L), offsets(transport.lastFetch().request()));
        answer(transport.lastFetch(), ok(P0, 2, batch(0, "fresh0", "fresh1")));
        assertEquals(List.of("fresh1"), valuesOf(f.poll(0), P0));
    }

    @Test
    void maxPollRecordsRotatesOverPartitionsWithoutSkippingOrRepeating() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 2);
        f.assign(List.of(P0, P1));
        f.seek(P0, 0);
        f.seek(P1, 0);
        f.poll(0);
        answer(transport.lastFetch(), ok(P0, 3, batch(0, "a0", "a1", "a2")), ok(P1, 3, batch(0, "b0", "b1", "b2")));
        Map<TopicPartition, List<Long>> seen = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            Map<TopicPartition, List<DecodedRecord>> polled = f.poll(0);
            assertEquals(2, polled.values().stream().mapToInt(List::size).sum());
            polled.forEach((tp, rs) -> rs.forEach(r -> seen.computeIfAbsent(tp, k -> new ArrayList<>()).add(r.offset())));
        }
        assertEquals(Map.of(P0, List.of(0L, 1L, 2L), P1, List.of(0L, 1L, 2L)), seen);
    }

    @Test
    void notLeaderRefreshesMetadataAndRetriesTheSamePositionAfterBackoff() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 4);
        f.poll(0);
        answer(transport.lastFetch(), error(P0, ErrorCode.NOT_LEADER));
        candidates.put(P0, List.of(C, A));
        f.poll(0);
        assertTrue(invalidations > 0);
        assertEquals(1, transport.fetches.size(), "no retry before the backoff");
        f.poll(100);
        assertEquals(2, transport.fetches.size());
        assertEquals(C, transport.lastFetch().address());
        assertEquals(Map.of(P0, 4L), offsets(transport.lastFetch().request()));
    }

    @Test
    void anUnreachableBrokerIsAvoidedInFavourOfAnotherReplica() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 4);
        f.poll(0);
        transport.lastFetch().future().completeExceptionally(Status.UNAVAILABLE.asRuntimeException());
        f.poll(100);
        assertEquals(C, transport.lastFetch().address(), "A backs off, the replica on C serves committed data");
        assertEquals(Map.of(P0, 4L), offsets(transport.lastFetch().request()));
        answer(transport.lastFetch(), ok(P0, 6, batch(4, "e", "f")));
        assertEquals(List.of(4L, 5L), offsetsOf(f.poll(0), P0));
    }

    @Test
    void outOfRangeFromALaggingReplicaDoesNotReset() {
        Fetcher f = fetcher(AutoOffsetReset.EARLIEST, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        answer(transport.lastFetch(), ok(P0, 3, batch(0, "a", "b", "c")));
        assertEquals(3, f.poll(0).get(P0).size());
        // A restarted replica has applied less of its log than we already read.
        answer(transport.lastFetch(), error(P0, ErrorCode.OFFSET_OUT_OF_RANGE));
        f.poll(0);
        FakeConsumerTransport.Call<ListOffsetsRequest, ListOffsetsResponse> check = transport.lastListOffsets();
        assertEquals(2, check.request().getPartitionsCount(), "asks the leader for both log bounds");
        answerOffsets(check, 0, 1); // the leader is behind too, but offset 3 was seen committed
        f.poll(100);
        assertEquals(Map.of(P0, 3L), offsets(transport.lastFetch().request()), "same position, no reset");
        assertEquals(1, transport.listOffsets.size());
    }

    @Test
    void realOutOfRangeAppliesEarliestReset() {
        Fetcher f = fetcher(AutoOffsetReset.EARLIEST, 500);
        f.assign(List.of(P0));
        f.seek(P0, 50);
        f.poll(0);
        answer(transport.lastFetch(), error(P0, ErrorCode.OFFSET_OUT_OF_RANGE));
        f.poll(0);
        answerOffsets(transport.lastListOffsets(), 2, 9);
        f.poll(0);
        FakeConsumerTransport.Call<ListOffsetsRequest, ListOffsetsResponse> reset = transport.lastListOffsets();
        assertEquals(io.raftlog.api.v1.OffsetSpec.EARLIEST, reset.request().getPartitions(0).getSpec());
        assertEquals(A, reset.address(), "offsets come from the leader");
        answerOffsets(reset, 2, 9);
        assertEquals(2, f.position(P0, 0));
        f.poll(0);
        assertEquals(Map.of(P0, 2L), offsets(transport.lastFetch().request()));
    }

    @Test
    void outOfRangeWithResetNoneThrowsNamingThePartitionUntilSeek() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 50);
        f.poll(0);
        answer(transport.lastFetch(), error(P0, ErrorCode.OFFSET_OUT_OF_RANGE));
        f.poll(0);
        answerOffsets(transport.lastListOffsets(), 0, 9);
        OffsetOutOfRangeException e = assertThrows(OffsetOutOfRangeException.class, () -> f.poll(0));
        assertEquals(Optional.of(P0), e.partition());
        assertEquals(50, e.offset().getAsLong());
        assertTrue(e.getMessage().contains("t-0"), e.getMessage());
        assertThrows(OffsetOutOfRangeException.class, () -> f.poll(0), "again until the application seeks");
        f.seek(P0, 9);
        assertTrue(f.poll(0).isEmpty());
        assertEquals(Map.of(P0, 9L), offsets(transport.lastFetch().request()));
    }

    @Test
    void noPositionWithResetNoneThrows() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P2));
        OffsetOutOfRangeException e = assertThrows(OffsetOutOfRangeException.class, () -> f.poll(0));
        assertEquals(Optional.of(P2), e.partition());
        assertTrue(e.offset().isEmpty());
    }

    @Test
    void seekToEndAsksTheLeaderAndPositionTimesOutOnFakeTime() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P2));
        f.seekTo(List.of(P2), OffsetSpec.LATEST);
        long before = clock.millis();
        assertThrows(TimeoutException.class, () -> f.position(P2, 250));
        assertEquals(250, clock.millis() - before, "waited exactly the timeout, on the fake clock");
        FakeConsumerTransport.Call<ListOffsetsRequest, ListOffsetsResponse> call = transport.lastListOffsets();
        assertEquals(B, call.address());
        assertEquals(io.raftlog.api.v1.OffsetSpec.LATEST, call.request().getPartitions(0).getSpec());
        answerOffsets(call, 0, 77);
        assertEquals(77, f.position(P2, 0));
    }

    @Test
    void pollWithoutDataWaitsItsTimeoutOnTheClock() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        long before = clock.millis();
        assertTrue(f.poll(300).isEmpty());
        assertEquals(300, clock.millis() - before);
        assertEquals(1, transport.fetches.size(), "one long poll, not a loop of requests");
    }

    @Test
    void corruptBatchIsReportedAndThePositionDoesNotMove() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        byte[] bytes = batch(0, "a", "b").toByteArray();
        bytes[bytes.length - 1] ^= 0x5a; // breaks the CRC
        answer(transport.lastFetch(), ok(P0, 2, ByteString.copyFrom(bytes)));
        assertThrows(CorruptRecordException.class, () -> f.poll(0));
        assertEquals(0, f.position(P0, 0));
        f.poll(1000);
        assertEquals(Map.of(P0, 0L), offsets(transport.lastFetch().request()), "retried at the same position");
    }

    @Test
    void unassignedPartitionsResponsesAreIgnored() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0, P2));
        f.seek(P0, 0);
        f.seek(P2, 0);
        f.poll(0);
        FakeConsumerTransport.Call<FetchRequest, FetchResponse> toB = transport.pendingFetches().stream()
                .filter(c -> c.address().equals(B)).findFirst().orElseThrow();
        f.assign(List.of(P0));
        assertTrue(toB.future().isCancelled());
        assertThrows(IllegalStateException.class, () -> f.seek(P2, 1));
        assertEquals(List.of(P0), List.copyOf(f.assignment()));
    }

    // ---- compacted logs (offset gaps, emptied batches) ------------------------------------------

    @Test
    void aFetchOfOnlyEmptiedBatchesMovesThePositionPastThem() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        answer(transport.lastFetch(), ok(P0, 20, compacted(0, 5).concat(compacted(5, 3))));
        assertTrue(f.poll(0).isEmpty());
        assertEquals(8, f.position(P0, 0));
        assertEquals(2, transport.fetches.size());
        assertEquals(Map.of(P0, 8L), offsets(transport.lastFetch().request()), "not offset 0 again");
        answer(transport.lastFetch(), ok(P0, 20, compacted(8, 4, 9L)));
        assertEquals(List.of(9L), offsetsOf(f.poll(0), P0));
        assertEquals(12, f.position(P0, 0));
        assertEquals(Map.of(P0, 12L), offsets(transport.lastFetch().request()));
    }

    @Test
    void aFetchOfOnlyAControlBatchMovesThePositionPastIt() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 4);
        f.poll(0);
        answer(transport.lastFetch(), ok(P0, 5, commitMarker(4)));
        assertTrue(f.poll(0).isEmpty());
        assertEquals(5, f.position(P0, 0));
        assertEquals(Map.of(P0, 5L), offsets(transport.lastFetch().request()));
    }

    @Test
    void drainingAFetchWithATrailingGapMovesThePositionToItsEnd() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 2);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        answer(transport.lastFetch(), ok(P0, 20, compacted(0, 10, 1L, 4L, 7L)));
        assertEquals(List.of(1L, 4L), offsetsOf(f.poll(0), P0));
        assertEquals(5, f.position(P0, 0), "records still buffered: just past the last one handed out");
        assertEquals(0, transport.pendingFetches().size());
        assertEquals(List.of(7L), offsetsOf(f.poll(0), P0));
        assertEquals(10, f.position(P0, 0));
        assertEquals(Map.of(P0, 10L), offsets(transport.pendingFetches().get(0).request()));
    }

    @Test
    void anEmptiedRangeReachingPastTheHighWatermarkIsNotSkippedYet() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        // The second batch (4..9) straddles the high watermark: its records below it are handed
        // out, its range is not skipped, and the position does not fall back to its start (4).
        answer(transport.lastFetch(), ok(P0, 6, compacted(0, 4, 2L).concat(compacted(4, 6, 5L, 8L))));
        assertEquals(List.of(2L, 5L), offsetsOf(f.poll(0), P0));
        assertEquals(6, f.position(P0, 0));
        assertEquals(Map.of(P0, 6L), offsets(transport.lastFetch().request()));
        answer(transport.lastFetch(), ok(P0, 6, compacted(4, 6, 5L, 8L)));
        assertTrue(f.poll(0).isEmpty());
        assertEquals(6, f.position(P0, 0), "offsets 6..9 are not all below the high watermark");
        assertEquals(Map.of(P0, 6L), offsets(transport.lastFetch().request()));
        answer(transport.lastFetch(), ok(P0, 10, compacted(4, 6, 5L, 8L)));
        assertEquals(List.of(8L), offsetsOf(f.poll(0), P0));
        assertEquals(10, f.position(P0, 0));
    }

    @Test
    void aSeekOrResetIsNotUndoneByTheNextOffsetOfAnEarlierFetch() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 1);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        // Completed, but not yet processed, when the application seeks.
        answer(transport.lastFetch(), ok(P0, 20, compacted(0, 10)));
        f.seek(P0, 3);
        assertEquals(3, f.position(P0, 0));
        f.poll(0);
        assertEquals(Map.of(P0, 3L), offsets(transport.lastFetch().request()));

        // Records buffered with a next offset beyond them, then a seek back.
        answer(transport.lastFetch(), ok(P0, 20, compacted(0, 10, 3L, 4L)));
        assertEquals(List.of(3L), offsetsOf(f.poll(0), P0));
        f.seek(P0, 1);
        f.poll(0);
        assertEquals(Map.of(P0, 1L), offsets(transport.lastFetch().request()));
        answer(transport.lastFetch(), ok(P0, 20, compacted(0, 3, 1L)));
        assertEquals(List.of(1L), offsetsOf(f.poll(0), P0));
        assertEquals(3, f.position(P0, 0), "this fetch's end, not that of the dropped one (10)");

        // seekToBeginning while an emptied range is on its way.
        FakeConsumerTransport.Call<FetchRequest, FetchResponse> inFlight = transport.lastFetch();
        assertEquals(Map.of(P0, 3L), offsets(inFlight.request()));
        f.seekTo(List.of(P0), OffsetSpec.EARLIEST);
        answer(inFlight, ok(P0, 20, compacted(3, 7)));
        assertThrows(TimeoutException.class, () -> f.position(P0, 0));
        answerOffsets(transport.lastListOffsets(), 0, 20);
        assertEquals(0, f.position(P0, 0));
        f.poll(0);
        assertEquals(Map.of(P0, 0L), offsets(transport.lastFetch().request()));
    }

    @Test
    void anUnassignedPartitionGetsNoNextOffsetFromItsOldFetch() {
        Fetcher f = fetcher(AutoOffsetReset.NONE, 500);
        f.assign(List.of(P0));
        f.seek(P0, 0);
        f.poll(0);
        FakeConsumerTransport.Call<FetchRequest, FetchResponse> old = transport.lastFetch();
        answer(old, ok(P0, 20, compacted(0, 10)));
        f.assign(List.of());
        f.assign(List.of(P0));
        f.seek(P0, 2);
        f.poll(0);
        assertEquals(2, f.position(P0, 0));
        assertEquals(Map.of(P0, 2L), offsets(transport.lastFetch().request()));
    }
}
