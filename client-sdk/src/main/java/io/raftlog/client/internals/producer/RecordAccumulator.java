package io.raftlog.client.internals.producer;

import io.raftlog.client.RecordMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.RecordTooLargeException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;

/**
 * Collects records into per-partition deques of {@link ProducerBatch}es until the sender drains
 * them. Pure bookkeeping: no I/O, no threads, time passed in by the caller.
 *
 * <p>A partition's head batch is <em>ready</em> when it is full (or a newer batch exists behind
 * it), when {@code lingerMs} passed since it was created, while a flush is in progress, while the
 * producer is closing, or, for a batch that is being retried, when its backoff has passed. A lone
 * record therefore never waits longer than {@code lingerMs}.
 *
 * <p>Memory: {@link #append} reserves the record's estimated size from the {@link BufferPool}
 * (blocking up to {@code maxBlockMs}) before taking the lock; {@link #deallocate} gives a
 * completed batch's bytes back.
 *
 * <p>Invariants: each deque is ordered by {@link ProducerBatch#ordinal()} (creation order), also
 * after {@link #reenqueue}; only the last batch of a deque accepts appends; every batch not yet
 * completed is in {@link #incompleteBatches()}.
 *
 * <p>Thread-safe: application threads append, the sender thread drains; one lock guards all
 * state and is never held while blocking on memory.
 */
public final class RecordAccumulator {

    /** What an append did, so the caller knows whether to wake the sender. */
    public record AppendResult(boolean batchIsFull, boolean newBatchCreated) {
    }

    /** Partitions whose head batch may be sent now, and when to check again for the others. */
    public record ReadyCheck(List<TopicPartition> readyPartitions, long nextReadyCheckDelayMs) {
    }

    private final int batchSizeBytes;
    private final long lingerMs;
    private final long deliveryTimeoutMs;
    private final BufferPool pool;
    private final Compression compression;

    private final Object lock = new Object();
    private final Map<TopicPartition, Deque<ProducerBatch>> batches = new LinkedHashMap<>();
    private final Map<TopicPartition, Long> nextOrdinal = new HashMap<>();
    private final Set<ProducerBatch> incomplete = new LinkedHashSet<>();
    private int flushesInProgress;
    private boolean closing;

    public RecordAccumulator(int batchSizeBytes, long lingerMs, long deliveryTimeoutMs, BufferPool pool,
                             Compression compression) {
        this.compression = compression;
        this.batchSizeBytes = batchSizeBytes;
        this.lingerMs = lingerMs;
        this.deliveryTimeoutMs = deliveryTimeoutMs;
        this.pool = pool;
    }

    /**
     * Adds a record to the partition's open batch (or a new one). Blocks up to {@code maxBlockMs}
     * for buffer memory. When its batch is done, {@code callback} (may be null) is called and then
     * {@code future} completed. If this throws, neither is touched.
     *
     * @throws RecordTooLargeException when the record alone exceeds the whole buffer
     * @throws io.raftlog.client.errors.BufferExhaustedException when memory did not free up in time
     * @throws RaftlogException when the accumulator is closed
     */
    public AppendResult append(TopicPartition tp, long timestampMs, byte[] key, byte[] value, Header[] headers,
                               CompletableFuture<RecordMetadata> future, RecordCallback callback,
                               long maxBlockMs, long nowMs) {
        int size = ProducerBatch.estimateRecordBytes(key, value, headers);
        if (size + DefaultRecordBatch.RECORD_BATCH_OVERHEAD > pool.totalBytes()) {
            throw new RecordTooLargeException("record of about " + size + " bytes is larger than the producer's "
                    + "buffer.memory (" + pool.totalBytes() + " bytes)");
        }
        pool.allocate(size, maxBlockMs);
        synchronized (lock) {
            if (closing) {
                pool.deallocate(size);
                throw new RaftlogException("producer is closed");
            }
            try {
                Deque<ProducerBatch> deque = batches.computeIfAbsent(tp, k -> new ArrayDeque<>());
                ProducerBatch last = deque.peekLast();
                if (last != null && last.tryAppend(timestampMs, key, value, headers, future, callback, size)) {
                    return new AppendResult(deque.size() > 1 || last.isFull(), false);
                }
                long ordinal = nextOrdinal.getOrDefault(tp, 0L);
                ProducerBatch batch = new ProducerBatch(tp, ordinal, nowMs, batchSizeBytes, compression, size);
                batch.tryAppend(timestampMs, key, value, headers, future, callback, size);
                // Only once the record is in: a record the encoder refuses changes nothing.
                nextOrdinal.put(tp, ordinal + 1);
                if (last != null) {
                    last.closeForAppends();
                }
                deque.addLast(batch);
                incomplete.add(batch);
                return new AppendResult(deque.size() > 1 || batch.isFull(), true);
            } catch (RuntimeException e) {
                pool.deallocate(size);
                throw e;
            }
        }
    }

