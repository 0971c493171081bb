package io.raftlog.statemachine.store;

import static io.raftlog.statemachine.store.TestBatches.assertStartsWithBatchContaining;
import static io.raftlog.statemachine.store.TestBatches.batch;
import static io.raftlog.statemachine.store.TestBatches.parseWholeBatches;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The {@link LogStore} contract; subclasses run it against one implementation. */
abstract class LogStoreContractTest {

  private final List<LogStore> opened = new ArrayList<>();

  /** A new, empty store whose log starts at {@code startOffset}. */
  protected abstract LogStore createStore(long startOffset) throws IOException;

  protected final LogStore newStore() throws IOException {
    return newStore(0);
  }

  protected final LogStore newStore(long startOffset) throws IOException {
    LogStore store = createStore(startOffset);
    opened.add(store);
    return store;
  }

  @AfterEach
  void closeStores() throws IOException {
    for (LogStore store : opened) {
      store.close();
    }
  }

  /** Appends batches of the given record counts from the store's end; returns their base offsets. */
  static List<Long> appendBatches(LogStore store, int... recordCounts) throws IOException {
    List<Long> bases = new ArrayList<>();
    for (int count : recordCounts) {
      long base = store.logEndOffset();
      store.append(batch(base, count));
      bases.add(base);
    }
    return bases;
  }

  static List<MutableRecordBatch> readAll(LogStore store, long offset) throws IOException {
    return parseWholeBatches(store.read(offset, Integer.MAX_VALUE));
  }

  @Test
  void newStoreIsEmptyAtZero() throws IOException {
    LogStore store = newStore();
    assertEquals(0, store.logStartOffset());
    assertEquals(0, store.logEndOffset());
    assertEquals(0, store.read(0, 1024).remaining());
  }

  @Test
  void newStoreCanStartAtAGivenOffset() throws IOException {
    LogStore store = newStore(100);
    assertEquals(100, store.logStartOffset());
    assertEquals(100, store.logEndOffset());
    assertThrows(IllegalArgumentException.class, () -> store.append(batch(0, 1)));
    store.append(batch(100, 3));
    assertEquals(103, store.logEndOffset());
    assertStartsWithBatchContaining(readAll(store, 102), 102);
    assertThrows(OffsetOutOfRangeException.class, () -> store.read(99, 1024));
  }

  @Test
  void appendAdvancesEndAndEveryOffsetReadsFromItsBatch() throws IOException {
    LogStore store = newStore();
    appendBatches(store, 1, 3, 5, 2, 1);
    assertEquals(12, store.logEndOffset());
    for (long offset = 0; offset < 12; offset++) {
      List<MutableRecordBatch> batches = readAll(store, offset);
      assertStartsWithBatchContaining(batches, offset);
      assertEquals(12, batches.get(batches.size() - 1).nextOffset(), "a large maxBytes reads to the end");
    }
  }

  @Test
  void readReturnsTheBytesAsAppended() throws IOException {
    LogStore store = newStore();
    ByteBuffer first = batch(0, 2);
    ByteBuffer second = batch(2, 4);
    store.append(first);
    store.append(second);
    ByteBuffer expected = ByteBuffer.allocate(first.remaining() + second.remaining())
        .put(first.duplicate()).put(second.duplicate()).flip();
    assertEquals(expected, store.read(0, Integer.MAX_VALUE));
    assertEquals(second, store.read(3, Integer.MAX_VALUE));
  }

  @Test
  void appendUsesOnlyPositionToLimitAndLeavesTheCallersBufferAlone() throws IOException {
    LogStore store = newStore();
    ByteBuffer batch = batch(0, 2);
    ByteBuffer framed = ByteBuffer.allocate(batch.remaining() + 10);
    framed.position(5);
    framed.put(batch.duplicate());
    framed.position(5).limit(5 + batch.remaining());
    store.append(framed);
    assertEquals(5, framed.position());
    assertEquals(batch, store.read(0, Integer.MAX_VALUE));
  }

