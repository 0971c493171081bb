package io.raftlog.client.internals.producer;

import io.raftlog.client.TopicPartition;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;

/**
 * Producer ids and sequence numbers of an idempotent producer.
 *
 * <p>Each partition is stamped with a producer id (and epoch) and a next sequence. A batch gets its
 * base sequence when it is first drained and keeps it across retries, so the broker answers a
 * duplicate with the original offsets. Invariant: under one producer id, a partition's sequences
 * have no gaps among the batches that can still be acknowledged. When that can no longer be
 * guaranteed (a sequenced batch failed for good, or its outcome became unknown after a delivery
 * timeout), {@link #reset} moves the partition to a <em>new</em> producer id starting at sequence 0:
 * the broker's state for the old id is left behind, and no later batch can be mistaken for (or
 * blocked behind) the lost one. Producer ids are shared by partitions until one of them resets.
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
     * Gives the batch its sequence unless it already has one under the partition's current
     * producer id (a retry). A sequence under an abandoned id is replaced. Requires {@link #ready}.
     */
    void stamp(ProducerBatch batch) {
        PartitionState p = state(batch.topicPartition());
        if (batch.hasSequence() && batch.producerId() == p.producerId) {
            return;
        }
        batch.clearProducerState();
        batch.setProducerState(p.producerId, p.epoch, p.nextSequence);
        p.nextSequence = DefaultRecordBatch.incrementSequence(p.nextSequence, batch.recordCount());
    }

    /** Abandons the partition's producer id: its next batch starts at sequence 0 of a fresh id. */
    void reset(TopicPartition tp) {
        PartitionState p = state(tp);
        p.producerId = NONE;
        p.nextSequence = 0;
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
