package io.raftlog.client.internals.producer;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.RaftlogException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecord;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.ByteBufferOutputStream;

/**
 * Records of one partition that travel together as one Kafka v2 record batch.
 *
 * <p>Life cycle: open (records are appended by {@link RecordAccumulator} under its lock) →
 * closed for appends (full, or drained by the sender) → sent, possibly several times (retries keep
 * the producer id, epoch and base sequence so the broker can recognise a duplicate) → done
 * (acknowledged or failed exactly once; later completions are ignored).
 *
 * <p>Memory: each record is encoded into the batch's buffer when it is appended, as Kafka's
 * producer does, so that the application's key and value arrays die young; what the batch keeps
 * until it is acknowledged is one buffer (at most about twice its records' size) plus each
 * record's timestamp, future and callback. (Keeping the
 * records as objects until the acknowledgement made the client spend a third of its CPU in the
 * garbage collector at full speed: docs/benchmarks.md.) The producer id, epoch and base sequence
 * go into the header when the sender first encodes the batch; a batch stamped again later (its
 * sequence was cleared) is sent as a copy with the header rewritten.
 *
 * <p>Threading: appends happen under the accumulator lock; everything else (sequence, attempts,
 * encoding, completion) happens on the sender thread. {@link #done()} may be awaited from any thread.
 */
public final class ProducerBatch {
    /** Upper bound of a record's varint-encoded offset and timestamp deltas beyond the estimate. */
    private static final int RECORD_SIZE_SLACK = 10;
    public static final long NO_PRODUCER_ID = RecordBatch.NO_PRODUCER_ID;
    public static final int NO_SEQUENCE = RecordBatch.NO_SEQUENCE;

    // Kafka's v2 record batch header (the wire and storage format, KIP-98): where the producer
    // state lies, and the span its CRC-32C covers (from the attributes to the end of the batch).
    private static final int CRC_OFFSET = 17;
    private static final int ATTRIBUTES_OFFSET = 21;
    private static final int PRODUCER_ID_OFFSET = 43;
    private static final int PRODUCER_EPOCH_OFFSET = 51;
    private static final int BASE_SEQUENCE_OFFSET = 53;
    /** A new batch's buffer, unless batch.size or its first record asks for another size. */
    private static final int INITIAL_BUFFER_BYTES = 4096;

    private final TopicPartition tp;
    private final long ordinal;
    private final long createdMs;
    private final int batchSizeBytes;
    /** Open while records are appended; null once built. */
    private MemoryRecordsBuilder builder;
    private final ByteBufferOutputStream stream;
    /** The encoded batch once built (position 0, limit = its size); never changed afterwards. */
    private ByteBuffer built;
    private long[] timestamps = new long[16];
    private final List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();
    /** Each record's callback, or null; the array itself only once a record brings one. */
    private RecordCallback[] callbacks;
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

    /**
     * @param firstRecordBytes the estimated size of the first record, so that a record larger than
     *     {@code batchSizeBytes} gets a buffer that holds it
     */
    ProducerBatch(TopicPartition tp, long ordinal, long createdMs, int batchSizeBytes, Compression compression,
                  int firstRecordBytes) {
        this.tp = tp;
        this.ordinal = ordinal;
        this.createdMs = createdMs;
        this.batchSizeBytes = batchSizeBytes;
        // Small at first and doubled as records come (see tryAppend): the pool accounts records'
        // sizes, not buffers, so a batch that stays nearly empty must not hold batch.size bytes.
        long first = (long) firstRecordBytes + DefaultRecordBatch.RECORD_BATCH_OVERHEAD;
        long capacity = Math.max(first, Math.min(batchSizeBytes, INITIAL_BUFFER_BYTES));
        this.stream = new ByteBufferOutputStream((int) Math.min(Integer.MAX_VALUE - 64, capacity));
        this.builder = new MemoryRecordsBuilder(stream, RecordBatch.MAGIC_VALUE_V2, compression,
                TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP, NO_PRODUCER_ID,
                RecordBatch.NO_PRODUCER_EPOCH, NO_SEQUENCE, false, false, RecordBatch.NO_PARTITION_LEADER_EPOCH,
                batchSizeBytes);
    }

    /** Estimated encoded size of one record (uncompressed), used for memory accounting and batch sizing. */
    static int estimateRecordBytes(byte[] key, byte[] value, Header[] headers) {
        return DefaultRecord.sizeInBytes(0, 0L, key == null ? -1 : key.length, value == null ? -1 : value.length,
                headers) + RECORD_SIZE_SLACK;
    }

