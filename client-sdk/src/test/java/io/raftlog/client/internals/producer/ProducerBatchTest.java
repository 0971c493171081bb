package io.raftlog.client.internals.producer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.RaftlogException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/** A batch encodes its records as they are appended and carries the producer state the sender gives it. */
class ProducerBatchTest {

    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final Header[] NO_HEADERS = new Header[0];

    private final List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>();

    private ProducerBatch batchOf(Compression compression, int records) {
        ProducerBatch batch = new ProducerBatch(TP, 0, 1000, 1 << 20, compression, 64);
        for (int i = 0; i < records; i++) {
            byte[] key = i % 2 == 0 ? null : ("k" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value = ("value-" + i + "-" + "x".repeat(i % 700)).getBytes(StandardCharsets.UTF_8);
            Header[] headers = i == 1 ? new Header[] {new RecordHeader("h", new byte[] {7})} : NO_HEADERS;
            CompletableFuture<RecordMetadata> f = new CompletableFuture<>();
            futures.add(f);
            assertTrue(batch.tryAppend(2000 + i, key, value, headers, f, null,
                    ProducerBatch.estimateRecordBytes(key, value, headers)));
        }
        return batch;
    }

    private static MutableRecordBatch decode(ByteString bytes) {
        MemoryRecords records = MemoryRecords.readableRecords(bytes.asReadOnlyByteBuffer());
        List<MutableRecordBatch> batches = new ArrayList<>();
        records.batches().forEach(batches::add);
        assertEquals(1, batches.size());
        MutableRecordBatch batch = batches.get(0);
        batch.ensureValid(); // the CRC covers the header's producer state
        return batch;
    }

    private static void assertRecords(MutableRecordBatch batch, int count) {
        int i = 0;
        for (Record r : batch) {
            assertEquals(i, r.offset());
            assertEquals(2000 + i, r.timestamp());
            assertEquals("value-" + i + "-" + "x".repeat(i % 700), Utils.utf8(r.value()));
            if (i % 2 == 0) {
                assertNull(r.key());
            } else {
                assertEquals("k" + i, Utils.utf8(r.key()));
            }
            assertEquals(i == 1 ? 1 : 0, r.headers().length);
            i++;
        }
        assertEquals(count, i);
    }

    @Test
    void recordsAndProducerStateSurviveEncoding() {
        for (Compression compression : List.of(Compression.NONE, Compression.gzip().build(), Compression.lz4().build())) {
            futures.clear();
            // ~350 KiB: the buffer, 4 KiB at first, grows many times.
            ProducerBatch batch = batchOf(compression, 1000);
            batch.closeForAppends();
            batch.setProducerState(42L, (short) 3, 17);
            MutableRecordBatch decoded = decode(batch.encode());
            assertEquals(42L, decoded.producerId());
            assertEquals(3, decoded.producerEpoch());
            assertEquals(17, decoded.baseSequence());
            assertEquals(compression.type(), decoded.compressionType());
            assertRecords(decoded, 1000);
            assertSame(batch.encode(), batch.encode(), "encoded once, reused by retries");
        }
    }

    @Test
    void aBatchStampedAgainIsSentAsACopyWithTheNewStateAndTheSameRecords() {
        ProducerBatch batch = batchOf(Compression.NONE, 4);
        batch.closeForAppends();
        batch.setProducerState(42L, (short) 3, 17);
        ByteString first = batch.encode();
        byte[] firstBytes = first.toByteArray();

        batch.clearProducerState();
        ByteString unstamped = batch.encode();
        assertEquals(-1L, decode(unstamped).producerId());
        batch.setProducerState(43L, (short) 0, 0);
        MutableRecordBatch again = decode(batch.encode());
        assertEquals(43L, again.producerId());
        assertEquals(0, again.producerEpoch());
        assertEquals(0, again.baseSequence());
        assertRecords(again, 4);
        assertArrayEquals(firstBytes, first.toByteArray(), "bytes handed out earlier never change");
    }

    @Test
    void completionGivesEachRecordItsOffsetAndTimestamp() {
        ProducerBatch batch = batchOf(Compression.NONE, 3);
        assertTrue(batch.complete(100));
        assertFalse(batch.complete(200), "completed once");
        for (int i = 0; i < 3; i++) {
            RecordMetadata m = futures.get(i).join();
            assertEquals(100 + i, m.offset());
            assertEquals(2000 + i, m.timestampMs());
        }
    }

    /**
     * Records 0 and 2 have no callback (the callback array starts lazily at record 1 and must
     * keep the later record's slot empty), 1 and 3 have one, and 3's throws.
     */
    private ProducerBatch batchWithCallbacks(List<String> calls) {
        ProducerBatch batch = new ProducerBatch(TP, 0, 0, 1 << 20, Compression.NONE, 64);
        for (int i = 0; i < 40; i++) {
            int record = i;
            CompletableFuture<RecordMetadata> f = new CompletableFuture<>();
            futures.add(f);
            RecordCallback callback = record % 2 == 0 ? null : (m, e) -> {
                // The record's own future completes after its callback, the previous one's before.
                calls.add(record + ":" + (m == null ? "error " + e.getMessage() : m.offset())
                        + " own done " + futures.get(record).isDone()
                        + " previous done " + futures.get(record - 1).isDone());
                if (record == 3) {
                    throw new IllegalStateException("application bug");
                }
            };
            byte[] value = new byte[10];
            assertTrue(batch.tryAppend(2000 + i, null, value, NO_HEADERS, f, callback,
                    ProducerBatch.estimateRecordBytes(null, value, NO_HEADERS)));
        }
        return batch;
    }

    @Test
    void callbacksRunInRecordOrderJustBeforeTheirFutures() {
        List<String> calls = new ArrayList<>();
        ProducerBatch batch = batchWithCallbacks(calls);
        assertTrue(batch.complete(100));
        assertEquals(20, calls.size(), calls.toString());
        for (int k = 0; k < 20; k++) {
            int record = 2 * k + 1;
            assertEquals(record + ":" + (100 + record) + " own done false previous done true", calls.get(k));
        }
        for (int i = 0; i < 40; i++) {
            assertEquals(100 + i, futures.get(i).join().offset(), "a throwing callback stops nothing");
        }
    }

    @Test
    void aFailedBatchGivesEachCallbackTheErrorBeforeFailingItsFuture() {
        List<String> calls = new ArrayList<>();
        ProducerBatch batch = batchWithCallbacks(calls);
        assertTrue(batch.fail(new RaftlogException("gone")));
        assertFalse(batch.complete(100), "done once");
        assertEquals(20, calls.size(), calls.toString());
        assertEquals("1:error gone own done false previous done true", calls.get(0));
        for (CompletableFuture<RecordMetadata> f : futures) {
            assertTrue(f.isCompletedExceptionally());
        }
    }

    @Test
    void aThrowingStageOnOneFutureDoesNotStopTheOthers() {
        ProducerBatch batch = batchOf(Compression.NONE, 3);
        CompletableFuture<Void> stage = futures.get(0).thenAccept(m -> {
            throw new IllegalStateException("application bug");
        });
        assertTrue(batch.complete(100));
        assertTrue(stage.isCompletedExceptionally());
        for (int i = 0; i < 3; i++) {
            assertEquals(100 + i, futures.get(i).join().offset());
        }
    }

    @Test
    void aRecordLargerThanTheBatchSizeGetsABufferThatHoldsIt() {
        byte[] big = new byte[100_000];
        ProducerBatch batch = new ProducerBatch(TP, 0, 0, 16_384, Compression.NONE,
                ProducerBatch.estimateRecordBytes(null, big, NO_HEADERS));
        assertTrue(batch.tryAppend(1, null, big, NO_HEADERS, new CompletableFuture<>(), null,
                ProducerBatch.estimateRecordBytes(null, big, NO_HEADERS)));
        assertFalse(batch.tryAppend(1, null, new byte[1], NO_HEADERS, new CompletableFuture<>(), null, 20), "full");
        batch.closeForAppends();
        MutableRecordBatch decoded = decode(batch.encode());
        ByteBuffer value = decoded.iterator().next().value();
        assertEquals(100_000, value.remaining());
    }
}
