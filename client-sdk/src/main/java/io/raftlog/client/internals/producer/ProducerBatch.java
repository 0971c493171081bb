package io.raftlog.client.internals.producer;

import com.google.protobuf.ByteString;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.RaftlogException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecord;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Records of one partition that travel together as one Kafka v2 record batch.
 *
 * <p>Life cycle: open (records are appended by {@link RecordAccumulator} under its lock) →
 * closed for appends (full, or drained by the sender) → sent, possibly several times (retries keep
 * the producer id, epoch and base sequence so the broker can recognise a duplicate) → done
 * (acknowledged or failed exactly once; later completions are ignored).
 *
 * <p>Threading: appends happen under the accumulator lock; everything else (sequence, attempts,
 * encoding, completion) happens on the sender thread. {@link #done()} may be awaited from any thread.
 */
public final class ProducerBatch {
    /** Upper bound of a record's varint-encoded offset and timestamp deltas beyond the estimate. */
    private static final int RECORD_SIZE_SLACK = 10;
    public static final long NO_PRODUCER_ID = RecordBatch.NO_PRODUCER_ID;
    public static final int NO_SEQUENCE = RecordBatch.NO_SEQUENCE;

    /** One queued record and the future its {@code send} returned. */
    record Entry(long timestampMs, byte[] key, byte[] value, Header[] headers,
                 CompletableFuture<RecordMetadata> future) {
    }

    private final TopicPartition tp;
    private final long ordinal;
    private final long createdMs;
    private final int batchSizeBytes;
    private final List<Entry> entries = new ArrayList<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private long estimatedBytes = DefaultRecordBatch.RECORD_BATCH_OVERHEAD;
    private long reservedBytes;
    private boolean closedForAppends;

    // Sender-thread state.
    private long producerId = NO_PRODUCER_ID;
    private short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
    private int baseSequence = NO_SEQUENCE;
    private ByteString encoded;
    private int attempts;
    private long retryAtMs;
    private boolean unknownTopicRetried;
    private boolean completed;

    ProducerBatch(TopicPartition tp, long ordinal, long createdMs, int batchSizeBytes) {
        this.tp = tp;
        this.ordinal = ordinal;
        this.createdMs = createdMs;
        this.batchSizeBytes = batchSizeBytes;
    }

    /** Estimated encoded size of one record (uncompressed), used for memory accounting and batch sizing. */
    static int estimateRecordBytes(byte[] key, byte[] value, Header[] headers) {
        return DefaultRecord.sizeInBytes(0, 0L, key == null ? -1 : key.length, value == null ? -1 : value.length,
                headers) + RECORD_SIZE_SLACK;
    }

    /**
     * Appends when the batch is open and the record fits in {@code batchSizeBytes} (an empty batch
     * always takes its first record, however large). Accumulator lock held.
     */
    boolean tryAppend(Entry entry, int recordBytes) {
        if (closedForAppends || (!entries.isEmpty() && estimatedBytes + recordBytes > batchSizeBytes)) {
            return false;
        }
        entries.add(entry);
        estimatedBytes += recordBytes;
        reservedBytes += recordBytes;
        return true;
    }

    /** No more appends: full, or handed to the sender. Accumulator lock held. */
    void closeForAppends() {
        closedForAppends = true;
    }

    boolean isClosedForAppends() {
        return closedForAppends;
    }

    /** Whether another record of typical size is unlikely to fit. Accumulator lock held. */
    boolean isFull() {
        return closedForAppends || estimatedBytes >= batchSizeBytes;
    }

    public TopicPartition topicPartition() {
        return tp;
    }

    /** Position of the batch among its partition's batches; orders retries before newer batches. */
    public long ordinal() {
        return ordinal;
    }

    public long createdMs() {
        return createdMs;
    }

    public int recordCount() {
        return entries.size();
    }

    long reservedBytes() {
        return reservedBytes;
    }

    public int attempts() {
        return attempts;
    }

    long retryAtMs() {
        return retryAtMs;
    }

    /** The batch failed and waits {@code backoffMs} before its next attempt. Sender thread. */
    void scheduleRetry(long nowMs, long backoffMs) {
        retryAtMs = nowMs + backoffMs;
    }

    boolean unknownTopicRetried() {
        return unknownTopicRetried;
    }

    void markUnknownTopicRetried() {
        unknownTopicRetried = true;
    }

    // ---- idempotence ------------------------------------------------------------------------

    public boolean hasSequence() {
        return baseSequence != NO_SEQUENCE;
    }

    public long producerId() {
        return producerId;
    }

    public short producerEpoch() {
        return producerEpoch;
    }

    public int baseSequence() {
        return baseSequence;
    }

    /** Stamps the batch for idempotent delivery. Sender thread; only while it has no sequence. */
    void setProducerState(long producerId, short epoch, int baseSequence) {
        if (hasSequence()) {
            throw new IllegalStateException("batch already has sequence " + this.baseSequence);
        }
        this.producerId = producerId;
        this.producerEpoch = epoch;
        this.baseSequence = baseSequence;
        this.encoded = null;
    }

    /**
     * Forgets the sequence: only when the batch certainly was not stored under it (never
     * acknowledged and its producer id abandoned, or rejected as out of order behind a gap).
     */
    void clearProducerState() {
        producerId = NO_PRODUCER_ID;
        producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
        baseSequence = NO_SEQUENCE;
        encoded = null;
    }

    // ---- sending --------------------------------------------------------------------------------

    /** The Kafka v2 batch as sent; encoded once and reused by retries. Sender thread. */
    ByteString encode(Compression compression) {
        if (encoded == null) {
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 64, estimatedBytes + 64));
            MemoryRecordsBuilder builder = MemoryRecords.builder(buffer, RecordBatch.MAGIC_VALUE_V2, compression,
                    TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP, producerId, producerEpoch,
                    baseSequence, false, RecordBatch.NO_PARTITION_LEADER_EPOCH);
            for (Entry e : entries) {
                builder.append(e.timestampMs(), e.key(), e.value(), e.headers());
            }
            encoded = ByteString.copyFrom(builder.build().buffer());
        }
        return encoded;
    }

    /** Counts an attempt. Sender thread. */
    void markSent() {
        attempts++;
    }

    /** Completes every record's future with its offset ({@code -1} stays -1 for acks=0). Sender thread. */
    boolean complete(long baseOffset) {
        if (completed) {
            return false;
        }
        completed = true;
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            long offset = baseOffset < 0 ? -1 : baseOffset + i;
            complete(e, new RecordMetadata(tp.topic(), tp.partition(), offset, e.timestampMs()));
        }
        done.complete(null);
        return true;
    }

    /** Fails every record's future. Returns false when the batch was already done. */
    boolean fail(RaftlogException error) {
        if (completed) {
            return false;
        }
        completed = true;
        for (Entry e : entries) {
            failQuietly(e, error);
        }
        done.complete(null);
        return true;
    }

    public boolean isDone() {
        return completed;
    }

    /** Completes (normally) when the batch is acknowledged or failed; for {@code flush}. */
    public CompletableFuture<Void> done() {
        return done;
    }

    private static void complete(Entry e, RecordMetadata metadata) {
        try {
            e.future().complete(metadata);
        } catch (RuntimeException callbackFailure) {
            // Dependent stages run user callbacks inline; one bad callback must not stop the sender.
            org.slf4j.LoggerFactory.getLogger(ProducerBatch.class).warn("producer callback threw", callbackFailure);
        }
    }

    private static void failQuietly(Entry e, RaftlogException error) {
        try {
            e.future().completeExceptionally(error);
        } catch (RuntimeException callbackFailure) {
            org.slf4j.LoggerFactory.getLogger(ProducerBatch.class).warn("producer callback threw", callbackFailure);
        }
    }

    @Override
    public String toString() {
        return "ProducerBatch{" + tp + " #" + ordinal + ", " + entries.size() + " records"
                + (hasSequence() ? ", pid " + producerId + " seq " + baseSequence : "") + ", attempts " + attempts + "}";
    }
}
