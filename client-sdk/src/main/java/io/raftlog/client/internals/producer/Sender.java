package io.raftlog.client.internals.producer;

import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.OutOfOrderSequenceException;
import io.raftlog.client.errors.ProducerFencedException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.UnknownProducerIdException;
import io.raftlog.client.errors.UnknownServerException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The producer's I/O loop: drains ready batches from the {@link RecordAccumulator}, sends them to
 * partition leaders and completes them from the answers.
 *
 * <p>One {@link #runOnce(long)} step: (1) handle answers that arrived since the last step,
 * (2) time out unanswered requests and expire queued batches past their delivery timeout,
 * (3) refresh metadata when asked to, (4) drain: repeatedly take at most one ready batch per
 * partition, grouped per leader broker into one {@code ProduceRequest} per broker, within the
 * per-partition in-flight limit, and hand the requests to the {@link ProducerTransport},
 * (5) ask for a producer id when a partition needs one. It returns how long the loop may wait.
 *
 * <p>Ordering and retries. Requests of one broker share an ordered stream, so up to
 * {@code maxInFlightPerPartition} batches of a partition are in flight and are applied in order.
 * When a batch fails with a retriable error it goes back to the front of its partition's deque
 * (by {@link ProducerBatch#ordinal()}), keeping its sequence, and the partition enters
 * <em>recovery</em>: nothing more is sent for it until every batch still in flight is answered.
 * Those later batches fail too (the broker answers OUT_OF_ORDER_SEQUENCE when the earlier one did
 * not land) and are re-queued behind it, so the partition resumes in the original order. Fatal
 * errors fail only their batch. Without idempotence a retried batch may be duplicated or reordered
 * behind a later one that did land (as in Kafka).
 *
 * <p>Idempotence: see {@link IdempotenceManager}. A sent batch keeps its (producer id, epoch,
 * sequence) for every retry, because a failed attempt (a timeout above all) does not mean it was
 * not stored, unless the broker proved it was not stored: OUT_OF_ORDER_SEQUENCE or
 * UNKNOWN_PRODUCER_ID for the partition's <em>earliest unresolved</em> batch (with at most 5 batches
 * in flight and the broker remembering the last 5 per producer id, a stored batch would have been
 * answered as a duplicate). Then that batch and every later batch under the same id lose their
 * sequence (they cannot have been stored either) and are re-stamped under a new id from sequence 0,
 * in order, without failing them. OUT_OF_ORDER_SEQUENCE or UNKNOWN_PRODUCER_ID for a later batch
 * means an earlier one is being retried: it is re-queued unchanged behind it. When a sequenced batch
 * fails for good (delivery timeout, fatal error) the partition also moves to a new producer id, but
 * only once no batch stamped under the old id is unresolved; until then new batches wait and
 * retries go on under the old id. A batch whose delivery timeout expires while its outcome is
 * unknown fails with a {@link TimeoutException} saying it may or may not have been written.
 *
 * <p>Threading: {@link #runOnce} and all state are confined to the sender thread ({@link #run});
 * transport callbacks only enqueue work and {@link #wakeup()} the loop. {@link #wakeup},
 * {@link #initiateClose}, {@link #forceClose} and {@link #fatalError} are thread-safe. Futures of
 * records complete on the sender thread, so callbacks must not block.
 */
public final class Sender implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Sender.class);
    /** Upper bound of one ProduceRequest's batch bytes (at least one batch is always sent). */
    static final int MAX_REQUEST_BYTES = 4 << 20;
    /** Longest idle wait of the loop, so nothing depends on a single missed wakeup. */
    private static final long MAX_POLL_MS = 1000;

    /** Sender settings, derived from {@code ProducerConfig}. */
    public record Settings(Acks acks, boolean idempotent, int maxInFlightPerPartition, int requestTimeoutMs,
                           long retryBackoffMs, long deliveryTimeoutMs) {
    }

    /** Per-partition delivery state. */
    private static final class PartitionDelivery {
        /** Batches sent and not yet answered, in send order. */
        final List<ProducerBatch> inFlight = new ArrayList<>();
        /**
         * Idempotence: batches stamped with a sequence whose outcome is unknown (in flight or
         * queued for a retry; not acknowledged, not failed, not proven unstored), by ordinal. All
         * carry the partition's current producer id (it changes only when this is empty).
         */
        final TreeMap<Long, ProducerBatch> unresolved = new TreeMap<>();
        /**
         * A producer id under which the broker proved a sequence of this partition was not stored;
         * no later sequence under it can be stored either.
         */
        long notStoredProducerId = ProducerBatch.NO_PRODUCER_ID;
        /** A batch failed: send nothing more until {@link #inFlight} is empty. */
        boolean recovering;

        void startRecovery() {
            recovering = true;
        }

        boolean isEarliestUnresolved(ProducerBatch batch) {
            return !unresolved.isEmpty() && unresolved.firstKey() == batch.ordinal();
        }
    }

    private static final class InFlightRequest {
        final long id;
        final String address;
        final List<ProducerBatch> batches;
        final long deadlineMs;
        /** The deadline is the request timeout (not a batch's delivery deadline). */
        final boolean requestTimeoutDeadline;

        InFlightRequest(long id, String address, List<ProducerBatch> batches, long deadlineMs,
                        boolean requestTimeoutDeadline) {
            this.id = id;
            this.address = address;
            this.batches = batches;
            this.deadlineMs = deadlineMs;
            this.requestTimeoutDeadline = requestTimeoutDeadline;
        }
    }

    private final RecordAccumulator accumulator;
    private final ProducerMetadata metadata;
    private final ProducerTransport transport;
    private final Clock clock;
    private final Settings settings;
    private final IdempotenceManager idempotence;

    private final Map<TopicPartition, PartitionDelivery> partitions = new HashMap<>();
    private final Map<Long, InFlightRequest> inFlightRequests = new LinkedHashMap<>();
    private long nextRequestId;
    /** Set during a drain when a ready partition could not be routed (no leader, no producer id). */
    private boolean blockedOnRouting;

    private final ConcurrentLinkedQueue<Runnable> completions = new ConcurrentLinkedQueue<>();
    private final Object wakeLock = new Object();
    private boolean wakeRequested;
    private volatile boolean running = true;
    private volatile boolean forceClose;
    private volatile RaftlogException fatalError;

    public Sender(RecordAccumulator accumulator, ProducerMetadata metadata, ProducerTransport transport, Clock clock,
                  Settings settings) {
        this.accumulator = accumulator;
        this.metadata = metadata;
        this.transport = transport;
        this.clock = clock;
        this.settings = settings;
        this.idempotence = settings.idempotent() ? new IdempotenceManager() : null;
    }

    // ---- thread control ------------------------------------------------------------------------

    @Override
    public void run() {
        log.debug("producer sender started");
        try {
            while (running) {
                loopOnce();
            }
            // Graceful close: keep sending until every batch is done (bounded by the delivery timeout).
            while (!forceClose && accumulator.hasIncomplete()) {
                loopOnce();
            }
            if (forceClose) {
                abortAll(new RaftlogException("producer closed before the record was acknowledged"));
            }
        } catch (RuntimeException | Error e) {
            log.error("producer sender thread failed", e);
            fatalError = new UnknownServerException("producer sender failed: " + e, e);
            abortAll(fatalError);
            throw e;
        } finally {
            transport.close();
            log.debug("producer sender stopped");
        }
    }

    private void loopOnce() {
        long delay = runOnce(clock.millis());
        synchronized (wakeLock) {
            if (!wakeRequested && delay > 0) {
                try {
                    wakeLock.wait(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    forceClose = true;
                    running = false;
                }
            }
            wakeRequested = false;
        }
    }

    /** Makes the loop run soon (new batch, full batch, flush, an answer arrived). Thread-safe. */
    public void wakeup() {
        synchronized (wakeLock) {
            wakeRequested = true;
            wakeLock.notifyAll();
        }
    }

    /** Stops after every queued and in-flight batch is done. */
    public void initiateClose() {
        running = false;
        wakeup();
    }

    /** Stops as soon as possible, failing what is not acknowledged yet. */
    public void forceClose() {
        forceClose = true;
        running = false;
        wakeup();
    }

    /** A producer-wide fatal error (fenced producer, dead sender), or null. */
    public RaftlogException fatalError() {
        return fatalError;
    }

    // ---- one step ------------------------------------------------------------------------------

    /**
     * One step of the loop at time {@code nowMs}; never blocks on I/O except for a metadata
     * refresh. Returns how long to wait before the next step if nothing wakes the loop earlier.
     */
    public long runOnce(long nowMs) {
        Runnable completion;
        while ((completion = completions.poll()) != null) {
            completion.run();
        }
        if (fatalError != null) {
            abortAll(fatalError);
            return MAX_POLL_MS;
        }
        timeOutRequests(nowMs);
        expireQueued(nowMs);
        metadata.maybeUpdate();

        RecordAccumulator.ReadyCheck ready = accumulator.ready(nowMs);
        blockedOnRouting = false;
        drainAndSend(ready.readyPartitions(), nowMs);
        maybeRequestProducerId(nowMs);

        long delay = Math.min(MAX_POLL_MS, ready.nextReadyCheckDelayMs());
        if (blockedOnRouting) {
            delay = Math.min(delay, Math.max(1, settings.retryBackoffMs()));
        }
        for (InFlightRequest r : inFlightRequests.values()) {
            delay = Math.min(delay, r.deadlineMs - nowMs);
        }
        if (idempotence != null && idempotence.nextAttemptMs() != Long.MAX_VALUE) {
            delay = Math.min(delay, idempotence.nextAttemptMs() - nowMs);
        }
        return Math.max(0, delay);
    }

    /** Number of requests sent and not answered (tests, diagnostics). Sender thread. */
    public int inFlightRequestCount() {
        return inFlightRequests.size();
    }

    /** Batches of {@code tp} sent and not answered. Sender thread. */
    public int inFlightBatches(TopicPartition tp) {
        PartitionDelivery d = partitions.get(tp);
        return d == null ? 0 : d.inFlight.size();
    }

    private PartitionDelivery delivery(TopicPartition tp) {
        return partitions.computeIfAbsent(tp, k -> new PartitionDelivery());
    }

    // ---- draining and sending ------------------------------------------------------------------

    /** Per broker, the batches of one request (at most one per partition). */
    private static final class RequestBuilder {
        final List<ProducerBatch> batches = new ArrayList<>();
        final ProduceRequest.Builder request;
        long bytes;

        RequestBuilder(Acks acks, int timeoutMs) {
            request = ProduceRequest.newBuilder().setAcks(acks).setTimeoutMs(timeoutMs);
        }
    }

    private void drainAndSend(List<TopicPartition> readyPartitions, long nowMs) {
        List<TopicPartition> candidates = new ArrayList<>(readyPartitions);
        // Rounds: each round sends at most one batch per partition, so several full batches of a
        // partition leave in one step as consecutive requests on the broker's ordered stream.
        while (!candidates.isEmpty()) {
            Map<String, RequestBuilder> byBroker = new LinkedHashMap<>();
            for (Iterator<TopicPartition> it = candidates.iterator(); it.hasNext(); ) {
                TopicPartition tp = it.next();
                if (!drainOne(tp, nowMs, byBroker)) {
                    it.remove();
                }
            }
            byBroker.forEach((address, rb) -> send(address, rb, nowMs));
            // Partitions that sent this round may have another ready batch behind.
            candidates.retainAll(new java.util.HashSet<>(accumulator.ready(nowMs).readyPartitions()));
        }
    }

    /** Moves the partition's head batch into a request if allowed. Returns whether one was taken. */
    private boolean drainOne(TopicPartition tp, long nowMs, Map<String, RequestBuilder> byBroker) {
        ProducerBatch head = accumulator.peekFirst(tp);
        if (head == null || (head.attempts() > 0 && head.retryAtMs() > nowMs)) {
            return false;
        }
        PartitionDelivery d = delivery(tp);
        if (d.inFlight.size() >= settings.maxInFlightPerPartition() || (d.recovering && !d.inFlight.isEmpty())) {
            return false;
        }
        // A new sequence only within maxInFlight batches of the earliest unresolved one (in flight
        // or waiting for a retry), counting the later batches already acknowledged: the broker
        // remembers the last 5 batches per producer, so a retried batch that was in fact stored is
        // then always answered as a duplicate, never as OUT_OF_ORDER_SEQUENCE, which the recovery
        // below reads as "not stored" (its re-stamped copy would be a duplicate). Found by the chaos
        // suite (seed 101): the earliest batch's answer was lost to a leader kill, 5 later batches
        // were stored, and its retry fell out of the broker's window.
        if (idempotence != null && !head.hasSequence() && !d.unresolved.isEmpty()
                && head.ordinal() - d.unresolved.firstKey() >= settings.maxInFlightPerPartition()) {
            return false;
        }
        Optional<String> leader = metadata.leaderAddress(tp);
        if (leader.isEmpty()) {
            metadata.requestUpdate();
            blockedOnRouting = true;
            return false;
        }
        if (idempotence != null && !head.hasSequence() && idempotence.resetPending(tp)) {
            if (!d.unresolved.isEmpty()) {
                // Batches under the old producer id are in flight with an unknown outcome: only
                // once they are resolved may the partition start over under a new id.
                return false;
            }
            log.debug("{} moves to a new producer id", tp);
            idempotence.reset(tp);
        }
        if (idempotence != null && !idempotence.ready(tp)) {
            blockedOnRouting = true;
            return false;
        }
        RequestBuilder rb = byBroker.computeIfAbsent(leader.get(),
                a -> new RequestBuilder(settings.acks(), settings.requestTimeoutMs()));
        if (rb.batches.stream().anyMatch(b -> b.topicPartition().equals(tp))
                || (!rb.batches.isEmpty() && rb.bytes >= MAX_REQUEST_BYTES)) {
            return true; // next round
        }
        ProducerBatch batch = accumulator.pollFirst(tp);
        if (idempotence != null) {
            idempotence.stamp(batch);
            d.unresolved.put(batch.ordinal(), batch);
        }
        if (d.inFlight.isEmpty()) {
            // Every earlier batch is resolved: the recovery (if any) is over.
            d.recovering = false;
        }
        var bytes = batch.encode();
        rb.request.addPartitions(PartitionProduceData.newBuilder().setTopic(tp.topic()).setPartition(tp.partition())
                .setRecordBatch(bytes));
        rb.bytes += bytes.size();
        rb.batches.add(batch);
        batch.markSent();
        d.inFlight.add(batch);
        return true;
    }

    private void send(String address, RequestBuilder rb, long nowMs) {
        long deliveryDeadline = rb.batches.stream().mapToLong(b -> b.createdMs() + settings.deliveryTimeoutMs())
                .min().orElse(Long.MAX_VALUE);
        long requestDeadline = nowMs + settings.requestTimeoutMs();
        InFlightRequest request = new InFlightRequest(nextRequestId++, address, List.copyOf(rb.batches),
                Math.min(requestDeadline, Math.max(nowMs, deliveryDeadline)), requestDeadline <= deliveryDeadline);
        inFlightRequests.put(request.id, request);
        log.trace("sending {} batch(es) to {}", rb.batches.size(), address);
        CompletableFuture<ProduceResponse> answer;
        try {
            answer = transport.send(address, rb.request.build());
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((response, failure) -> {
            completions.add(() -> onAnswer(request, response, failure));
            wakeup();
        });
    }

    // ---- answers -------------------------------------------------------------------------------

    private void onAnswer(InFlightRequest request, ProduceResponse response, Throwable failure) {
        if (inFlightRequests.remove(request.id) == null) {
            return; // already timed out and handled
        }
        long nowMs = clock.millis();
        if (failure != null) {
            RaftlogException error = Errors.fromThrowable(failure);
            log.debug("produce request to {} failed: {}", request.address, error.getMessage());
            metadata.requestUpdate();
            for (ProducerBatch b : request.batches) {
                onBatchResult(b, error, -1, nowMs);
            }
            return;
        }
        Map<TopicPartition, PartitionProduceResult> results = new HashMap<>();
        for (PartitionProduceResult r : response.getResultsList()) {
            results.put(new TopicPartition(r.getTopic(), r.getPartition()), r);
        }
        for (ProducerBatch b : request.batches) {
            PartitionProduceResult r = results.get(b.topicPartition());
            RaftlogException error = r == null
                    ? new BrokerNotAvailableException("broker " + request.address + " returned no result for "
                            + b.topicPartition())
                    : Errors.toException(r.getError());
            onBatchResult(b, error, r == null ? -1 : r.getBaseOffset(), nowMs);
        }
    }

    private void timeOutRequests(long nowMs) {
        List<InFlightRequest> expired = new ArrayList<>();
        for (InFlightRequest r : inFlightRequests.values()) {
            if (r.deadlineMs <= nowMs) {
                expired.add(r);
            }
        }
        for (InFlightRequest r : expired) {
            inFlightRequests.remove(r.id);
            if (r.requestTimeoutDeadline) {
                // The broker or the stream may be stuck: start over on a new stream.
                log.debug("produce request to {} timed out after {} ms; reconnecting", r.address,
                        settings.requestTimeoutMs());
                transport.disconnect(r.address);
                metadata.requestUpdate();
            }
            TimeoutException error = new TimeoutException("no answer from " + r.address + " within "
                    + (r.requestTimeoutDeadline ? "request.timeout.ms" : "delivery.timeout.ms"));
            for (ProducerBatch b : r.batches) {
                onBatchResult(b, error, -1, nowMs);
            }
        }
    }

    /** Handles one batch's outcome. {@code error} null means success at {@code baseOffset}. */
    private void onBatchResult(ProducerBatch batch, RaftlogException error, long baseOffset, long nowMs) {
        TopicPartition tp = batch.topicPartition();
        PartitionDelivery d = delivery(tp);
        d.inFlight.remove(batch);
        if (batch.isDone()) {
            return;
        }
        if (error == null) {
            d.unresolved.remove(batch.ordinal());
            batch.complete(baseOffset);
            accumulator.deallocate(batch);
            return;
        }
        if (idempotence != null && batch.hasSequence() && handleSequencedFailure(batch, error, d, nowMs)) {
            return;
        }
        boolean retriable = error.isRetriable();
        if (error instanceof UnknownTopicOrPartitionException && !batch.unknownTopicRetried()) {
            // Metadata may lag a just-created topic (or partition): refresh and try once more.
            batch.markUnknownTopicRetried();
            retriable = true;
        }
        if (!retriable) {
            failBatch(batch, error, d);
            if (error instanceof ProducerFencedException) {
                fatalError = error;
            }
            return;
        }
        metadata.requestUpdate();
        if (failIfDeliveryExpired(batch, error, d, nowMs)) {
            return;
        }
        log.debug("retrying {}: {}", batch, error.getMessage());
        // An idempotent batch keeps its producer id and sequence: this attempt may have been stored.
        requeue(batch, d, nowMs, settings.retryBackoffMs());
    }

    /**
     * Failures that prove (or do not prove) that a sequenced batch was not stored. Returns whether
     * the failure was handled; other failures take the ordinary retry/fail path, keeping the
     * batch's producer id and sequence.
     */
    private boolean handleSequencedFailure(ProducerBatch batch, RaftlogException error, PartitionDelivery d,
                                           long nowMs) {
        TopicPartition tp = batch.topicPartition();
        if (batch.producerId() == d.notStoredProducerId) {
            // An earlier sequence under this id was proven not stored and is never sent under it
            // again, so this batch cannot have been stored under it either.
            log.debug("{} failed ({}) behind a batch proven not stored; re-sequencing it", batch, error.getMessage());
            notStored(batch, d, nowMs);
            return true;
        }
        if (!(error instanceof OutOfOrderSequenceException || error instanceof UnknownProducerIdException)) {
            return false;
        }
        if (d.isEarliestUnresolved(batch)) {
            // Every earlier batch is resolved, so the broker is not waiting for one of ours: this
            // batch was not stored (a stored one would be answered as a duplicate).
            log.info("{} was not stored ({}); {} continues under a new producer id from sequence 0", batch,
                    error.getMessage(), tp);
            d.notStoredProducerId = batch.producerId();
            idempotence.requestReset(tp);
            // Later batches under the same id waiting for a retry cannot have been stored either;
            // those still in flight are re-sequenced when answered.
            for (ProducerBatch later : List.copyOf(d.unresolved.values())) {
                if (later != batch && later.producerId() == batch.producerId() && !d.inFlight.contains(later)) {
                    d.unresolved.remove(later.ordinal());
                    later.clearProducerState();
                }
            }
            notStored(batch, d, nowMs);
            return true;
        }
        // An earlier batch's outcome is unknown and it is being retried: the broker rejected this
        // one because that sequence is missing. Retry behind it with the same id and sequence.
        if (failIfDeliveryExpired(batch, error, d, nowMs)) {
            return true;
        }
        log.debug("{} rejected ({}) while an earlier batch is unresolved; re-queueing it unchanged", batch,
                error.getMessage());
        requeue(batch, d, nowMs, 0);
        return true;
    }

    /** The broker proved {@code batch} was not stored: it is re-stamped under the next producer id. */
    private void notStored(ProducerBatch batch, PartitionDelivery d, long nowMs) {
        d.unresolved.remove(batch.ordinal());
        batch.clearProducerState();
        // Queued without a sequence; it expires from the queue if its delivery timeout passes.
        requeue(batch, d, nowMs, 0);
    }

    /** Fails a sent batch whose outcome is unknown once its delivery timeout passed. */
    private boolean failIfDeliveryExpired(ProducerBatch batch, RaftlogException error, PartitionDelivery d,
                                          long nowMs) {
        if (nowMs < batch.createdMs() + settings.deliveryTimeoutMs()) {
            return false;
        }
        failBatch(batch, new TimeoutException("delivery.timeout.ms (" + settings.deliveryTimeoutMs()
                + " ms) expired for " + batch.recordCount() + " record(s) of " + batch.topicPartition() + " after "
                + batch.attempts() + " attempt(s); the record(s) may or may not have been written; last error: "
                + error.getMessage(), error), d);
        return true;
    }

    private void requeue(ProducerBatch batch, PartitionDelivery d, long nowMs, long backoffMs) {
        batch.scheduleRetry(nowMs, backoffMs);
        d.startRecovery();
        accumulator.reenqueue(batch);
    }

    /**
     * Fails a batch for good. If it carried a sequence of the partition's current producer id, the
     * sequences under that id may now have a gap: the partition moves to a new producer id once
     * the batches still unresolved under the old one are resolved.
     */
    private void failBatch(ProducerBatch batch, RaftlogException error, PartitionDelivery d) {
        TopicPartition tp = batch.topicPartition();
        if (idempotence != null && batch.hasSequence()) {
            d.unresolved.remove(batch.ordinal());
            if (idempotence.isCurrent(tp, batch.producerId()) && !idempotence.resetPending(tp)) {
                log.info("{} failed ({}); {} moves to a new producer id once the batches sent under the current "
                        + "one are resolved", batch, error.getMessage(), tp);
                idempotence.requestReset(tp);
            }
        }
        d.startRecovery();
        batch.fail(error);
        accumulator.deallocate(batch);
    }

    private void expireQueued(long nowMs) {
        for (ProducerBatch batch : accumulator.expireBatches(nowMs)) {
            String reason = batch.attempts() == 0 ? "before it could be sent"
                    : idempotence != null && !batch.hasSequence()
                    ? "after " + batch.attempts() + " attempt(s); the broker reported it was not written"
                    : "after " + batch.attempts() + " attempt(s); the record(s) may or may not have been written";
            failBatch(batch, new TimeoutException("delivery.timeout.ms (" + settings.deliveryTimeoutMs()
                    + " ms) expired for " + batch.recordCount() + " record(s) of " + batch.topicPartition() + " "
                    + reason), delivery(batch.topicPartition()));
        }
    }

    // ---- producer ids --------------------------------------------------------------------------

    private void maybeRequestProducerId(long nowMs) {
        if (idempotence == null || !idempotence.shouldRequest(nowMs)) {
            return;
        }
        idempotence.onRequestSent();
        CompletableFuture<InitProducerIdResponse> answer;
        try {
            answer = transport.initProducerId();
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((response, failure) -> {
            completions.add(() -> {
                if (failure != null) {
                    log.warn("could not get a producer id: {}", Errors.fromThrowable(failure).getMessage());
                    metadata.requestUpdate();
                    idempotence.onRequestFailed(clock.millis(), settings.retryBackoffMs());
                } else {
                    log.debug("producer id {} epoch {}", response.getProducerId(), response.getProducerEpoch());
                    idempotence.onProducerId(response.getProducerId(), (short) response.getProducerEpoch());
                }
            });
            wakeup();
        });
    }

    // ---- shutdown ------------------------------------------------------------------------------

    /** Fails every batch that is not done yet (queued or in flight). Sender thread. */
    private void abortAll(RaftlogException error) {
        accumulator.drainAllQueued();
        inFlightRequests.clear();
        partitions.values().forEach(d -> {
            d.inFlight.clear();
            d.unresolved.clear();
        });
        for (ProducerBatch batch : accumulator.incompleteBatches()) {
            batch.fail(error);
            accumulator.deallocate(batch);
        }
    }
}