    /** Which partitions have a sendable head batch at {@code nowMs}. */
    public ReadyCheck ready(long nowMs) {
        synchronized (lock) {
            List<TopicPartition> ready = new ArrayList<>();
            long nextDelay = Long.MAX_VALUE;
            boolean sendAll = closing || flushesInProgress > 0;
            for (Map.Entry<TopicPartition, Deque<ProducerBatch>> e : batches.entrySet()) {
                ProducerBatch head = e.getValue().peekFirst();
                if (head == null) {
                    continue;
                }
                long readyAt;
                if (head.attempts() > 0) {
                    readyAt = head.retryAtMs();
                } else if (sendAll || e.getValue().size() > 1 || head.isFull()) {
                    readyAt = nowMs;
                } else {
                    readyAt = head.createdMs() + lingerMs;
                }
                if (readyAt <= nowMs) {
                    ready.add(e.getKey());
                } else {
                    nextDelay = Math.min(nextDelay, readyAt - nowMs);
                }
            }
            return new ReadyCheck(ready, nextDelay);
        }
    }

    /** The partition's first batch, or null. */
    public ProducerBatch peekFirst(TopicPartition tp) {
        synchronized (lock) {
            Deque<ProducerBatch> deque = batches.get(tp);
            return deque == null ? null : deque.peekFirst();
        }
    }

    /** Removes the partition's first batch for sending; it accepts no more records. */
    public ProducerBatch pollFirst(TopicPartition tp) {
        synchronized (lock) {
            Deque<ProducerBatch> deque = batches.get(tp);
            ProducerBatch batch = deque == null ? null : deque.pollFirst();
            if (batch != null) {
                batch.closeForAppends();
            }
            return batch;
        }
    }

    /** Puts a batch back for a retry, before every newer batch of its partition (ordinal order). */
    public void reenqueue(ProducerBatch batch) {
        synchronized (lock) {
            Deque<ProducerBatch> deque = batches.computeIfAbsent(batch.topicPartition(), k -> new ArrayDeque<>());
            List<ProducerBatch> newer = new ArrayList<>();
            while (!deque.isEmpty() && deque.peekFirst().ordinal() < batch.ordinal()) {
                newer.add(deque.pollFirst());
            }
            deque.addFirst(batch);
            for (int i = newer.size() - 1; i >= 0; i--) {
                deque.addFirst(newer.get(i));
            }
        }
    }

    /**
     * Removes queued (not in-flight) batches whose delivery timeout passed. Batches of a deque
     * are in creation order, so expiry stops at the first batch still in time. The caller fails
     * them and calls {@link #deallocate}.
     */
    public List<ProducerBatch> expireBatches(long nowMs) {
        List<ProducerBatch> expired = new ArrayList<>();
        synchronized (lock) {
            for (Deque<ProducerBatch> deque : batches.values()) {
                while (!deque.isEmpty() && nowMs >= deque.peekFirst().createdMs() + deliveryTimeoutMs) {
                    ProducerBatch batch = deque.pollFirst();
                    batch.closeForAppends();
                    expired.add(batch);
                }
            }
        }
        return expired;
    }

    /** A batch is done: forget it and free its memory. Idempotent. */
    public void deallocate(ProducerBatch batch) {
        boolean removed;
        synchronized (lock) {
            removed = incomplete.remove(batch);
        }
        if (removed) {
            pool.deallocate(batch.reservedBytes());
        }
    }

    /** Makes every batch ready until {@link #endFlush}. */
    public void beginFlush() {
        synchronized (lock) {
            flushesInProgress++;
        }
    }

    public void endFlush() {
        synchronized (lock) {
            flushesInProgress--;
        }
    }

    public boolean flushInProgress() {
        synchronized (lock) {
            return flushesInProgress > 0;
        }
    }

    /** Completion signals of every batch not yet done (for flush). */
    public List<CompletableFuture<Void>> incompleteSnapshot() {
        synchronized (lock) {
            return incomplete.stream().map(ProducerBatch::done).toList();
        }
    }

    /** Every batch not yet completed: queued or in flight. */
    public List<ProducerBatch> incompleteBatches() {
        synchronized (lock) {
            return List.copyOf(incomplete);
        }
    }

    public boolean hasIncomplete() {
        synchronized (lock) {
            return !incomplete.isEmpty();
        }
    }

    /** Whether some batch waits in a deque (not in flight). */
    public boolean hasUndrained() {
        synchronized (lock) {
            return batches.values().stream().anyMatch(d -> !d.isEmpty());
        }
    }

    /** Stops accepting records and makes every queued batch ready. */
    public void close() {
        synchronized (lock) {
            closing = true;
        }
    }

    public boolean isClosing() {
        synchronized (lock) {
            return closing;
        }
    }

    /** Removes every queued batch (for a forced close or a fatal error); the caller fails them. */
    public List<ProducerBatch> drainAllQueued() {
        List<ProducerBatch> all = new ArrayList<>();
        synchronized (lock) {
            for (Deque<ProducerBatch> deque : batches.values()) {
                for (Iterator<ProducerBatch> it = deque.iterator(); it.hasNext(); ) {
                    ProducerBatch b = it.next();
                    b.closeForAppends();
                    all.add(b);
                    it.remove();
                }
            }
        }
        return all;
    }
}
