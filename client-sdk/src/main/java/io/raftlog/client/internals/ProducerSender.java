package io.raftlog.client.internals;

import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.InitProducerIdRequest;
import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.LeaderNotAvailableException;
import io.raftlog.client.errors.OutOfOrderSequenceException;
import io.raftlog.client.errors.ProducerFencedException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.UnknownServerException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.transport.ChannelPool;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The producer's I/O engine: per-partition queues drained by one sender thread into batches that
 * go to the partition leader.
 *
 * <p>Ordering: at most one batch per partition is in flight, and a failed retriable batch is
 * resent (unchanged) before anything queued behind it, so records of a partition are written in
 * {@code send} order.
 *
 * <p>Idempotence: a batch is stamped with (producer id, epoch, base sequence) once, when it is
 * first drained, and keeps the stamp across retries so the broker can answer a duplicate with
 * the original offsets. A partition's next sequence advances only when a batch is acknowledged.
 * When a batch's outcome becomes unknown (delivery timeout after it was sent) or the broker
 * reports OUT_OF_ORDER_SEQUENCE, the partition switches to a fresh producer id starting at
 * sequence 0, so a later batch can never be mistaken for a duplicate of the lost one.
 *
 * <p>Thread-safe: state is guarded by one lock; futures are completed outside it.
 */
