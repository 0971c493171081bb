package io.raftlog.client.internals.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.RecordMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.BufferExhaustedException;
import io.raftlog.client.errors.RecordTooLargeException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class RecordAccumulatorTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final TopicPartition TP1 = new TopicPartition("t", 1);
    private static final Header[] NONE = new Header[0];

    private static RecordAccumulator.AppendResult append(RecordAccumulator acc, TopicPartition tp, int valueBytes,
                                                         long nowMs) {
        return acc.append(tp, nowMs, null, new byte[valueBytes], NONE, new CompletableFuture<>(), null, 0, nowMs);
    }

    private static int recordBytes(int valueBytes) {
        return ProducerBatch.estimateRecordBytes(null, new byte[valueBytes], NONE);
    }

    @Test
    void aRecordTheEncoderRefusesChangesNothing() {
        BufferPool pool = new BufferPool(1 << 20);
        int batchSize = 61 + recordBytes(100);
        RecordAccumulator acc = new RecordAccumulator(batchSize, 1000, 120_000, pool, Compression.NONE);
        append(acc, TP, 100, 0);
        long free = pool.availableBytes();
        // Into the open batch, and (the batch being full) into a new one: both refused, nothing reserved.
        for (int valueBytes : new int[] {1, 100}) {
            assertThrows(IllegalArgumentException.class, () -> acc.append(TP, -5, null, new byte[valueBytes], NONE,
                    new CompletableFuture<>(), null, 0, 0));
            assertEquals(free, pool.availableBytes());
        }
        assertFalse(acc.peekFirst(TP).isClosedForAppends(), "the open batch stays open");
        assertTrue(append(acc, TP, 100, 0).newBatchCreated());
        assertEquals(0, acc.pollFirst(TP).ordinal());
        assertEquals(1, acc.pollFirst(TP).ordinal(), "no ordinal used up by the refused record");
    }

    @Test
    void aLoneRecordIsReadyExactlyWhenLingerExpires() {
        RecordAccumulator acc = new RecordAccumulator(16_384, 5, 120_000, new BufferPool(1 << 20),
                Compression.NONE);
        assertTrue(append(acc, TP, 10, 1000).newBatchCreated());
        assertEquals(List.of(), acc.ready(1000).readyPartitions());
        assertEquals(5, acc.ready(1000).nextReadyCheckDelayMs());
        assertEquals(List.of(), acc.ready(1004).readyPartitions());
        assertEquals(List.of(TP), acc.ready(1005).readyPartitions(), "not held back beyond linger.ms");
    }

    @Test
    void aFullBatchIsReadyAtOnceAndTheNextRecordOpensANewBatch() {
        int batchSize = 61 + 3 * recordBytes(100);
        RecordAccumulator acc = new RecordAccumulator(batchSize, 1000, 120_000, new BufferPool(1 << 20),
                Compression.NONE);
        assertFalse(append(acc, TP, 100, 0).batchIsFull());
        assertFalse(append(acc, TP, 100, 0).batchIsFull());
        assertTrue(append(acc, TP, 100, 0).batchIsFull(), "third record fills batch.size");
        assertEquals(List.of(TP), acc.ready(0).readyPartitions());
        RecordAccumulator.AppendResult fourth = append(acc, TP, 100, 0);
        assertTrue(fourth.newBatchCreated());
        assertTrue(fourth.batchIsFull(), "a batch behind another: the head is sendable");
        assertEquals(3, acc.pollFirst(TP).recordCount());
        assertEquals(1, acc.peekFirst(TP).recordCount());
        assertEquals(List.of(), acc.ready(0).readyPartitions(), "the new batch lingers");
    }

    @Test
    void aRecordLargerThanBatchSizeTravelsAlone() {
        RecordAccumulator acc = new RecordAccumulator(100, 1000, 120_000, new BufferPool(1 << 20),
                Compression.NONE);
        append(acc, TP, 10, 0);
        append(acc, TP, 500, 0);
        assertEquals(1, acc.pollFirst(TP).recordCount());
        assertEquals(1, acc.pollFirst(TP).recordCount());
    }

    @Test
    void drainedBatchAcceptsNoMoreRecords() {
        RecordAccumulator acc = new RecordAccumulator(16_384, 0, 120_000, new BufferPool(1 << 20),
                Compression.NONE);
        append(acc, TP, 10, 0);
        ProducerBatch drained = acc.pollFirst(TP);
        assertTrue(append(acc, TP, 10, 0).newBatchCreated());
        assertEquals(1, drained.recordCount());
    }

    @Test
    void flushAndCloseMakeEveryBatchReady() {
        RecordAccumulator acc = new RecordAccumulator(16_384, 60_000, 120_000, new BufferPool(1 << 20),
                Compression.NONE);
        append(acc, TP, 10, 0);
        append(acc, TP1, 10, 0);
        assertEquals(List.of(), acc.ready(1).readyPartitions());
        acc.beginFlush();
        assertEquals(List.of(TP, TP1), acc.ready(1).readyPartitions());
        acc.endFlush();
        assertEquals(List.of(), acc.ready(1).readyPartitions());
        acc.close();
        assertEquals(List.of(TP, TP1), acc.ready(1).readyPartitions());
    }

    @Test
    void flushWaitsForEveryIncompleteBatch() {
        RecordAccumulator acc = new RecordAccumulator(16_384, 5, 120_000, new BufferPool(1 << 20),
                Compression.NONE);
        append(acc, TP, 10, 0);
        append(acc, TP1, 10, 0);
        List<CompletableFuture<Void>> pending = acc.incompleteSnapshot();
        assertEquals(2, pending.size());
        ProducerBatch b = acc.pollFirst(TP);
        b.complete(7);
        acc.deallocate(b);
        assertTrue(pending.get(0).isDone());
        assertFalse(pending.get(1).isDone());
        assertEquals(1, acc.incompleteSnapshot().size());
    }

    @Test
    void retriesGoBackBeforeNewerBatchesAndWaitForTheirBackoff() {
        RecordAccumulator acc = new RecordAccumulator(16_384, 0, 120_000, new BufferPool(1 << 20),
                Compression.NONE);
        append(acc, TP, 10, 0);
        ProducerBatch first = acc.pollFirst(TP);
        append(acc, TP, 10, 0);
        ProducerBatch second = acc.pollFirst(TP);
        append(acc, TP, 10, 0);
        first.markSent();
        second.markSent();
        second.scheduleRetry(0, 100);
        acc.reenqueue(second);
        first.scheduleRetry(0, 100);
        acc.reenqueue(first);
        assertEquals(List.of(), acc.ready(50).readyPartitions(), "retry backoff");
        assertEquals(List.of(TP), acc.ready(100).readyPartitions());
        assertEquals(0, acc.pollFirst(TP).ordinal());
        assertEquals(1, acc.pollFirst(TP).ordinal());
        assertEquals(2, acc.pollFirst(TP).ordinal());
    }

    @Test
    void expiresQueuedBatchesAtTheDeliveryTimeout() {
        RecordAccumulator acc = new RecordAccumulator(16_384, 5, 1000, new BufferPool(1 << 20),
                Compression.NONE);
        append(acc, TP, 10, 0);
        append(acc, TP1, 10, 500);
        assertEquals(List.of(), acc.expireBatches(999));
        List<ProducerBatch> expired = acc.expireBatches(1000);
        assertEquals(1, expired.size());
        assertEquals(TP, expired.get(0).topicPartition());
        assertEquals(1, acc.expireBatches(1500).size());
    }

    @Test
    void memoryIsBoundedAndSendBlocksUntilTheDeadline() {
        int size = recordBytes(1000);
        BufferPool pool = new BufferPool(2L * size + 100);
        RecordAccumulator acc = new RecordAccumulator(16_384, 5, 120_000, pool,
                Compression.NONE);
        append(acc, TP, 1000, 0);
        append(acc, TP, 1000, 0);
        long start = System.nanoTime();
        BufferExhaustedException e = assertThrows(BufferExhaustedException.class,
                () -> acc.append(TP, 0, null, new byte[1000], NONE, new CompletableFuture<>(), null, 200, 0));
        long waitedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(waitedMs >= 190, "blocked for max.block.ms, waited " + waitedMs);
        assertTrue(e.getMessage().contains("buffer.memory"), e.getMessage());
        assertEquals(1, acc.incompleteBatches().size(), "the failed record was not queued");
    }

    @Test
    void aBlockedSendProceedsWhenABatchCompletes() throws Exception {
        int size = recordBytes(1000);
        BufferPool pool = new BufferPool(size + 100);
        RecordAccumulator acc = new RecordAccumulator(16_384, 5, 120_000, pool,
                Compression.NONE);
        append(acc, TP, 1000, 0);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CompletableFuture<RecordMetadata> second = new CompletableFuture<>();
        Thread sender = new Thread(() -> {
            try {
                acc.append(TP1, 0, null, new byte[1000], NONE, second, null, 60_000, 0);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        sender.start();
        while (pool.waiters() == 0) {
            Thread.onSpinWait(); // until the appending thread is parked on the pool
        }
        ProducerBatch first = acc.pollFirst(TP);
        first.complete(0);
        acc.deallocate(first);
        sender.join();
        assertEquals(null, failure.get());
        assertEquals(TP1, acc.incompleteBatches().get(0).topicPartition());
    }

    @Test
    void aRecordLargerThanTheWholeBufferFailsAtOnce() {
        RecordAccumulator acc = new RecordAccumulator(16_384, 5, 120_000, new BufferPool(1000),
                Compression.NONE);
        assertThrows(RecordTooLargeException.class, () -> append(acc, TP, 2000, 0));
    }

    @Test
    void keysAndHeadersCountTowardsTheBatchSize() {
        byte[] key = "k".repeat(50).getBytes(StandardCharsets.UTF_8);
        assertTrue(ProducerBatch.estimateRecordBytes(key, new byte[10], NONE) > recordBytes(10) + 49);
    }
}