  @Test
  void maxBytesStopsBeforeTheBatchThatWouldExceedIt() throws IOException {
    LogStore store = newStore();
    appendBatches(store, 2, 2, 2, 2);
    int batchSize = batch(0, 2).remaining();
    assertEquals(2, parseWholeBatches(store.read(0, 2 * batchSize)).size());
    assertEquals(2, parseWholeBatches(store.read(0, 3 * batchSize - 1)).size());
    assertEquals(3, parseWholeBatches(store.read(0, 3 * batchSize)).size());
    assertEquals(2, parseWholeBatches(store.read(5, 2 * batchSize)).size());
    assertEquals(4, parseWholeBatches(store.read(0, Integer.MAX_VALUE)).size());
  }

  @Test
  void firstBatchIsReturnedWholeEvenWhenLargerThanMaxBytes() throws IOException {
    LogStore store = newStore();
    store.append(batch(0, 10, 100));
    store.append(batch(10, 1));
    for (int maxBytes : new int[] {0, 1, 100}) {
      List<MutableRecordBatch> batches = parseWholeBatches(store.read(5, maxBytes));
      assertEquals(1, batches.size());
      assertEquals(0, batches.get(0).baseOffset());
    }
    assertThrows(IllegalArgumentException.class, () -> store.read(0, -1));
  }

  @Test
  void readAtEndIsEmpty() throws IOException {
    LogStore store = newStore();
    appendBatches(store, 3);
    assertEquals(0, store.read(3, 1024).remaining());
  }

  @Test
  void readOutsideTheLogThrowsOffsetOutOfRange() throws IOException {
    LogStore store = newStore(10);
    appendBatches(store, 3);
    OffsetOutOfRangeException above = assertThrows(OffsetOutOfRangeException.class, () -> store.read(14, 1024));
    assertEquals(14, above.requested());
    assertEquals(10, above.logStartOffset());
    assertEquals(13, above.logEndOffset());
    OffsetOutOfRangeException below = assertThrows(OffsetOutOfRangeException.class, () -> store.read(9, 1024));
    assertEquals(9, below.requested());
    assertThrows(OffsetOutOfRangeException.class, () -> store.read(-1, 1024));
  }

  @Test
  void rejectsBatchNotStartingAtTheLogEnd() throws IOException {
    LogStore store = newStore();
    appendBatches(store, 3);
    IllegalArgumentException ahead = assertThrows(IllegalArgumentException.class, () -> store.append(batch(4, 1)));
    assertTrue(ahead.getMessage().contains("log end offset 3"), ahead.getMessage());
    assertThrows(IllegalArgumentException.class, () -> store.append(batch(2, 1)));
    assertThrows(IllegalArgumentException.class, () -> store.append(batch(0, 1)));
    assertLogUnchangedAndStillAppendable(store, 3);
  }