public final class ProducerSender implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ProducerSender.class);
    private static final long NO_PRODUCER_ID = -1;

    /** A record waiting to be acknowledged. */
    public record Pending(Record record, long createdMs, int sizeBytes, CompletableFuture<RecordMetadata> future) {
    }

    private static final class Batch {
        final TopicPartition tp;
        final List<Pending> records;
        final long deadlineMs;
        final long producerId;
        final int producerEpoch;
        final int baseSequence;
        boolean sent;
        boolean unknownTopicRetried;
        long retryAtMs;

        Batch(TopicPartition tp, List<Pending> records, long deadlineMs, long producerId, int producerEpoch,
              int baseSequence) {
            this.tp = tp;
            this.records = records;
            this.deadlineMs = deadlineMs;
            this.producerId = producerId;
            this.producerEpoch = producerEpoch;
            this.baseSequence = baseSequence;
        }
    }

    private static final class PartitionState {
        final ArrayDeque<Pending> queue = new ArrayDeque<>();
        Batch inFlight;
        Batch retry;
        long producerId = NO_PRODUCER_ID;
        int producerEpoch;
        int nextSequence;
        /** Producer id this partition must not use again (after an unknown outcome). */
        long abandonedProducerId = NO_PRODUCER_ID;
    }

    private final ChannelPool channels;
    private final MetadataCache metadata;
    private final Clock clock;
    private final Acks acks;
    private final boolean idempotent;
    private final int requestTimeoutMs;
    private final long retryBackoffMs;
    private final long deliveryTimeoutMs;
    private final int maxBatchRecords;
    private final int maxBatchBytes;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeup = lock.newCondition();
    private final Map<TopicPartition, PartitionState> partitions = new LinkedHashMap<>();
    private long latestProducerId = NO_PRODUCER_ID;
    private int latestProducerEpoch;
    private RaftlogException fatal;
    private boolean running = true;

    public ProducerSender(ChannelPool channels, MetadataCache metadata, Clock clock, io.raftlog.client.Acks acks,
                          boolean idempotent, int requestTimeoutMs, long retryBackoffMs, long deliveryTimeoutMs,
                          int maxBatchRecords, int maxBatchBytes) {
        this.channels = channels;
        this.metadata = metadata;
        this.clock = clock;
        this.acks = switch (acks) {
            case NONE -> Acks.ACKS_NONE;
            case LEADER -> Acks.ACKS_LEADER;
            case ALL -> Acks.ACKS_ALL;
        };
        this.idempotent = idempotent;
        this.requestTimeoutMs = requestTimeoutMs;
        this.retryBackoffMs = retryBackoffMs;
        this.deliveryTimeoutMs = deliveryTimeoutMs;
        this.maxBatchRecords = maxBatchRecords;
        this.maxBatchBytes = maxBatchBytes;
    }

    /** Queues a record for {@code tp}; fails its future at once if the producer is fenced or closed. */
    public void enqueue(TopicPartition tp, Pending pending) {
        RaftlogException rejected = null;
        lock.lock();
        try {
            if (fatal != null) {
                rejected = fatal;
            } else if (!running) {
                rejected = new RaftlogException("producer is closed");
            } else {
                partitions.computeIfAbsent(tp, k -> new PartitionState()).queue.add(pending);
                wakeup.signal();
            }
        } finally {
            lock.unlock();
        }
        if (rejected != null) {
            pending.future().completeExceptionally(rejected);
        }
    }

    /** Stops the sender loop; records not yet acknowledged fail. Call after flushing. */
    public void shutdown() {
        lock.lock();
        try {
            running = false;
            wakeup.signal();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void run() {
        try {
            while (true) {
                List<Batch> ready = new ArrayList<>();
                List<Runnable> completions = new ArrayList<>();
                boolean needProducerId;
                lock.lock();
                try {
                    if (!running) {
                        failEverything(new RaftlogException("producer closed before the record was acknowledged"),
                                completions);
                        break;
                    }
                    needProducerId = collectReady(ready, completions);
                    if (ready.isEmpty() && completions.isEmpty() && !needProducerId) {
                        awaitWork();
                        continue;
                    }
                } finally {
                    lock.unlock();
                }
                completions.forEach(Runnable::run);
                if (needProducerId) {
                    allocateProducerId();
                }
                if (!ready.isEmpty()) {
                    if (metadata.isStale()) {
                        metadata.maybeRefresh();
                    }
                    route(ready);
                }
            }
        } catch (RuntimeException | Error e) {
            log.error("producer sender thread died", e);
            List<Runnable> completions = new ArrayList<>();
            lock.lock();
            try {
                running = false;
                failEverything(new UnknownServerException("producer sender failed: " + e), completions);
            } finally {
                lock.unlock();
            }
            completions.forEach(Runnable::run);
            throw e;
        }
    }

    /** Waits until work may be ready: a signal, or the earliest retry time. Lock held. */
    private void awaitWork() {
        long now = clock.millis();
        long next = Long.MAX_VALUE;
        for (PartitionState state : partitions.values()) {
            if (state.inFlight == null && state.retry != null) {
                next = Math.min(next, state.retry.retryAtMs);
            }
        }
        // Bounded wait also lets queued records expire and the fatal/closed checks run.
        long waitMs = next == Long.MAX_VALUE ? 1000 : Math.max(1, Math.min(1000, next - now));
        try {
            wakeup.await(waitMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Moves ready batches to in-flight. Returns whether some partition waits for a producer id. Lock held. */
    private boolean collectReady(List<Batch> ready, List<Runnable> completions) {
        long now = clock.millis();
        boolean needProducerId = false;
        for (Map.Entry<TopicPartition, PartitionState> entry : partitions.entrySet()) {
            PartitionState state = entry.getValue();
            if (state.inFlight != null) {
                continue;
            }
            if (state.retry != null) {
                if (state.retry.retryAtMs <= now) {
                    state.inFlight = state.retry;
                    state.retry = null;
                    ready.add(state.inFlight);
                }
                continue;
            }
            expireQueued(state, now, completions);
            if (state.queue.isEmpty()) {
                continue;
            }
            if (idempotent && state.producerId == NO_PRODUCER_ID) {
                if (latestProducerId != NO_PRODUCER_ID && latestProducerId != state.abandonedProducerId) {
                    state.producerId = latestProducerId;
                    state.producerEpoch = latestProducerEpoch;
                    state.nextSequence = 0;
                } else {
                    needProducerId = true;
                    continue;
                }
            }
            state.inFlight = drain(entry.getKey(), state);
            ready.add(state.inFlight);
        }
        return needProducerId;
    }

    private void expireQueued(PartitionState state, long now, List<Runnable> completions) {
        while (!state.queue.isEmpty() && now - state.queue.peek().createdMs() >= deliveryTimeoutMs) {
            Pending expired = state.queue.poll();
            completions.add(() -> expired.future().completeExceptionally(
                    new TimeoutException("record expired after " + deliveryTimeoutMs + " ms before it could be sent")));
        }
    }

    private Batch drain(TopicPartition tp, PartitionState state) {
        List<Pending> records = new ArrayList<>();
        int bytes = 0;
        long oldest = Long.MAX_VALUE;
        while (!state.queue.isEmpty() && records.size() < maxBatchRecords) {
            Pending next = state.queue.peek();
            if (!records.isEmpty() && bytes + next.sizeBytes() > maxBatchBytes) {
                break;
            }
            state.queue.poll();
            records.add(next);
            bytes += next.sizeBytes();
            oldest = Math.min(oldest, next.createdMs());
        }
        return new Batch(tp, records, oldest + deliveryTimeoutMs,
                idempotent ? state.producerId : NO_PRODUCER_ID, state.producerEpoch,
                idempotent ? state.nextSequence : 0);
    }

    private void allocateProducerId() {
        List<String> addresses = new ArrayList<>();
        metadata.snapshot().brokers().values().forEach(b -> addresses.add(b.address()));
        if (addresses.isEmpty()) {
            addresses.addAll(metadata.bootstrapServers());
        }
        RaftlogException last = null;
        for (String address : addresses) {
            try {
                InitProducerIdResponse response = ProduceServiceGrpc.newBlockingStub(channels.channel(address))
                        .withDeadlineAfter(requestTimeoutMs, TimeUnit.MILLISECONDS)
                        .initProducerId(InitProducerIdRequest.getDefaultInstance());
                lock.lock();
                try {
                    latestProducerId = response.getProducerId();
                    latestProducerEpoch = response.getProducerEpoch();
                } finally {
                    lock.unlock();
                }
                log.debug("allocated producer id {} epoch {}", response.getProducerId(), response.getProducerEpoch());
                return;
            } catch (RuntimeException e) {
                last = Errors.fromThrowable(e);
                log.debug("InitProducerId via {} failed: {}", address, last.getMessage());
            }
        }
        // Records keep waiting (and expire at their delivery timeout); try again after a backoff.
        log.warn("could not allocate a producer id: {}", last == null ? "no broker known" : last.getMessage());
        metadata.invalidate();
        metadata.maybeRefresh();
        sleepQuietly(retryBackoffMs);
    }

    private void sleepQuietly(long ms) {
        lock.lock();
        try {
            if (running) {
                wakeup.await(ms, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            lock.unlock();
        }
    }

    /** Groups in-flight batches by leader address and sends one request per broker. */
    private void route(List<Batch> batches) {
        MetadataCache.Snapshot snapshot = metadata.snapshot();
        Map<String, List<Batch>> byBroker = new HashMap<>();
        for (Batch batch : batches) {
            String leader = snapshot.leaderAddress(batch.tp).orElse(null);
            if (leader == null) {
                metadata.invalidate();
                onFailure(batch, new LeaderNotAvailableException("no known leader for " + batch.tp));
            } else {
                byBroker.computeIfAbsent(leader, k -> new ArrayList<>()).add(batch);
            }
        }
        byBroker.forEach(this::send);
    }

    private void send(String address, List<Batch> batches) {
        ProduceRequest.Builder request = ProduceRequest.newBuilder().setAcks(acks).setTimeoutMs(requestTimeoutMs);
        for (Batch batch : batches) {
            PartitionProduceData.Builder data = PartitionProduceData.newBuilder()
                    .setTopic(batch.tp.topic()).setPartition(batch.tp.partition());
            batch.records.forEach(p -> data.addRecords(p.record()));
            if (batch.producerId != NO_PRODUCER_ID) {
                data.setProducerId(batch.producerId).setProducerEpoch(batch.producerEpoch)
                        .setBaseSequence(batch.baseSequence);
            }
            request.addPartitions(data);
            batch.sent = true;
        }
        ProduceRequest built = request.build();
        CompletableFuture<ProduceResponse> response;
        try {
            response = Futures.unary(o -> ProduceServiceGrpc.newStub(channels.channel(address))
                    .withDeadlineAfter(requestTimeoutMs, TimeUnit.MILLISECONDS).produce(built, o));
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        response.whenComplete((r, failure) -> {
            if (failure != null) {
                RaftlogException mapped = Errors.fromThrowable(failure);
                if (mapped instanceof BrokerNotAvailableException || Errors.isTransportFailure(failure)) {
                    metadata.invalidate();
                }
                log.debug("produce to {} failed: {}", address, mapped.getMessage());
                batches.forEach(b -> onFailure(b, mapped));
                return;
            }
            Map<TopicPartition, PartitionProduceResult> results = new HashMap<>();
            for (PartitionProduceResult result : r.getResultsList()) {
                results.put(new TopicPartition(result.getTopic(), result.getPartition()), result);
            }
            for (Batch batch : batches) {
                PartitionProduceResult result = results.get(batch.tp);
                RaftlogException error = result == null
                        ? new BrokerNotAvailableException("broker " + address + " returned no result for " + batch.tp)
                        : Errors.toException(result.getError());
                if (error == null) {
                    onSuccess(batch, result.getBaseOffset());
                } else {
                    onFailure(batch, error);
                }
            }
        });
    }

    private void onSuccess(Batch batch, long baseOffset) {
        lock.lock();
        try {
            PartitionState state = partitions.get(batch.tp);
            state.inFlight = null;
            if (batch.producerId != NO_PRODUCER_ID && batch.producerId == state.producerId) {
                state.nextSequence = batch.baseSequence + batch.records.size();
            }
            wakeup.signal();
        } finally {
            lock.unlock();
        }
        for (int i = 0; i < batch.records.size(); i++) {
            Pending p = batch.records.get(i);
            long offset = baseOffset < 0 ? -1 : baseOffset + i;
            p.future().complete(new RecordMetadata(batch.tp.topic(), batch.tp.partition(), offset,
                    p.record().getTimestampMs()));
        }
    }

    private void onFailure(Batch batch, RaftlogException error) {
        RaftlogException finalError = null;
        List<Runnable> completions = new ArrayList<>();
        lock.lock();
        try {
            PartitionState state = partitions.get(batch.tp);
            state.inFlight = null;
            long now = clock.millis();
            boolean retry = error.isRetriable();
            if (error instanceof UnknownTopicOrPartitionException && !batch.unknownTopicRetried) {
                // Metadata may lag a just-created topic: refresh and try once more.
                batch.unknownTopicRetried = true;
                retry = true;
            }
            if (retry) {
                metadata.invalidate();
                if (now + retryBackoffMs < batch.deadlineMs && running) {
                    batch.retryAtMs = now + retryBackoffMs;
                    state.retry = batch;
                    log.debug("retrying batch of {} record(s) for {} (seq {}): {}", batch.records.size(), batch.tp,
                            batch.baseSequence, error.getMessage());
                } else {
                    finalError = error instanceof TimeoutException ? error : new TimeoutException(
                            "delivery timeout expired for " + batch.tp + "; last error: " + error.getMessage(), error);
                    resetProducerIdIfUsed(state, batch);
                }
            } else {
                finalError = error;
                if (error instanceof OutOfOrderSequenceException) {
                    resetProducerIdIfUsed(state, batch);
                } else if (error instanceof ProducerFencedException) {
                    fatal = error;
                    failEverything(error, completions);
                }
            }
            wakeup.signal();
        } finally {
            lock.unlock();
        }
        if (finalError != null) {
            RaftlogException e = finalError;
            batch.records.forEach(p -> p.future().completeExceptionally(e));
        }
        completions.forEach(Runnable::run);
    }

    /** After a lost or rejected sequence, the partition moves to a fresh producer id. Lock held. */
    private void resetProducerIdIfUsed(PartitionState state, Batch batch) {
        if (batch.sent && batch.producerId != NO_PRODUCER_ID && batch.producerId == state.producerId) {
            state.abandonedProducerId = state.producerId;
            state.producerId = NO_PRODUCER_ID;
            state.nextSequence = 0;
        }
    }

    /** Fails every queued and retry-waiting record. Lock held; completions run by the caller. */
    private void failEverything(RaftlogException error, List<Runnable> completions) {
        for (PartitionState state : partitions.values()) {
            List<Pending> doomed = new ArrayList<>(state.queue);
            state.queue.clear();
            if (state.retry != null) {
                doomed.addAll(state.retry.records);
                state.retry = null;
            }
            doomed.forEach(p -> completions.add(() -> p.future().completeExceptionally(error)));
        }
    }
}
