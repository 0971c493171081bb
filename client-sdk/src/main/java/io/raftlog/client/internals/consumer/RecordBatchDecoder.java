package io.raftlog.client.internals.consumer;

import com.google.protobuf.ByteString;
import io.raftlog.client.Header;
import io.raftlog.client.errors.CorruptRecordException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.KafkaException;
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
     * Records with {@code fromOffset <= offset < highWatermark}, in offset order. The broker may
     * return a first batch that starts before the requested offset (it stores whole batches), so
     * the records below {@code fromOffset} are skipped here; batches entirely below it are not even
     * decompressed. Every batch's CRC is checked.
     *
     * @throws CorruptRecordException if a batch fails its CRC or cannot be parsed
     */
    public static List<DecodedRecord> decode(ByteString batches, long fromOffset, long highWatermark) {
        if (batches.isEmpty()) {
            return List.of();
        }
        List<DecodedRecord> out = new ArrayList<>();
        ByteBuffer buffer = batches.asReadOnlyByteBuffer();
        try {
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(buffer).batches()) {
                if (batch.lastOffset() < fromOffset) {
                    continue;
                }
                if (batch.baseOffset() >= highWatermark) {
                    break;
                }
                batch.ensureValid();
                if (batch.isControlBatch()) {
                    continue;
                }
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
        } catch (KafkaException | IllegalStateException | IllegalArgumentException
                 | java.nio.BufferUnderflowException e) {
            throw new CorruptRecordException("cannot decode fetched record batch at offset >= " + fromOffset
                    + ": " + e.getMessage(), e);
        }
        return out;
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
