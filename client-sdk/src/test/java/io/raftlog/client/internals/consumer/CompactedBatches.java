package io.raftlog.client.internals.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecords.RecordFilter;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/**
 * Kafka v2 batches as log compaction leaves them, made the way the broker's cleaner makes them
 * ({@link MemoryRecords#filterTo} keeping empty batches): the batch keeps its offset range while
 * some or all of its records are gone.
 */
final class CompactedBatches {
    private CompactedBatches() {
    }

    /**
     * The batch of offsets {@code [baseOffset, baseOffset + count)} (value "v" + offset, key "k" +
     * offset, timestamp 42) of which only the records at {@code kept} remain; none = an empty batch.
     */
    static ByteString compacted(Compression compression, long baseOffset, int count, Set<Long> kept) {
        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2,
                compression, TimestampType.CREATE_TIME, baseOffset);
        for (long offset = baseOffset; offset < baseOffset + count; offset++) {
            b.append(42L, ("k" + offset).getBytes(StandardCharsets.UTF_8), ("v" + offset).getBytes(StandardCharsets.UTF_8));
        }
        RecordFilter filter = new RecordFilter(0, 0) {
            @Override
            protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
                return new BatchRetentionResult(BatchRetention.RETAIN_EMPTY, false);
            }

            @Override
            protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
                return kept.contains(record.offset());
            }
        };
        MemoryRecords.FilterResult result = b.build().filterTo(filter, ByteBuffer.allocate(1024),
                BufferSupplier.NO_CACHING, Integer.MAX_VALUE);
        ByteBuffer out = result.outputBuffer().flip();
        // The point of these batches: the offset range survives the removal of records.
        MutableRecordBatch batch = MemoryRecords.readableRecords(out.duplicate()).batches().iterator().next();
        assertEquals(baseOffset, batch.baseOffset());
        assertEquals(baseOffset + count - 1, batch.lastOffset());
        assertEquals(kept.size(), result.messagesRetained());
        return ByteString.copyFrom(out);
    }

    static ByteString compacted(long baseOffset, int count, Long... kept) {
        return compacted(Compression.NONE, baseOffset, count, Set.of(kept));
    }

    /** A one-record control batch (a transaction commit marker) at {@code offset}. */
    static ByteString commitMarker(long offset) {
        return ByteString.copyFrom(MemoryRecords.withEndTransactionMarker(offset, 42L, 0, 7L, (short) 0,
                new EndTransactionMarker(ControlRecordType.COMMIT, 0)).buffer());
    }
}
