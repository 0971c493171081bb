package io.raftlog.client.internals.consumer;

import com.google.protobuf.ByteString;
import io.raftlog.client.Header;
import io.raftlog.client.errors.CorruptRecordException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;

/**
 * Decodes the {@code record_batches} of a RECORD_BATCHES fetch: concatenated Kafka v2 batches as
 * stored by the broker, possibly lz4/gzip-compressed (kafka-clients decompresses transparently).
 * Stateless and thread-safe; runs on the gRPC callback thread so decompression overlaps with the
 * application's processing of the previous poll.
 */
public final class RecordBatchDecoder {
    private RecordBatchDecoder() {
    }

    /**
     * What one partition's fetch decoded to.
     *
     * @param records records with {@code fromOffset <= offset < highWatermark}, in offset order
     * @param nextOffset where the next fetch may start: the offset after the last batch walked that
     *     lies entirely below the high watermark, and never below {@code fromOffset}. A compacted
     *     batch keeps its offset range while losing records (possibly all of them), so this can be
     *     past the last record's offset + 1; a consumer that only followed its records would fetch
     *     the same emptied range forever.
     */
    public record Decoded(List<DecodedRecord> records, long nextOffset) {
    }

    /**
     * Records with {@code fromOffset <= offset < highWatermark}, in offset order, and the offset the
     * next fetch may start at. The broker may return a first batch that starts before the requested
     * offset (it stores whole batches), so the records below {@code fromOffset} are skipped here;
     * batches entirely below it are not even decompressed. Record offsets within a batch may have
     * gaps (log compaction). Every batch's CRC is checked.
     *
     * @throws CorruptRecordException if a batch fails its CRC or cannot be parsed
     */
    public static Decoded decode(ByteString batches, long fromOffset, long highWatermark) {
        if (batches.isEmpty()) {
            return new Decoded(List.of(), fromOffset);
        }
        List<DecodedRecord> out = new ArrayList<>();
        long next = fromOffset;
        ByteBuffer buffer = batches.asReadOnlyByteBuffer();
        try {
            // The batches lie back to back from the buffer's start: batchStart follows the iterator.
            int batchStart = buffer.position();
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(buffer).batches()) {
                int start = batchStart;
                batchStart += batch.sizeInBytes();
                if (batch.lastOffset() < fromOffset) {
                    continue;
                }
                if (batch.baseOffset() >= highWatermark) {
                    break;
                }
                ensureValid(buffer, start, batch);
                if (!batch.isControlBatch()) {
                    for (Record r : batch) {
                        long offset = r.offset();
                        if (offset < fromOffset) {
                            continue;
                        }
                        if (offset >= highWatermark) {
                            break;
                        }
                        out.add(new DecodedRecord(offset, r.timestamp(), r.hasKey() ? bytes(r.key()) : null,
                                r.hasValue() ? bytes(r.value()) : null, headers(r)));
                    }
                }
                // A batch reaching the high watermark is only partly committed: its records below
                // the high watermark move the position, its offset range does not.
                if (batch.lastOffset() < highWatermark) {
                    next = Math.max(next, batch.lastOffset() + 1);
                }
            }
        } catch (KafkaException | IllegalStateException | IllegalArgumentException
                 | java.nio.BufferUnderflowException e) {
            throw new CorruptRecordException("cannot decode fetched record batch at offset >= " + fromOffset
                    + ": " + e.getMessage(), e);
        }
        return new Decoded(out, next);
    }

    /** Where the v2 batch CRC starts: it covers the attributes and everything after them. */
    private static final int CRC_COVERED_FROM = DefaultRecordBatch.CRC_OFFSET + 4;

    /**
     * {@code batch.ensureValid()}, computed fast: for the read-only buffer a {@code ByteString}
     * hands out, kafka-clients' checksum helper reads one byte at a time (60% of a consumer's CPU
     * at 1 KiB records); {@link CRC32C#update(ByteBuffer)} reads in bulk with the CPU's instruction.
     */
    static void ensureValid(ByteBuffer buffer, int start, MutableRecordBatch batch) {
        int size = batch.sizeInBytes();
        if (size < DefaultRecordBatch.RECORD_BATCH_OVERHEAD || start + size > buffer.limit()) {
            throw new CorruptRecordException("record batch at offset " + batch.baseOffset() + " is corrupt: its size "
                    + size + " is below the v2 batch overhead or past the fetched bytes");
        }
        ByteBuffer covered = buffer.duplicate();
        covered.limit(start + size).position(start + CRC_COVERED_FROM);
        CRC32C crc = new CRC32C();
        crc.update(covered);
        if (crc.getValue() != batch.checksum()) {
            throw new CorruptRecordException("record batch at offset " + batch.baseOffset() + " is corrupt (stored crc = "
                    + batch.checksum() + ", computed crc = " + crc.getValue() + ")");
        }
    }

    private static List<Header> headers(Record r) {
        org.apache.kafka.common.header.Header[] raw = r.headers();
        if (raw.length == 0) {
            return List.of();
        }
        List<Header> headers = new ArrayList<>(raw.length);
        for (org.apache.kafka.common.header.Header h : raw) {
            headers.add(new Header(h.key(), h.value()));
        }
        return headers;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
