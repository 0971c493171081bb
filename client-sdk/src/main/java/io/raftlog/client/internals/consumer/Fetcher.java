package io.raftlog.client.internals.consumer;

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
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.OffsetSpec;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.OffsetOutOfRangeException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer's fetch state machine: positions, offset resets, pipelined prefetching and retries
 * for a set of assigned partitions.
 *
 * <h2>Threading</h2>
 * Confined to the application thread that calls {@link io.raftlog.client.Consumer}. RPC callbacks
 * (gRPC threads) only complete futures, decode record batches and {@link Waiter#wakeUp() wake}
 * the application thread; every state change happens in {@link #poll}/{@link #position}/seek on
 * the application thread, so no field needs a lock.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li><b>Position.</b> Each partition's position is the offset of the next record to hand out.
 *       It changes only when records are handed out (to last offset + 1), when a fetch's records are
 *       all handed out or it had none (to the end of its last whole batch below the high watermark,
 *       which a compacted log can leave past its last record), or by a seek/reset. So it never goes
 *       back, never passes a high watermark, and no record is skipped or handed out twice within an
 *       assignment.</li>
 *   <li><b>Epoch.</b> Every seek/reset bumps the partition's epoch and drops its buffered records;
 *       a response sent under an older epoch is discarded, so a seek never delivers stale data.</li>
 *   <li><b>Bounded prefetch.</b> A partition is in at most one fetch in flight and is only fetched
 *       when it has no buffered records; each broker has at most one fetch in flight (covering all
 *       its partitions). So memory is bounded by about two responses per broker (one buffered, one
 *       in flight), each at most {@code max.partition.fetch.bytes} per partition.</li>
 *   <li><b>Pipelining.</b> {@link #poll} sends the next fetch for every partition it drained
 *       before returning, so the next response is on its way while the application processes
 *       the records it got.</li>
 *   <li>Nothing throws after records were taken from the buffers in a poll: errors found while
 *       sending are kept and thrown by the next poll (otherwise those records would be lost).</li>
 * </ul>
 */
public final class Fetcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Fetcher.class);

    /** Cap of the per-partition exponential retry backoff (unless retry.backoff.ms is larger). */
    static final long MAX_RETRY_BACKOFF_MS = 1000;

    /** The consumer settings the fetcher needs. */
    public record Settings(AutoOffsetReset autoOffsetReset, int fetchMinBytes, int fetchMaxWaitMs,
                           int maxPartitionFetchBytes, int maxPollRecords, int requestTimeoutMs,
                           long retryBackoffMs) {
        public static Settings from(ConsumerConfig c) {
            return new Settings(c.autoOffsetReset(), c.fetchMinBytes(), c.fetchMaxWaitMs(),
                    c.maxPartitionFetchBytes(), c.maxPollRecords(), c.requestTimeoutMs(), c.retryBackoffMs());
        }
    }

    /** Mutable state of one assigned partition. A new object per assignment, so identity tells stale replies apart. */
    private static final class PartitionState {
        final TopicPartition tp;
        /** Next offset to hand out; null = unknown (resolved by {@link #resetTo} or auto.offset.reset). */
        Long position;
        /** A pending seekToBeginning/End or automatic reset; wins over {@link #position}. */
        OffsetSpec resetTo;
        /** An OFFSET_OUT_OF_RANGE arrived: ask the leader for the log bounds before believing it. */
        boolean validating;
        int epoch;
        /** Highest high watermark seen: offsets below it were committed and cannot be out of range at the end. */
        long maxHighWatermark = -1;
        final ArrayDeque<DecodedRecord> buffered = new ArrayDeque<>();
        /**
         * The next offset of the fetch whose records are {@link #buffered}; the position moves at
         * least there once they are all handed out (compacted-away records after the last one).
         */
        long bufferedNextOffset = -1;
        boolean fetchInFlight;
        boolean listOffsetsInFlight;
        int failures;
        long retryAtMs;
        /** Set with auto.offset.reset=none: thrown by every poll until the application seeks. */
        OffsetOutOfRangeException invalidPosition;

        PartitionState(TopicPartition tp) {
            this.tp = tp;
        }

        /** Forgets buffered data and outdates every reply in flight; the caller sets the new target. */
        void restart() {
            epoch++;
            buffered.clear();
            bufferedNextOffset = -1;
            validating = false;
            invalidPosition = null;
            failures = 0;
            retryAtMs = 0;
        }

        boolean positionKnown() {
            return position != null && resetTo == null;
        }
    }

    private record SentPartition(PartitionState state, int epoch, long offset) {
    }

    /**
     * A partition's share of a fetch response, decoded on the callback thread. {@code nextOffset}
     * is {@link RecordBatchDecoder.Decoded#nextOffset()}, the requested offset when nothing decoded.
     */
    private record Outcome(Error error, long highWatermark, List<DecodedRecord> records, long nextOffset,
                           RaftlogException decodeError) {
    }

    private static final class InFlightFetch {
        final String address;
        final Map<TopicPartition, SentPartition> partitions;
        CompletableFuture<FetchResponse> rpc;
        CompletableFuture<Map<TopicPartition, Outcome>> decoded;

        InFlightFetch(String address, Map<TopicPartition, SentPartition> partitions) {
            this.address = address;
            this.partitions = partitions;
        }
    }

    private enum Purpose { RESET, VALIDATE_EARLIEST, VALIDATE_LATEST }

    private record OffsetQuery(PartitionState state, int epoch, Purpose purpose, OffsetSpec spec) {
    }

    private record InFlightListOffsets(String address, List<OffsetQuery> queries,
                                       CompletableFuture<ListOffsetsResponse> rpc) {
    }

    private final Settings settings;
    private final ConsumerTransport transport;
    private final Routing routing;
    private final Clock clock;
    private final Waiter waiter;

    private final Map<TopicPartition, PartitionState> states = new LinkedHashMap<>();
    /** At most one fetch per broker address. */
    private final Map<String, InFlightFetch> fetches = new HashMap<>();
    private final List<InFlightListOffsets> offsetQueries = new ArrayList<>();
    /** Broker addresses that just failed at the transport level, and when to try them again. */
    private final Map<String, Long> brokerRetryAtMs = new HashMap<>();
    private final Map<String, Integer> brokerFailures = new HashMap<>();
    /** An error found where it could not be thrown; the next poll/position throws it. */
    private RaftlogException pendingError;
    /** Rotates which partition is drained first, so maxPollRecords cannot starve a partition. */
    private int drainRotation;

    public Fetcher(Settings settings, ConsumerTransport transport, Routing routing, Clock clock, Waiter waiter) {
        this.settings = settings;
        this.transport = transport;
        this.routing = routing;
        this.clock = clock;
        this.waiter = waiter;
    }

    // ---- assignment and positions ---------------------------------------------------------------

    /** Replaces the assignment; partitions that stay keep their position and buffered records. */
    public void assign(Collection<TopicPartition> partitions) {
        Map<TopicPartition, PartitionState> next = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            next.put(tp, states.getOrDefault(tp, new PartitionState(tp)));
        }
        for (PartitionState removed : states.values()) {
            if (!next.containsKey(removed.tp)) {
                removed.epoch++;
                cancelFetchOf(removed.tp);
            }
        }
        states.clear();
        states.putAll(next);
    }

    public Set<TopicPartition> assignment() {
        return new LinkedHashSet<>(states.keySet());
    }

    public void seek(TopicPartition tp, long offset) {
        PartitionState state = require(tp);
        state.restart();
        state.position = offset;
        state.resetTo = null;
        cancelFetchOf(tp);
        log.debug("seek {} to {}", tp, offset);
    }

    /** seekToBeginning / seekToEnd: resolved by the next poll or position. */
    public void seekTo(Collection<TopicPartition> partitions, OffsetSpec spec) {
        for (TopicPartition tp : partitions) {
            require(tp);
        }
        for (TopicPartition tp : partitions) {
            PartitionState state = states.get(tp);
            state.restart();
            state.resetTo = spec;
            cancelFetchOf(tp);
        }
    }

    /**
     * The position of {@code tp}, resolving a pending reset first (waiting up to {@code timeoutMs}).
     *
     * @throws TimeoutException if the position could not be resolved in time
     * @throws OffsetOutOfRangeException if there is no position and auto.offset.reset is none
     */
    public long position(TopicPartition tp, long timeoutMs) {
        PartitionState state = require(tp);
        long deadline = clock.millis() + Math.max(0, timeoutMs);
        while (true) {
            processCompleted();
            applyAutoResetToMissingPositions();
            if (state.invalidPosition != null) {
                throw state.invalidPosition;
            }
            throwPendingError();
            if (state.positionKnown()) {
                return state.position;
            }
            sendListOffsets();
            long now = clock.millis();
            if (now >= deadline) {
                throw new TimeoutException("could not resolve the position of " + tp + " within " + timeoutMs + " ms");
            }
            await(Math.min(deadline, nextRetryAt(now)) - now);
        }
    }

    // ---- poll -----------------------------------------------------------------------------------

    /**
     * Waits up to {@code timeoutMs} for records and returns at most {@code maxPollRecords} of them,
     * grouped by partition in offset order, continuing exactly at each partition's position (which
     * advances past them). Before returning, fetches for the drained partitions are already sent.
     *
     * @throws OffsetOutOfRangeException naming the partition, with auto.offset.reset=none
     * @throws RaftlogException for non-retriable errors (unknown topic, corrupt batch, ...)
     */
    public Map<TopicPartition, List<DecodedRecord>> poll(long timeoutMs) {
        return poll(timeoutMs, () -> false);
    }

    /**
     * {@link #poll(long)} that also returns (empty) before the timeout once {@code returnEarly} is
     * true; it is checked whenever the wait is interrupted by a {@link Waiter#wakeUp()}, so whoever
     * makes it true must wake the waiter.
     */
    public Map<TopicPartition, List<DecodedRecord>> poll(long timeoutMs, BooleanSupplier returnEarly) {
        long deadline = clock.millis() + Math.max(0, timeoutMs);
        while (true) {
            processCompleted();
            applyAutoResetToMissingPositions();
            for (PartitionState state : states.values()) {
                if (state.invalidPosition != null) {
                    throw state.invalidPosition;
                }
            }
            throwPendingError();
            Map<TopicPartition, List<DecodedRecord>> records = drain();
            // From here on nothing may throw: the drained records must reach the application.
            sendListOffsets();
            sendFetches();
            if (!records.isEmpty()) {
                return records;
            }
            long now = clock.millis();
            if (now >= deadline || returnEarly.getAsBoolean()) {
                return Map.of();
            }
            await(Math.min(deadline, nextRetryAt(now)) - now);
        }
    }

    /** The positions of the assigned partitions whose position is known (no pending seek or reset). */
    public Map<TopicPartition, Long> positions() {
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        for (PartitionState state : states.values()) {
            if (state.positionKnown()) {
                out.put(state.tp, state.position);
            }
        }
        return out;
    }

    /** Cancels everything in flight. The transport's channels are owned and closed by the caller. */
    @Override
    public void close() {
        for (InFlightFetch f : fetches.values()) {
            f.rpc.cancel(true);
        }
        fetches.clear();
        offsetQueries.forEach(q -> q.rpc().cancel(true));
        offsetQueries.clear();
    }

    private PartitionState require(TopicPartition tp) {
        PartitionState state = states.get(tp);
        if (state == null) {
            throw new IllegalStateException(tp + " is not assigned");
        }
        return state;
    }

    private void throwPendingError() {
        RaftlogException e = pendingError;
        if (e != null) {
            pendingError = null;
            throw e;
        }
    }

    private void keepError(RaftlogException e) {
        if (pendingError == null) {
            pendingError = e;
        } else {
            log.warn("dropping a second consumer error while one is pending: {}", e.getMessage());
        }
    }

    private void await(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            waiter.await(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RaftlogException("interrupted while polling", e);
        }
    }

    /** The earliest future retry time of a backing-off partition or broker, or MAX_VALUE. */
    private long nextRetryAt(long now) {
        long next = Long.MAX_VALUE;
        for (PartitionState s : states.values()) {
            if (s.retryAtMs > now) {
                next = Math.min(next, s.retryAtMs);
            }
        }
        for (long at : brokerRetryAtMs.values()) {
            if (at > now) {
                next = Math.min(next, at);
            }
        }
        return next;
    }

    private long backoffMs(int failures) {
        long cap = Math.max(MAX_RETRY_BACKOFF_MS, settings.retryBackoffMs());
        int shift = Math.min(Math.max(failures - 1, 0), 20);
        return Math.min(cap, settings.retryBackoffMs() << shift);
    }

    /** A retriable failure of one partition: refresh metadata and retry later at the same position. */
    private void backOff(PartitionState state, String why) {
        state.failures++;
        state.retryAtMs = clock.millis() + backoffMs(state.failures);
        routing.invalidate();
        log.debug("{}: {}; retrying in {} ms", state.tp, why, state.retryAtMs - clock.millis());
    }

    private void applyAutoResetToMissingPositions() {
        for (PartitionState state : states.values()) {
            if (state.position != null || state.resetTo != null || state.invalidPosition != null) {
                continue;
            }
            switch (settings.autoOffsetReset()) {
                case EARLIEST -> state.resetTo = OffsetSpec.EARLIEST;
                case LATEST -> state.resetTo = OffsetSpec.LATEST;
                case NONE -> state.invalidPosition = new OffsetOutOfRangeException(state.tp, -1,
                        "no position for " + state.tp + " and auto.offset.reset is none; seek first");
            }
        }
    }

    /** Out of range for real: apply auto.offset.reset (earliest/latest) or stop the partition (none). */
    private void resetOutOfRange(PartitionState state, long earliest, long latest) {
        long position = state.position;
        String range = "offset " + position + " of " + state.tp + " is out of range (the log holds offsets "
                + earliest + " to " + latest + ", end exclusive)";
        switch (settings.autoOffsetReset()) {
            case EARLIEST, LATEST -> {
                state.restart();
                state.resetTo = settings.autoOffsetReset() == AutoOffsetReset.EARLIEST
                        ? OffsetSpec.EARLIEST : OffsetSpec.LATEST;
                log.info("{}; resetting to {} (auto.offset.reset)", range, state.resetTo);
            }
            case NONE -> {
                state.validating = false;
                state.invalidPosition = new OffsetOutOfRangeException(state.tp, position,
                        range + " and auto.offset.reset is none; seek to a valid offset");
            }
        }
    }

    // ---- draining -------------------------------------------------------------------------------

    private Map<TopicPartition, List<DecodedRecord>> drain() {
        Map<TopicPartition, List<DecodedRecord>> out = new LinkedHashMap<>();
        List<PartitionState> order = new ArrayList<>(states.values());
        if (order.isEmpty()) {
            return out;
        }
        int start = Math.floorMod(drainRotation++, order.size());
        int remaining = settings.maxPollRecords();
        for (int i = 0; i < order.size() && remaining > 0; i++) {
            PartitionState state = order.get((start + i) % order.size());
            if (state.buffered.isEmpty() || !state.positionKnown()) {
                continue;
            }
            List<DecodedRecord> taken = new ArrayList<>(Math.min(remaining, state.buffered.size()));
            while (remaining > 0 && !state.buffered.isEmpty()) {
                taken.add(state.buffered.poll());
                remaining--;
            }
            state.position = taken.get(taken.size() - 1).offset() + 1;
            if (state.buffered.isEmpty()) {
                // The fetch is used up: skip the compacted-away offsets after its last record too.
                state.position = Math.max(state.position, state.bufferedNextOffset);
                state.bufferedNextOffset = -1;
            }
            out.put(state.tp, taken);
        }
        return out;
    }

    // ---- fetch ----------------------------------------------------------------------------------

    private boolean fetchable(PartitionState state, long now) {
        return state.positionKnown() && !state.validating && state.invalidPosition == null
                && !state.fetchInFlight && state.buffered.isEmpty() && state.retryAtMs <= now;
    }

    /** Chooses a broker per fetchable partition and sends one request per idle broker. */
    private void sendFetches() {
        long now = clock.millis();
        Map<String, Map<TopicPartition, SentPartition>> byBroker = new LinkedHashMap<>();
        for (PartitionState state : states.values()) {
            if (!fetchable(state, now)) {
                continue;
            }
            String address = chooseBroker(state, now);
            if (address != null && !fetches.containsKey(address)) {
                byBroker.computeIfAbsent(address, a -> new LinkedHashMap<>())
                        .put(state.tp, new SentPartition(state, state.epoch, state.position));
            }
        }
        byBroker.forEach(this::sendFetch);
    }

    /** The first candidate broker not backing off; null (and a backoff) when there is none. */
    private String chooseBroker(PartitionState state, long now) {
        List<String> candidates;
        try {
            candidates = routing.fetchCandidates(state.tp);
        } catch (RaftlogException e) {
            keepError(e);
            state.retryAtMs = now + backoffMs(++state.failures);
            return null;
        }
        for (String address : candidates) {
            if (brokerRetryAtMs.getOrDefault(address, 0L) <= now) {
                return address;
            }
        }
        if (candidates.isEmpty()) {
            backOff(state, "no broker known for it");
        }
        return null;
    }

    private void sendFetch(String address, Map<TopicPartition, SentPartition> partitions) {
        FetchRequest.Builder request = FetchRequest.newBuilder().setMaxWaitMs(settings.fetchMaxWaitMs())
                .setMinBytes(settings.fetchMinBytes()).setFormat(RecordFormat.RECORD_BATCHES);
        partitions.values().forEach(sent -> request.addPartitions(FetchPartition.newBuilder()
                .setTopic(sent.state().tp.topic()).setPartition(sent.state().tp.partition())
                .setOffset(sent.offset()).setMaxBytes(settings.maxPartitionFetchBytes())));
        InFlightFetch fetch = new InFlightFetch(address, partitions);
        // A long poll legitimately takes max_wait, so the RPC deadline is on top of it.
        long timeoutMs = settings.fetchMaxWaitMs() + (long) settings.requestTimeoutMs();
        try {
            fetch.rpc = transport.fetch(address, request.build(), timeoutMs);
        } catch (RuntimeException e) {
            fetch.rpc = CompletableFuture.failedFuture(e);
        }
        // Decode on the callback thread (overlaps decompression with the application's work).
        fetch.decoded = fetch.rpc.thenApply(response -> decode(response, partitions));
        fetch.decoded.whenComplete((r, e) -> waiter.wakeUp());
        partitions.values().forEach(sent -> sent.state().fetchInFlight = true);
        fetches.put(address, fetch);
        log.trace("fetch from {}: {}", address, partitions.keySet());
    }

    private static Map<TopicPartition, Outcome> decode(FetchResponse response,
                                                       Map<TopicPartition, SentPartition> sent) {
        Map<TopicPartition, Outcome> out = new HashMap<>();
        for (FetchPartitionResult r : response.getResultsList()) {
            TopicPartition tp;
            try {
                tp = new TopicPartition(r.getTopic(), r.getPartition());
            } catch (RuntimeException e) {
                continue;
            }
            SentPartition request = sent.get(tp);
            if (request == null) {
                continue;
            }
            if (r.getError().getCode() != ErrorCode.NONE) {
                out.put(tp, new Outcome(r.getError(), r.getHighWatermark(), List.of(), request.offset(), null));
                continue;
            }
            try {
                RecordBatchDecoder.Decoded decoded =
                        RecordBatchDecoder.decode(r.getRecordBatches(), request.offset(), r.getHighWatermark());
                out.put(tp, new Outcome(r.getError(), r.getHighWatermark(), decoded.records(),
                        decoded.nextOffset(), null));
            } catch (RaftlogException e) {
                out.put(tp, new Outcome(r.getError(), r.getHighWatermark(), List.of(), request.offset(), e));
            }
        }
        return out;
    }

    /** A seek/reset/unassign of {@code tp}: cancel the fetch carrying it (its other partitions are refetched). */
    private void cancelFetchOf(TopicPartition tp) {
        for (Iterator<InFlightFetch> it = fetches.values().iterator(); it.hasNext(); ) {
            InFlightFetch fetch = it.next();
            if (fetch.partitions.containsKey(tp)) {
                it.remove();
                fetch.rpc.cancel(true);
                fetch.partitions.values().forEach(sent -> sent.state().fetchInFlight = false);
                log.debug("cancelled fetch from {} for {}", fetch.address, fetch.partitions.keySet());
            }
        }
    }

    // ---- completions ----------------------------------------------------------------------------

    private void processCompleted() {
        for (Iterator<InFlightFetch> it = fetches.values().iterator(); it.hasNext(); ) {
            InFlightFetch fetch = it.next();
            if (fetch.decoded.isDone()) {
                it.remove();
                fetch.partitions.values().forEach(sent -> sent.state().fetchInFlight = false);
                completeFetch(fetch);
            }
        }
        for (Iterator<InFlightListOffsets> it = offsetQueries.iterator(); it.hasNext(); ) {
            InFlightListOffsets query = it.next();
            if (query.rpc().isDone()) {
                it.remove();
                query.queries().forEach(q -> q.state().listOffsetsInFlight = false);
                completeListOffsets(query);
            }
        }
    }

    private boolean current(PartitionState state, int epoch) {
        return states.get(state.tp) == state && state.epoch == epoch;
    }

    private void completeFetch(InFlightFetch fetch) {
        Map<TopicPartition, Outcome> outcomes;
        try {
            outcomes = fetch.decoded.join();
        } catch (CancellationException | CompletionException e) {
            if (e instanceof CancellationException || e.getCause() instanceof CancellationException) {
                return;
            }
            failedBroker(fetch.address, fetch.partitions.values().stream().map(SentPartition::state).toList(),
                    Errors.fromThrowable(e), "fetch");
            return;
        }
        brokerFailures.remove(fetch.address);
        brokerRetryAtMs.remove(fetch.address);
        for (SentPartition sent : fetch.partitions.values()) {
            PartitionState state = sent.state();
            if (!current(state, sent.epoch()) || state.position == null || state.position != sent.offset()) {
                continue; // seeked, reset or unassigned meanwhile: the data is stale
            }
            Outcome outcome = outcomes.get(state.tp);
            if (outcome == null) {
                backOff(state, "missing from the fetch response of " + fetch.address);
                continue;
            }
            completePartition(state, outcome, fetch.address);
        }
    }

    private void completePartition(PartitionState state, Outcome outcome, String address) {
        ErrorCode code = outcome.error().getCode();
        if (code == ErrorCode.NONE) {
            state.maxHighWatermark = Math.max(state.maxHighWatermark, outcome.highWatermark());
            if (outcome.decodeError() != null) {
                keepError(outcome.decodeError());
                state.retryAtMs = clock.millis() + backoffMs(++state.failures);
                return;
            }
            state.failures = 0;
            // Only called while the position is still the fetched offset (see completeFetch), so a
            // seek, reset or unassign since the fetch was sent never gets this next offset applied.
            if (outcome.records().isEmpty()) {
                // Only emptied (compacted) or control batches: move past them, or the next fetch
                // would ask for the same offset again and again.
                if (outcome.nextOffset() > state.position) {
                    log.trace("{}: no records up to {}, position {} -> {}", state.tp, outcome.nextOffset(),
                            state.position, outcome.nextOffset());
                    state.position = outcome.nextOffset();
                }
            } else {
                state.buffered.addAll(outcome.records());
                state.bufferedNextOffset = outcome.nextOffset();
            }
            return;
        }
        switch (code) {
            case OFFSET_OUT_OF_RANGE -> {
                // Could be a replica that is behind (restarting, or a follower): let the leader decide.
                state.validating = true;
                log.debug("{}: offset {} out of range on {}; checking the log bounds with the leader",
                        state.tp, state.position, address);
            }
            case NOT_LEADER, LEADER_NOT_AVAILABLE, REQUEST_TIMED_OUT, BROKER_NOT_AVAILABLE, NOT_ENOUGH_REPLICAS,
                 UNKNOWN_TOPIC_OR_PARTITION ->
                // UNKNOWN_TOPIC_OR_PARTITION too: a broker may not have seen a new topic yet. Routing
                // throws once fresh metadata confirms the topic is gone.
                    backOff(state, code + " from " + address);
            default -> {
                RaftlogException e = Errors.toException(outcome.error());
                keepError(new RaftlogException("fetch of " + state.tp + " from " + address + " failed: "
                        + e.getMessage(), e));
                state.retryAtMs = clock.millis() + backoffMs(++state.failures);
            }
        }
    }

    /**
     * A whole request failed. A retriable failure (unreachable broker, deadline) backs off the
     * broker, not its partitions: they move at once to another replica if there is one.
     */
    private void failedBroker(String address, List<PartitionState> partitions, RaftlogException error, String what) {
        if (error.isRetriable()) {
            int failures = brokerFailures.merge(address, 1, Integer::sum);
            brokerRetryAtMs.put(address, clock.millis() + backoffMs(failures));
            routing.invalidate();
            log.debug("{} to {} failed ({} in a row): {}", what, address, failures, error.getMessage());
        } else {
            keepError(error);
            partitions.forEach(state -> state.retryAtMs = clock.millis() + backoffMs(++state.failures));
        }
    }

    // ---- ListOffsets (resets and out-of-range checks) -------------------------------------------

    private void sendListOffsets() {
        long now = clock.millis();
        Map<String, List<OffsetQuery>> byLeader = new LinkedHashMap<>();
        for (PartitionState state : states.values()) {
            boolean needed = state.resetTo != null || (state.validating && state.position != null);
            if (!needed || state.listOffsetsInFlight || state.invalidPosition != null || state.retryAtMs > now) {
                continue;
            }
            String leader;
            try {
                leader = routing.leader(state.tp).orElse(null);
            } catch (RaftlogException e) {
                keepError(e);
                state.retryAtMs = now + backoffMs(++state.failures);
                continue;
            }
            if (leader == null) {
                backOff(state, "no known leader");
                continue;
            }
            if (brokerRetryAtMs.getOrDefault(leader, 0L) > now) {
                continue; // the leader just failed; nextRetryAt() wakes us when it may be tried again
            }
            List<OffsetQuery> queries = byLeader.computeIfAbsent(leader, a -> new ArrayList<>());
            if (state.resetTo != null) {
                queries.add(new OffsetQuery(state, state.epoch, Purpose.RESET, state.resetTo));
            } else {
                queries.add(new OffsetQuery(state, state.epoch, Purpose.VALIDATE_EARLIEST, OffsetSpec.EARLIEST));
                queries.add(new OffsetQuery(state, state.epoch, Purpose.VALIDATE_LATEST, OffsetSpec.LATEST));
            }
        }
        byLeader.forEach((address, queries) -> {
            ListOffsetsRequest.Builder request = ListOffsetsRequest.newBuilder();
            for (OffsetQuery q : queries) {
                request.addPartitions(ListOffsetsPartition.newBuilder().setTopic(q.state().tp.topic())
                        .setPartition(q.state().tp.partition())
                        .setSpec(q.spec() == OffsetSpec.EARLIEST ? io.raftlog.api.v1.OffsetSpec.EARLIEST
                                : io.raftlog.api.v1.OffsetSpec.LATEST));
                q.state().listOffsetsInFlight = true;
            }
            CompletableFuture<ListOffsetsResponse> rpc;
            try {
                rpc = transport.listOffsets(address, request.build(), settings.requestTimeoutMs());
            } catch (RuntimeException e) {
                rpc = CompletableFuture.failedFuture(e);
            }
            rpc.whenComplete((r, e) -> waiter.wakeUp());
            offsetQueries.add(new InFlightListOffsets(address, queries, rpc));
        });
    }

    private void completeListOffsets(InFlightListOffsets inFlight) {
        ListOffsetsResponse response;
        try {
            response = inFlight.rpc().join();
        } catch (CancellationException | CompletionException e) {
            if (e instanceof CancellationException || e.getCause() instanceof CancellationException) {
                return;
            }
            failedBroker(inFlight.address(), inFlight.queries().stream().map(OffsetQuery::state).distinct().toList(),
                    Errors.fromThrowable(e), "ListOffsets");
            return;
        }
        Map<PartitionState, Long> earliest = new HashMap<>();
        Map<PartitionState, Long> latest = new HashMap<>();
        List<OffsetQuery> queries = inFlight.queries();
        for (int i = 0; i < queries.size(); i++) {
            OffsetQuery q = queries.get(i);
            PartitionState state = q.state();
            if (!current(state, q.epoch())) {
                continue;
            }
            // Results come in request order (a partition can be asked twice, for both bounds).
            ListOffsetsResult result = i < response.getResultsCount() ? response.getResults(i) : null;
            if (result == null || !result.getTopic().equals(state.tp.topic())
                    || result.getPartition() != state.tp.partition()) {
                backOff(state, "ListOffsets answer from " + inFlight.address() + " does not match the request");
                continue;
            }
            RaftlogException error = Errors.toException(result.getError());
            if (error != null) {
                if (error.isRetriable() || result.getError().getCode() == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
                    backOff(state, "ListOffsets: " + error.getMessage());
                } else {
                    keepError(error);
                    state.retryAtMs = clock.millis() + backoffMs(++state.failures);
                }
                continue;
            }
            switch (q.purpose()) {
                case RESET -> {
                    state.position = result.getOffset();
                    state.resetTo = null;
                    state.failures = 0;
                    state.maxHighWatermark = Math.max(state.maxHighWatermark, result.getOffset());
                    log.debug("position of {} reset to {} ({})", state.tp, result.getOffset(), q.spec());
                }
                case VALIDATE_EARLIEST -> earliest.put(state, result.getOffset());
                case VALIDATE_LATEST -> latest.put(state, result.getOffset());
            }
        }
        for (Map.Entry<PartitionState, Long> e : earliest.entrySet()) {
            Long end = latest.get(e.getKey());
            if (end != null) {
                decideOutOfRange(e.getKey(), e.getValue(), end);
            }
        }
    }

    /**
     * Given the leader's log bounds, decides whether an OFFSET_OUT_OF_RANGE was real. Below the log
     * start it is. Above the end it is only if we never saw a high watermark that high: offsets
     * below a seen high watermark were committed, so a replica (even a freshly elected leader still
     * applying its log) that says otherwise is behind, and we wait instead of resetting (a reset
     * would skip or repeat records).
     */
    private void decideOutOfRange(PartitionState state, long earliest, long latest) {
        long position = state.position;
        if (position < earliest || position > Math.max(latest, state.maxHighWatermark)) {
            resetOutOfRange(state, earliest, latest);
        } else {
            state.validating = false;
            state.maxHighWatermark = Math.max(state.maxHighWatermark, latest);
            backOff(state, "offset " + position + " is in range per the leader [" + earliest + ", " + latest
                    + "]; a replica was behind");
        }
    }
}
