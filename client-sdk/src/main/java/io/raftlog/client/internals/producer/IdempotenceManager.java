package io.raftlog.client.internals.producer;

import io.raftlog.client.TopicPartition;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;

/**
 * Producer ids and sequence numbers of an idempotent producer.
 *
 * <p>Each partition is stamped with a producer id (and epoch) and a next sequence. A batch gets its
 * (producer id, epoch, base sequence) when it is first drained and keeps them for every retry, so
 * the broker answers a duplicate with the original offsets. Only the sender may take them away
 * ({@link ProducerBatch#clearProducerState()}), and only when the broker proved the batch was not
 * stored (OUT_OF_ORDER_SEQUENCE or UNKNOWN_PRODUCER_ID for the partition's earliest unresolved
 * batch).
 *
 * <p>When the partition's sequences under its id can no longer be trusted to be gap-free (a
 * sequenced batch failed for good, or the broker proved a batch was not stored), the sender calls
 * {@link #requestReset}: the partition keeps its id for the batches that already carry it, and
 * moves to a <em>new</em> producer id starting at sequence 0 ({@link #reset}) only once no batch
 * stamped under the old id is unresolved, i.e. just before it stamps the next unsequenced batch.
 * Producer ids are shared by partitions until one of them resets.
 *
 * <p>Sender-thread confined (not thread-safe).
 */
final class IdempotenceManager {
    private static final long NONE = ProducerBatch.NO_PRODUCER_ID;

    private static final class PartitionState {
        long producerId = NONE;
        short epoch;
        int nextSequence;
        /** The partition may only adopt a producer id received in this generation or later. */
        long minGeneration = 1;
        /** Move to a new producer id before stamping the next batch (see {@link #requestReset}). */
        boolean resetPending;
    }

    private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
    private long latestProducerId = NONE;
    private short latestEpoch;
    /** How many producer ids were received; a reset partition waits for the next one. */
    private long generation;
    /** Ask for an id at once: the first batches should not wait for the round trip. */
    private boolean wanted = true;
    private boolean requestInFlight;
    private long nextAttemptMs;

    /** Whether {@code tp} has a producer id; adopts the latest one when allowed, else asks for one. */
    boolean ready(TopicPartition tp) {
        PartitionState p = state(tp);
        if (p.producerId != NONE) {
            return true;
        }
        if (latestProducerId != NONE && generation >= p.minGeneration) {
            p.producerId = latestProducerId;
            p.epoch = latestEpoch;
            p.nextSequence = 0;
            return true;
        }
        wanted = true;
        return false;
    }

    /** Whether {@code producerId} is the one {@code tp} currently uses. */
    boolean isCurrent(TopicPartition tp, long producerId) {
        return producerId != NONE && state(tp).producerId == producerId;
    }

    /**
     * Gives the batch the partition's producer id and next sequence unless it already has a
     * sequence (a retry keeps its producer id, epoch and sequence, even if the partition has
     * requested a reset since). Requires {@link #ready}; the caller must have applied a pending
     * reset ({@link #resetPending}) before stamping an unsequenced batch.
     */
    void stamp(ProducerBatch batch) {
        if (batch.hasSequence()) {
            return;
        }
        PartitionState p = state(batch.topicPartition());
        if (p.resetPending) {
            throw new IllegalStateException("producer id reset pending for " + batch.topicPartition());
        }
        batch.setProducerState(p.producerId, p.epoch, p.nextSequence);
        p.nextSequence = DefaultRecordBatch.incrementSequence(p.nextSequence, batch.recordCount());
    }

    /**
     * The partition must move to a new producer id, but batches stamped under the current one may
     * still be unresolved: they keep it. {@link #reset} is applied by the sender once they are
     * resolved, before the next unsequenced batch is stamped.
     */
    void requestReset(TopicPartition tp) {
        PartitionState p = state(tp);
        if (p.producerId != NONE) {
            p.resetPending = true;
        }
    }

    /** Whether a new producer id must be taken before stamping the partition's next batch. */
    boolean resetPending(TopicPartition tp) {
        return state(tp).resetPending;
    }

    /**
     * Abandons the partition's producer id: its next batch starts at sequence 0 of a fresh id.
     * Only when no batch stamped under the old id is unresolved.
     */
    void reset(TopicPartition tp) {
        PartitionState p = state(tp);
        p.producerId = NONE;
        p.nextSequence = 0;
        p.resetPending = false;
        p.minGeneration = generation + 1;
        wanted = true;
    }

    /** Whether to send InitProducerId now. */
    boolean shouldRequest(long nowMs) {
        return wanted && !requestInFlight && nowMs >= nextAttemptMs;
    }

    void onRequestSent() {
        requestInFlight = true;
        wanted = false;
    }

    void onProducerId(long producerId, short epoch) {
        requestInFlight = false;
        latestProducerId = producerId;
        latestEpoch = epoch;
        generation++;
    }

    void onRequestFailed(long nowMs, long backoffMs) {
        requestInFlight = false;
        wanted = true;
        nextAttemptMs = nowMs + backoffMs;
    }

    /** When the next InitProducerId attempt may go out ({@code Long.MAX_VALUE}: none needed). */
    long nextAttemptMs() {
        return wanted && !requestInFlight ? nextAttemptMs : Long.MAX_VALUE;
    }

    private PartitionState state(TopicPartition tp) {
        return partitions.computeIfAbsent(tp, k -> new PartitionState());
    }
}