  @Test
  void rejectsBatchWithBadCrc() throws IOException {
    LogStore store = newStore();
    ByteBuffer corrupt = batch(0, 3);
    int inRecords = corrupt.limit() - 3; // inside the last record, covered by the CRC
    corrupt.put(inRecords, (byte) (corrupt.get(inRecords) ^ 0x5A));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.append(corrupt));
    assertTrue(e.getMessage().toLowerCase().contains("corrupt"), e.getMessage());
    assertLogUnchangedAndStillAppendable(store, 0);
  }

  @Test
  void rejectsNonV2Magic() throws IOException {
    LogStore store = newStore();
    ByteBuffer v1 = batch(0, 1);
    v1.put(16, (byte) 1); // magic byte; not covered by the CRC, so only the magic check can catch it
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.append(v1));
    assertTrue(e.getMessage().contains("magic"), e.getMessage());
    assertLogUnchangedAndStillAppendable(store, 0);
  }

  @Test
  void rejectsGarbageTruncatedAndMultipleBatches() throws IOException {
    LogStore store = newStore();
    byte[] random = new byte[200];
    new Random(42).nextBytes(random);
    random[16] = 2; // even with a plausible magic byte
    assertThrows(IllegalArgumentException.class, () -> store.append(ByteBuffer.wrap(random)));
    assertThrows(IllegalArgumentException.class, () -> store.append(ByteBuffer.allocate(0)));
    ByteBuffer whole = batch(0, 2);
    assertThrows(IllegalArgumentException.class,
        () -> store.append(whole.duplicate().limit(whole.limit() - 1)));
    ByteBuffer two = ByteBuffer.allocate(2 * whole.remaining() + 10)
        .put(whole.duplicate()).put(batch(2, 2)).flip();
    assertThrows(IllegalArgumentException.class, () -> store.append(two));
    assertLogUnchangedAndStillAppendable(store, 0);
  }

  private static void assertLogUnchangedAndStillAppendable(LogStore store, long end) throws IOException {
    assertEquals(end, store.logEndOffset());
    store.append(batch(end, 2));
    assertEquals(end + 2, store.logEndOffset());
    assertStartsWithBatchContaining(readAll(store, end), end);
  }

  @Test
  void truncateFromRemovesBatchesFromABoundaryAndAllowsReappending() throws IOException {
    LogStore store = newStore();
    List<Long> bases = appendBatches(store, 2, 3, 4, 1, 5);
    long cut = bases.get(2); // 5
    store.truncateFrom(cut);
    assertEquals(cut, store.logEndOffset());
    assertEquals(0, store.read(cut, 1024).remaining());
    assertThrows(OffsetOutOfRangeException.class, () -> store.read(cut + 1, 1024));
    List<MutableRecordBatch> kept = readAll(store, 0);
    assertEquals(cut, kept.get(kept.size() - 1).nextOffset());

    store.append(batch(cut, 7, 40));
    assertEquals(cut + 7, store.logEndOffset());
    List<MutableRecordBatch> reread = readAll(store, cut);
    assertEquals(1, reread.size());
    assertEquals(cut + 6, reread.get(0).lastOffset());
  }

  @Test
  void truncateFromRejectsOffsetsInsideABatchOrOutsideTheLog() throws IOException {
    LogStore store = newStore(10);
    appendBatches(store, 3, 3);
    assertThrows(IllegalArgumentException.class, () -> store.truncateFrom(14));
    assertThrows(IllegalArgumentException.class, () -> store.truncateFrom(9));
    assertThrows(IllegalArgumentException.class, () -> store.truncateFrom(17));
    assertEquals(16, store.logEndOffset());
    store.truncateFrom(16); // the end is a boundary: nothing to do
    assertEquals(16, store.logEndOffset());
    assertEquals(2, readAll(store, 10).size());
  }

  @Test
  void truncateFromTheStartEmptiesTheLog() throws IOException {
    LogStore store = newStore(10);
    appendBatches(store, 3, 3, 3);
    store.truncateFrom(10);
    assertEquals(10, store.logStartOffset());
    assertEquals(10, store.logEndOffset());
    assertEquals(0, store.read(10, 1024).remaining());
    appendBatches(store, 1);
    assertEquals(11, store.logEndOffset());
  }

  @Test
  void deleteBeforeRaisesTheStartToABatchBoundaryAndKeepsLaterData() throws IOException {
    LogStore store = newStore();
    for (int i = 0; i < 60; i++) {
      appendBatches(store, 1 + i % 4);
    }
    long end = store.logEndOffset();
    long target = end / 2;
    long newStart = store.deleteBefore(target);
    assertEquals(newStart, store.logStartOffset());
    assertTrue(newStart <= target, "never deletes records at or above the requested offset");
    assertEquals(end, store.logEndOffset());
    assertEquals(newStart, readAll(store, newStart).get(0).baseOffset(), "start is a batch boundary");
    if (newStart > 0) {
      assertThrows(OffsetOutOfRangeException.class, () -> store.read(newStart - 1, 1024));
    }
    for (long offset = target; offset < end; offset++) {
      assertStartsWithBatchContaining(parseWholeBatches(store.read(offset, 1)), offset);
    }
    assertEquals(newStart, store.deleteBefore(0), "a lower offset deletes nothing");
  }

  @Test
  void deleteBeforeKeepsTheNewestDataEvenWhenAskedForEverything() throws IOException {
    LogStore store = newStore();
    for (int i = 0; i < 40; i++) {
      appendBatches(store, 2);
    }
    long newStart = store.deleteBefore(Long.MAX_VALUE);
    assertTrue(newStart < store.logEndOffset(), "the active segment is never deleted");
    assertStartsWithBatchContaining(readAll(store, 79), 79);
    appendBatches(store, 1);
    assertEquals(81, store.logEndOffset());
  }

  @Test
  void advanceLogStartMayStopInsideABatchAndRefusesReadsBelowIt() throws IOException {
    LogStore store = newStore();
    appendBatches(store, 2, 2, 2, 2, 2);
    assertEquals(5, store.advanceLogStart(5));
    assertEquals(5, store.logStartOffset());
    assertThrows(OffsetOutOfRangeException.class, () -> store.read(4, 1024));
    assertStartsWithBatchContaining(readAll(store, 5), 5);
    assertEquals(5, store.advanceLogStart(3), "the start never moves back");
    assertEquals(10, store.advanceLogStart(100), "at most the log end");
    appendBatches(store, 1);
    assertEquals(11, store.logEndOffset());
    assertStartsWithBatchContaining(readAll(store, 10), 10);
  }

  @Test
  void segmentsCoverTheLogAndKnowTheirNewestTimestamp() throws IOException {
    LogStore store = newStore();
    for (int i = 0; i < 30; i++) {
      appendBatches(store, 3); // record timestamps 1000, 1001, 1002
    }
    List<LogStore.SegmentInfo> segments = store.segments();
    assertEquals(0, segments.get(0).baseOffset());
    assertEquals(store.logEndOffset(), segments.get(segments.size() - 1).nextOffset());
    for (int i = 1; i < segments.size(); i++) {
      assertEquals(segments.get(i - 1).nextOffset(), segments.get(i).baseOffset(), "contiguous");
    }
    for (LogStore.SegmentInfo s : segments) {
      assertEquals(1002, s.maxTimestamp());
      assertTrue(s.sizeBytes() > 0);
    }
  }

  @Test
  void operationsFailAfterClose() throws IOException {
    LogStore store = newStore();
    appendBatches(store, 1);
    store.close();
    assertThrows(IllegalStateException.class, () -> store.read(0, 1024));
    assertThrows(IllegalStateException.class, () -> store.append(batch(1, 1)));
    store.close(); // idempotent
  }

  @Test
  void concurrentReadersOnlyEverSeeWholeValidBatches() throws Exception {
    LogStore store = newStore();
    int batchCount = 400;
    long finalEnd = (long) batchCount * 3;
    ExecutorService readers = Executors.newFixedThreadPool(3);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        int seed = r;
        results.add(readers.submit(() -> followLog(store, finalEnd, new Random(seed))));
      }
      for (int i = 0; i < batchCount; i++) {
        store.append(batch(store.logEndOffset(), 3, 1 + i % 50));
      }
      for (Future<Integer> result : results) {
        assertTrue(result.get(10, TimeUnit.SECONDS) > 0);
      }
    } finally {
      readers.shutdownNow();
    }
  }

  /** Reads the log from 0 up to {@code finalEnd} as it grows; returns how many reads found data. */
  private static int followLog(LogStore store, long finalEnd, Random random) throws IOException {
    long offset = 0;
    int nonEmptyReads = 0;
    while (offset < finalEnd) {
      long end = store.logEndOffset();
      ByteBuffer data = store.read(offset, random.nextInt(600));
      List<MutableRecordBatch> batches = parseWholeBatches(data);
      if (batches.isEmpty()) {
        assertTrue(offset >= end, "an empty read happens only at the end");
        Thread.onSpinWait();
        continue;
      }
      assertStartsWithBatchContaining(batches, offset);
      offset = batches.get(batches.size() - 1).nextOffset();
      assertTrue(offset <= store.logEndOffset(), "a read never returns batches beyond the log end offset");
      nonEmptyReads++;
    }
    return nonEmptyReads;
  }
}
