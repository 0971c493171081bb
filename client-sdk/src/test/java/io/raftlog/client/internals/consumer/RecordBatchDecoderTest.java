package io.raftlog.client.internals.consumer;

import static io.raftlog.client.internals.consumer.CompactedBatches.commitMarker;
import static io.raftlog.client.internals.consumer.CompactedBatches.compacted;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftlog.client.errors.CorruptRecordException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.compress.Compression;
import org.junit.jupiter.api.Test;

/** Decoding of fetched batches, in particular compacted ones (offset gaps, empty batches). */
class RecordBatchDecoderTest {

    private static List<Long> offsets(RecordBatchDecoder.Decoded decoded) {
        return decoded.records().stream().map(DecodedRecord::offset).toList();
    }

    @Test
    void contiguousBatchesGiveEveryRecordAndTheOffsetAfterTheLast() {
        ByteString batches = compacted(0, 3, 0L, 1L, 2L).concat(compacted(3, 2, 3L, 4L));
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(batches, 0, 5);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), offsets(d));
        assertEquals(5, d.nextOffset());
    }

    @Test
    void gapsInsideACompactedBatchKeepTheRecordsRealOffsets() {
        ByteString batches = compacted(10, 10, 11L, 14L, 15L).concat(compacted(20, 5, 20L, 23L));
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(batches, 10, 100);
        assertEquals(List.of(11L, 14L, 15L, 20L, 23L), offsets(d));
        assertEquals("v14", new String(d.records().get(1).value(), StandardCharsets.UTF_8));
        assertArrayEquals("k23".getBytes(StandardCharsets.UTF_8), d.records().get(4).key());
        assertEquals(42L, d.records().get(0).timestampMs());
        // Past the trailing gap (offset 24 was compacted away), not just past the last record.
        assertEquals(25, d.nextOffset());
    }

    @Test
    void compressedCompactedBatchesToo() {
        ByteString batches = compacted(Compression.lz4().build(), 0, 6, Set.of(2L, 4L))
                .concat(compacted(Compression.gzip().build(), 6, 4, Set.of()));
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(batches, 0, 10);
        assertEquals(List.of(2L, 4L), offsets(d));
        assertEquals(10, d.nextOffset());
    }

    @Test
    void onlyEmptyBatchesGiveNoRecordsButTheOffsetAfterTheLastBatch() {
        ByteString batches = compacted(0, 5).concat(compacted(5, 3));
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(batches, 0, 20);
        assertEquals(List.of(), offsets(d));
        assertEquals(8, d.nextOffset());
    }

    @Test
    void controlBatchesAreNotRecordsButCountForTheNextOffset() {
        ByteString batches = compacted(0, 2, 0L).concat(commitMarker(2));
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(batches, 0, 10);
        assertEquals(List.of(0L), offsets(d));
        assertEquals(3, d.nextOffset());
        assertEquals(3, RecordBatchDecoder.decode(commitMarker(2), 2, 10).nextOffset());
    }

    @Test
    void recordsBelowTheRequestedOffsetAreSkipped() {
        // The broker returns whole batches: the first one may start before the requested offset.
        ByteString batches = compacted(0, 4, 0L, 1L, 3L).concat(compacted(4, 4, 5L, 7L));
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(batches, 2, 8);
        assertEquals(List.of(3L, 5L, 7L), offsets(d));
        assertEquals(8, d.nextOffset());
        // From inside a batch whose remaining records were all compacted away.
        d = RecordBatchDecoder.decode(compacted(0, 6, 0L, 1L), 2, 8);
        assertEquals(List.of(), offsets(d));
        assertEquals(6, d.nextOffset());
    }

    @Test
    void batchesEntirelyBelowTheRequestedOffsetDoNotCount() {
        ByteString batches = compacted(0, 3, 0L, 1L, 2L).concat(compacted(3, 3, 4L));
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(batches, 10, 20);
        assertEquals(List.of(), offsets(d));
        assertEquals(10, d.nextOffset(), "never below the requested offset");
    }

    @Test
    void theNextOffsetNeverPassesTheHighWatermark() {
        // An empty batch reaching past the high watermark is not committed as a whole.
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(compacted(0, 10), 0, 5);
        assertEquals(List.of(), offsets(d));
        assertEquals(0, d.nextOffset());

        ByteString batches = compacted(0, 4).concat(compacted(4, 6, 4L, 5L, 8L)).concat(compacted(10, 2));
        d = RecordBatchDecoder.decode(batches, 0, 7);
        assertEquals(List.of(4L, 5L), offsets(d), "records from the high watermark on are not returned");
        assertEquals(4, d.nextOffset(), "the straddling batch does not count; its records move the position");

        d = RecordBatchDecoder.decode(batches, 0, 10);
        assertEquals(List.of(4L, 5L, 8L), offsets(d));
        assertEquals(10, d.nextOffset(), "up to exactly the high watermark; the batch at it is not walked");
    }

    @Test
    void noDataGivesTheRequestedOffset() {
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(ByteString.EMPTY, 7, 7);
        assertEquals(List.of(), offsets(d));
        assertEquals(7, d.nextOffset());
    }

    @Test
    void aCorruptEmptyBatchIsReported() {
        byte[] bytes = compacted(0, 5).toByteArray();
        bytes[bytes.length - 1] ^= 0x5a; // breaks the CRC
        assertThrows(CorruptRecordException.class,
                () -> RecordBatchDecoder.decode(ByteString.copyFrom(bytes), 0, 10));
    }

    @Test
    void aCorruptByteInALaterBatchIsReportedWithBothChecksums() {
        ByteString first = compacted(0, 3, 0L, 1L, 2L);
        byte[] bytes = first.concat(compacted(3, 3, 3L, 4L, 5L)).toByteArray();
        bytes[first.size() + 70] ^= 0x01; // inside the second batch's records
        ByteString corrupt = ByteString.copyFrom(bytes);
        CorruptRecordException e = assertThrows(CorruptRecordException.class,
                () -> RecordBatchDecoder.decode(corrupt, 0, 10));
        assertTrue(e.getMessage().contains("record batch at offset 3 is corrupt (stored crc = "), e.getMessage());
        // A batch entirely below the requested offset is skipped without being read.
        bytes = first.concat(compacted(3, 3, 3L, 4L, 5L)).toByteArray();
        bytes[70] ^= 0x01;
        assertEquals(List.of(3L, 4L, 5L), offsets(RecordBatchDecoder.decode(ByteString.copyFrom(bytes), 3, 10)));
    }

    @Test
    void aDirectBufferWithAnOffsetDecodesToo() {
        // What a gRPC response may hand out: a read-only view, not at the start of its memory.
        ByteString batches = compacted(0, 3, 0L, 1L, 2L).concat(compacted(3, 2, 3L, 4L));
        java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(batches.size() + 7);
        direct.position(7);
        direct.put(batches.asReadOnlyByteBuffer());
        direct.position(7);
        RecordBatchDecoder.Decoded d = RecordBatchDecoder.decode(
                com.google.protobuf.UnsafeByteOperations.unsafeWrap(direct), 0, 5);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), offsets(d));
    }
}