    /**
     * Encodes the record into the batch when the batch is open and the record fits in
     * {@code batchSizeBytes} (an empty batch always takes its first record, however large).
     * Accumulator lock held.
     *
     * @throws IllegalArgumentException for a negative timestamp, before anything is written
     */
    boolean tryAppend(long timestampMs, byte[] key, byte[] value, Header[] headers,
                      CompletableFuture<RecordMetadata> future, RecordCallback callback, int recordBytes) {
        if (timestampMs < 0) {
            throw new IllegalArgumentException("invalid negative timestamp " + timestampMs);
        }
        if (closedForAppends || (!futures.isEmpty() && estimatedBytes + recordBytes > batchSizeBytes)) {
            return false;
        }
        if (stream.remaining() < recordBytes) {
            // Doubles (the stream alone grows by 10% at a time, copying the batch each time).
            stream.ensureRemaining(Math.max(recordBytes, stream.position()));
        }
        builder.append(timestampMs, key, value, headers);
        int n = futures.size();
        if (n == timestamps.length) {
            timestamps = Arrays.copyOf(timestamps, n * 2);
        }
        timestamps[n] = timestampMs;
        if (callback != null || callbacks != null) {
            if (callbacks == null) {
                callbacks = new RecordCallback[timestamps.length];
            } else if (callbacks.length <= n) {
                callbacks = Arrays.copyOf(callbacks, timestamps.length);
            }
            callbacks[n] = callback;
        }
        futures.add(future);
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
        return futures.size();
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

    /**
     * The Kafka v2 batch as sent, with the current producer state; built once and reused by
     * retries. Sender thread, once the batch is closed for appends.
     */
    ByteString encode() {
        if (encoded == null) {
            if (builder != null) {
                builder.setProducerState(producerId, producerEpoch, baseSequence, false);
                built = builder.build().buffer();
                builder = null;
                encoded = UnsafeByteOperations.unsafeWrap(built.duplicate());
            } else {
                encoded = UnsafeByteOperations.unsafeWrap(withProducerState(built, producerId, producerEpoch,
                        baseSequence));
            }
        }
        return encoded;
    }

    /**
     * A copy of a built batch with another producer state in its header and the CRC recomputed. A
     * copy, not the same buffer rewritten, because a ByteString handed out earlier must not change.
     */
    static ByteBuffer withProducerState(ByteBuffer batch, long producerId, short epoch, int baseSequence) {
        ByteBuffer copy = ByteBuffer.allocate(batch.remaining());
        copy.put(batch.duplicate()).flip();
        copy.putLong(PRODUCER_ID_OFFSET, producerId);
        copy.putShort(PRODUCER_EPOCH_OFFSET, epoch);
        copy.putInt(BASE_SEQUENCE_OFFSET, baseSequence);
        CRC32C crc = new CRC32C();
        crc.update(copy.duplicate().position(ATTRIBUTES_OFFSET));
        copy.putInt(CRC_OFFSET, (int) crc.getValue());
        return copy;
    }

    /** Counts an attempt. Sender thread. */
    void markSent() {
        attempts++;
    }

    /**
     * Completes every record, in order, with its offset ({@code -1} stays -1 for acks=0): its
     * callback first, then its future, so whatever waits on the future sees the callback done.
     * Sender thread.
     */
    boolean complete(long baseOffset) {
        if (completed) {
            return false;
        }
        completed = true;
        for (int i = 0; i < futures.size(); i++) {
            long offset = baseOffset < 0 ? -1 : baseOffset + i;
            RecordMetadata metadata = new RecordMetadata(tp.topic(), tp.partition(), offset, timestamps[i]);
            RecordCallback.callQuietly(callbackOf(i), metadata, null);
            // Stages the application chained on the future run here too; CompletableFuture
            // catches what they throw (it fails the stage), so nothing reaches the sender.
            futures.get(i).complete(metadata);
        }
        done.complete(null);
        return true;
    }

    /** Fails every record (callback, then future). Returns false when the batch was already done. */
    boolean fail(RaftlogException error) {
        if (completed) {
            return false;
        }
        completed = true;
        for (int i = 0; i < futures.size(); i++) {
            RecordCallback.callQuietly(callbackOf(i), null, error);
            futures.get(i).completeExceptionally(error);
        }
        done.complete(null);
        return true;
    }

    private RecordCallback callbackOf(int record) {
        return callbacks == null ? null : callbacks[record];
    }

    public boolean isDone() {
        return completed;
    }

    /** Completes (normally) when the batch is acknowledged or failed; for {@code flush}. */
    public CompletableFuture<Void> done() {
        return done;
    }

    @Override
    public String toString() {
        return "ProducerBatch{" + tp + " #" + ordinal + ", " + futures.size() + " records"
                + (hasSequence() ? ", pid " + producerId + " seq " + baseSequence : "") + ", attempts " + attempts + "}";
    }
}
