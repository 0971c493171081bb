package io.raftlog.statemachine.store;

import static io.raftlog.statemachine.store.TestBatches.assertStartsWithBatchContaining;
import static io.raftlog.statemachine.store.TestBatches.batch;
import static io.raftlog.statemachine.store.TestBatches.parseWholeBatches;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileLogStoreTest extends LogStoreContractTest {

  /** Small segments and a dense index, so the contract cases also cross segments and use the index. */
  private static final LogStoreConfig SMALL = new LogStoreConfig(2048, 256);

  @TempDir Path tempDir;
  private int storeCount;

  @Override
  protected LogStore createStore(long startOffset) throws IOException {
    return FileLogStore.open(tempDir.resolve("log-" + storeCount++), SMALL, startOffset);
  }

  private Path dir() {
    return tempDir.resolve("log");
  }

  private FileLogStore open(LogStoreConfig config) throws IOException {
    return FileLogStore.open(dir(), config);
  }

  private static Path logFile(Path dir, long base) {
    return dir.resolve(String.format("%020d.log", base));
  }

  private static Path indexFile(Path dir, long base) {
    return dir.resolve(String.format("%020d.index", base));
  }

  /** Appends {@code count} batches of 2 records each and returns the log end offset. */
  private static long fill(FileLogStore store, int count) throws IOException {
    for (int i = 0; i < count; i++) {
      store.append(batch(store.logEndOffset(), 2, 20));
    }
    return store.logEndOffset();
  }

  @Test
  void newLogStartsWithAnEmptySegmentNamedByItsBaseOffset() throws IOException {
    try (FileLogStore store = open(SMALL)) {
      assertEquals(List.of(0L), store.segmentBaseOffsets());
    }
    assertTrue(Files.exists(dir().resolve("00000000000000000000.log")));
    assertTrue(Files.exists(dir().resolve("00000000000000000000.index")));
  }

  @Test
  void rollsToANewSegmentWhenTheActiveOneWouldExceedSegmentBytes() throws IOException {
    int batchSize = batch(0, 2, 20).remaining();
    LogStoreConfig config = new LogStoreConfig(5 * batchSize, 64);
    try (FileLogStore store = open(config)) {
      long end = fill(store, 23);
      assertEquals(List.of(0L, 10L, 20L, 30L, 40L), store.segmentBaseOffsets(), "5 batches of 2 records per segment");
      for (long base : store.segmentBaseOffsets()) {
        assertTrue(Files.size(logFile(dir(), base)) <= config.segmentBytes());
      }
      assertEquals(0, readAll(store, 0).get(0).baseOffset());
      assertEquals(end, readAll(store, 0).get(22).nextOffset(), "one read spans all segments");
    }
  }

  /** Kafka's segment.ms: by record timestamps, from the max timestamp of the segment's first batch. */
  @Test
  void rollsWhenABatchIsMoreThanSegmentMsNewerThanTheSegmentsFirstBatch() throws IOException {
    LogStoreConfig config = new LogStoreConfig(1 << 20, 64);
    try (FileLogStore store = open(config)) {
      store.setSegmentMs(1_000);
      store.append(TestBatches.batchAt(0, 10_000));
      store.append(TestBatches.batchAt(1, 10_900));
      store.append(TestBatches.batchAt(2, 11_000)); // exactly segment.ms later: stays
      store.append(TestBatches.batchAt(3, 11_001)); // more: a new segment, counting from 11_001
      store.append(TestBatches.batchAt(4, 5_000));  // an older timestamp never rolls
      store.append(TestBatches.batchAt(5, 12_002));
      assertEquals(List.of(0L, 3L, 5L), store.segmentBaseOffsets());
    }
    try (FileLogStore store = open(config)) {
      store.setSegmentMs(1_000);
      // Reopened: the active segment's first timestamp (12_002) comes from its file.
      store.append(TestBatches.batchAt(6, 13_002));
      assertEquals(List.of(0L, 3L, 5L), store.segmentBaseOffsets());
      store.append(TestBatches.batchAt(7, 13_003));
      assertEquals(List.of(0L, 3L, 5L, 7L), store.segmentBaseOffsets());
    }
  }

  @Test
  void batchLargerThanSegmentBytesGetsASegmentOfItsOwn() throws IOException {
    try (FileLogStore store = open(new LogStoreConfig(500, 64))) {
      store.append(batch(0, 1));
      store.append(batch(1, 20, 100)); // about 2.5 KB
      store.append(batch(21, 1));
      assertEquals(List.of(0L, 1L, 21L), store.segmentBaseOffsets());
      assertStartsWithBatchContaining(parseWholeBatches(store.read(10, 0)), 10);
    }
  }

  @Test
  void reopenKeepsEverythingAndAppendsContinue() throws IOException {
    ByteBuffer before;
    List<Long> segmentsBefore;
    try (FileLogStore store = open(SMALL)) {
      fill(store, 50);
      before = store.read(0, Integer.MAX_VALUE);
      segmentsBefore = store.segmentBaseOffsets();
    }
    try (FileLogStore store = open(SMALL)) {
      assertEquals(0, store.logStartOffset());
      assertEquals(100, store.logEndOffset());
      assertEquals(segmentsBefore, store.segmentBaseOffsets());
      assertEquals(before, store.read(0, Integer.MAX_VALUE));
      store.append(batch(100, 1));
      assertEquals(101, store.logEndOffset());
    }
  }

  @Test
  void reopenKeepsTheStartOffsetAfterRetention() throws IOException {
    long start;
    try (FileLogStore store = open(SMALL)) {
      fill(store, 50);
      start = store.deleteBefore(60);
      assertTrue(start > 0);
    }
    try (FileLogStore store = open(SMALL)) {
      assertEquals(start, store.logStartOffset());
      assertEquals(100, store.logEndOffset());
    }
  }

  /** Sealed segments opened from their index learn their newest timestamp from their batch headers. */
  @Test
  void segmentInfoIsTheSameAfterReopen() throws IOException {
    List<LogStore.SegmentInfo> before;
    try (FileLogStore store = open(SMALL)) {
      fill(store, 50);
      before = store.segments();
      assertTrue(before.size() >= 3);
    }
    try (FileLogStore store = open(SMALL)) {
      assertEquals(before, store.segments());
    }
  }

  /** The raised start is the owner's to keep: reopened, the log starts at its first kept segment. */
  @Test
  void advanceLogStartDeletesWholeSegmentsAndIsNotPersisted() throws IOException {
    long secondBase;
    try (FileLogStore store = open(SMALL)) {
      fill(store, 50);
      secondBase = store.segmentBaseOffsets().get(1);
      assertEquals(secondBase + 1, store.advanceLogStart(secondBase + 1));
      assertFalse(Files.exists(logFile(dir(), 0)));
    }
    try (FileLogStore store = open(SMALL)) {
      assertEquals(secondBase, store.logStartOffset());
      assertEquals(secondBase + 1, store.advanceLogStart(secondBase + 1));
    }
  }

  @Test
  void newLogCanStartAtAnOffsetThatSurvivesReopen() throws IOException {
    try (FileLogStore store = FileLogStore.open(dir(), SMALL, 1000)) {
      assertEquals(List.of(1000L), store.segmentBaseOffsets());
      store.append(batch(1000, 2));
    }
    assertTrue(Files.exists(logFile(dir(), 1000)));
    try (FileLogStore store = FileLogStore.open(dir(), SMALL, 5)) { // start ignored: the log exists
      assertEquals(1000, store.logStartOffset());
      assertEquals(1002, store.logEndOffset());
    }
  }

  @Test
  void recoversFromATornTail() throws IOException {
    long lastBase = writeTwoSegmentsAndClose();
    Path active = activeLogFile();
    try (RandomAccessFile file = new RandomAccessFile(active.toFile(), "rw")) {
      file.setLength(file.length() - 10); // the last write only partly reached the disk
    }
    assertRecoveredToEndAt(lastBase);
  }

  @Test
  void recoversFromATornHeader() throws IOException {
    long lastBase = writeTwoSegmentsAndClose();
    long goodSize = Files.size(activeLogFile()) - batch(lastBase, 2, 20).remaining();
    try (RandomAccessFile file = new RandomAccessFile(activeLogFile().toFile(), "rw")) {
      file.setLength(goodSize + 7); // fewer bytes than even the magic byte needs
    }
    assertRecoveredToEndAt(lastBase);
  }

  @Test
  void recoversFromACorruptLastBatch() throws IOException {
    long lastBase = writeTwoSegmentsAndClose();
    try (RandomAccessFile file = new RandomAccessFile(activeLogFile().toFile(), "rw")) {
      long inLastRecord = file.length() - 5;
      file.seek(inLastRecord);
      int b = file.read();
      file.seek(inLastRecord);
      file.write(b ^ 0xFF); // CRC no longer matches
    }
    assertRecoveredToEndAt(lastBase);
  }

  /**
   * A bit flipped anywhere in the last batch (header fields outside the CRC included) is found at
   * open and the batch cut: the recovered log never holds bytes that were not written.
   */
  @Test
  void everySingleBitFlipInTheLastBatchIsCutAtOpen() throws IOException {
    long lastBase = writeTwoSegmentsAndClose();
    Path active = activeLogFile();
    byte[] original = Files.readAllBytes(active);
    int lastBatchSize = batch(lastBase, 2, 20).remaining();
    int lastBatchStart = original.length - lastBatchSize;
    for (int at = lastBatchStart; at < original.length; at++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] damaged = original.clone();
        damaged[at] ^= (byte) (1 << bit);
        Files.write(active, damaged);
        try (FileLogStore store = open(SMALL)) {
          assertEquals(lastBase, store.logEndOffset(), "bit " + bit + " of byte " + (at - lastBatchStart)
              + " of the last batch flipped: the batch must be cut");
        }
        // Recovery truncated the file and rewrote nothing else: restore it for the next case.
        Files.write(active, original);
      }
    }
  }

  /** Writes 25 two-record batches (two segments with {@link #SMALL}); returns the last batch's base. */
  private long writeTwoSegmentsAndClose() throws IOException {
    try (FileLogStore store = open(SMALL)) {
      long end = fill(store, 25);
      assertTrue(store.segmentBaseOffsets().size() > 1);
      return end - 2;
    }
  }

  private Path activeLogFile() throws IOException {
    try (var files = Files.list(dir())) {
      return files.filter(p -> p.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
    }
  }

  private void assertRecoveredToEndAt(long end) throws IOException {
    try (FileLogStore store = open(SMALL)) {
      assertEquals(end, store.logEndOffset(), "truncated to the last good batch");
      List<MutableRecordBatch> batches = readAll(store, 0);
      assertEquals(end, batches.get(batches.size() - 1).nextOffset());
      assertEquals(0, store.read(end, 1024).remaining());
      store.append(batch(end, 3));
      assertStartsWithBatchContaining(readAll(store, end + 2), end + 2);
    }
    try (FileLogStore store = open(SMALL)) {
      assertEquals(end + 3, store.logEndOffset(), "the repaired log reopens cleanly");
    }
  }

  @Test
  void corruptSealedSegmentWithoutIndexIsCutAndLaterSegmentsDropped() throws IOException {
    List<Long> bases;
    try (FileLogStore store = open(SMALL)) {
      fill(store, 60);
      bases = store.segmentBaseOffsets();
    }
    assertTrue(bases.size() >= 3);
    long sealed = bases.get(0);
    Files.delete(indexFile(dir(), sealed));
    Path log = logFile(dir(), sealed);
    long batchSize = batch(0, 2, 20).remaining();
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
      file.seek(3 * batchSize + batchSize - 2); // inside the 4th batch: offsets 6 and 7
      file.write(0x42 ^ file.readByte());
    }
    try (FileLogStore store = open(SMALL)) {
      assertEquals(6, store.logEndOffset());
      assertEquals(List.of(sealed), store.segmentBaseOffsets());
      assertFalse(Files.exists(logFile(dir(), bases.get(1))));
      store.append(batch(6, 1));
    }
  }

  @Test
  void sealedSegmentWithAConsistentIndexIsTrustedNotRescanned() throws IOException {
    writeLogAndReadFirstIndex();
    try (RandomAccessFile file = new RandomAccessFile(logFile(dir(), 0).toFile(), "rw")) {
      file.seek(100); // inside the records of the second batch: only a CRC check would notice
      file.write(0x42 ^ file.readByte());
    }
    try (FileLogStore store = open(SMALL)) {
      assertEquals(120, store.logEndOffset(), "like Kafka, only the last segment is CRC-checked on open");
    }
  }

  @Test
  void missingIndexIsRebuiltIdentically() throws IOException {
    byte[] original = writeLogAndReadFirstIndex();
    Files.delete(indexFile(dir(), 0));
    assertIndexRebuiltAs(original);
  }

  @Test
  void garbageIndexIsRebuilt() throws IOException {
    byte[] original = writeLogAndReadFirstIndex();
    Files.write(indexFile(dir(), 0), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
    assertIndexRebuiltAs(original);
  }

  @Test
  void indexPointingPastTheLogIsRebuilt() throws IOException {
    byte[] original = writeLogAndReadFirstIndex();
    ByteBuffer bad = ByteBuffer.allocate(original.length + 8).put(original).putInt(10_000).putInt(1_000_000);
    Files.write(indexFile(dir(), 0), bad.array());
    assertIndexRebuiltAs(original);
  }

  @Test
  void indexWhoseLastEntryNamesTheWrongBatchIsRebuilt() throws IOException {
    byte[] original = writeLogAndReadFirstIndex();
    ByteBuffer bad = ByteBuffer.wrap(original.clone());
    int last = original.length - 8;
    bad.putInt(last, bad.getInt(last) + 1); // same position, offset one higher than the batch there
    Files.write(indexFile(dir(), 0), bad.array());
    assertIndexRebuiltAs(original);
  }

  @Test
  void shortIndexOfASealedSegmentIsCompleted() throws IOException {
    byte[] original = writeLogAndReadFirstIndex();
    Files.write(indexFile(dir(), 0), Arrays.copyOf(original, 8)); // entries lost after the first
    assertIndexRebuiltAs(original);
  }

  /** Writes three segments with an index entry every batch or so; returns the first index's bytes. */
  private byte[] writeLogAndReadFirstIndex() throws IOException {
    try (FileLogStore store = open(SMALL)) {
      fill(store, 60);
      assertTrue(store.segmentBaseOffsets().size() >= 3);
    }
    byte[] index = Files.readAllBytes(indexFile(dir(), 0));
    assertTrue(index.length >= 3 * OffsetIndex.ENTRY_SIZE, "test needs several index entries");
    return index;
  }

  private void assertIndexRebuiltAs(byte[] original) throws IOException {
    try (FileLogStore store = open(SMALL)) {
      assertEquals(120, store.logEndOffset());
      for (long offset = 0; offset < 120; offset++) {
        assertStartsWithBatchContaining(parseWholeBatches(store.read(offset, 1)), offset);
      }
    }
    assertArrayEquals(original, Files.readAllBytes(indexFile(dir(), 0)));
  }

  @Test
  void indexLookupsFindTheRightBatchAmongManySmallOnes() throws IOException {
    LogStoreConfig config = new LogStoreConfig(1 << 20, 128);
    for (int round = 0; round < 2; round++) { // written, then reopened with the index trusted
      try (FileLogStore store = open(config)) {
        if (round == 0) {
          for (int i = 0; i < 1000; i++) {
            store.append(batch(store.logEndOffset(), 1 + i % 3, 5));
          }
        }
        long end = store.logEndOffset();
        assertEquals(1999, end);
        for (long offset = 0; offset < end; offset++) {
          List<MutableRecordBatch> batches = parseWholeBatches(store.read(offset, 1));
          assertEquals(1, batches.size());
          assertStartsWithBatchContaining(batches, offset);
        }
      }
      assertTrue(Files.size(indexFile(dir(), 0)) >= 100 * OffsetIndex.ENTRY_SIZE, "index is populated");
    }
  }

  @Test
  void truncateFromAcrossSegmentsDeletesLaterSegmentFilesAndSurvivesReopen() throws IOException {
    List<Long> bases;
    try (FileLogStore store = open(SMALL)) {
      fill(store, 60);
      bases = store.segmentBaseOffsets();
      long cut = bases.get(1) + 4;
      store.truncateFrom(cut);
      assertEquals(List.of(bases.get(0), bases.get(1)), store.segmentBaseOffsets());
      for (long base : bases.subList(2, bases.size())) {
        assertFalse(Files.exists(logFile(dir(), base)));
        assertFalse(Files.exists(indexFile(dir(), base)));
      }
      fill(store, 1);
    }
    try (FileLogStore store = open(SMALL)) {
      assertEquals(bases.get(1) + 6, store.logEndOffset());
      assertStartsWithBatchContaining(readAll(store, bases.get(1) + 5), bases.get(1) + 5);
    }
  }

  @Test
  void truncateFromASegmentBaseLeavesItEmptyAndActive() throws IOException {
    try (FileLogStore store = open(SMALL)) {
      fill(store, 60);
      List<Long> bases = store.segmentBaseOffsets();
      long cut = bases.get(1);
      store.truncateFrom(cut);
      assertEquals(cut, store.logEndOffset());
      assertEquals(0, Files.size(logFile(dir(), cut)));
      fill(store, 1);
      assertEquals(bases.subList(0, 2), store.segmentBaseOffsets());
    }
  }

  @Test
  void deleteBeforeDeletesWholeSegmentsBelowTheOffsetOnly() throws IOException {
    try (FileLogStore store = open(SMALL)) {
      fill(store, 60);
      List<Long> bases = store.segmentBaseOffsets();
      assertTrue(bases.size() >= 3);
      long secondBase = bases.get(1);
      assertEquals(0, store.deleteBefore(secondBase - 1), "segment 0 still holds offset secondBase - 1");
      assertEquals(secondBase, store.deleteBefore(secondBase));
      assertFalse(Files.exists(logFile(dir(), 0)));
      assertFalse(Files.exists(indexFile(dir(), 0)));
      long activeBase = bases.get(bases.size() - 1);
      assertEquals(activeBase, store.deleteBefore(Long.MAX_VALUE));
      assertEquals(List.of(activeBase), store.segmentBaseOffsets());
    }
  }

  @Test
  void openRefusesSegmentsWithAGap() throws IOException {
    List<Long> bases;
    try (FileLogStore store = open(SMALL)) {
      fill(store, 60);
      bases = store.segmentBaseOffsets();
    }
    Files.delete(logFile(dir(), bases.get(1)));
    IOException e = assertThrows(IOException.class, () -> open(SMALL));
    assertTrue(e.getMessage().contains("not contiguous"), e.getMessage());
  }

  @Test
  void orphanIndexFilesAreRemovedOnOpen() throws IOException {
    try (FileLogStore store = open(SMALL)) {
      fill(store, 3);
    }
    Path orphan = indexFile(dir(), 12345);
    Files.write(orphan, new byte[8]);
    try (FileLogStore store = open(SMALL)) {
      assertEquals(6, store.logEndOffset());
    }
    assertFalse(Files.exists(orphan));
  }

  @Test
  void anInterruptedReaderDoesNotBreakTheStore() throws IOException {
    try (FileLogStore store = open(SMALL)) {
      fill(store, 30);
      ByteBuffer expected = store.read(0, Integer.MAX_VALUE);
      Thread.currentThread().interrupt(); // as when a fetch is cancelled mid-read
      try {
        assertThrows(ClosedByInterruptException.class, () -> store.read(0, Integer.MAX_VALUE));
      } finally {
        Thread.interrupted();
      }
      assertEquals(expected, store.read(0, Integer.MAX_VALUE));
      fill(store, 1);
      store.flush();
      assertEquals(62, store.logEndOffset());
    }
  }

  @Test
  void flushedDataIsOnDisk() throws IOException {
    try (FileLogStore store = open(SMALL)) {
      store.append(batch(0, 2));
      store.flush();
      assertEquals(batch(0, 2).remaining(), Files.size(logFile(dir(), 0)));
    }
  }

  @Test
  void deleteAllRemovesTheDirectory() throws IOException {
    FileLogStore store = open(SMALL);
    fill(store, 60);
    store.deleteAll();
    assertFalse(Files.exists(dir()));
    assertThrows(IllegalStateException.class, () -> store.read(0, 10));
    try (FileLogStore fresh = open(SMALL)) {
      assertEquals(0, fresh.logEndOffset());
    }
  }

  @Test
  void configValidatesAndHasDocumentedDefaults() {
    assertEquals(64 * 1024 * 1024, LogStoreConfig.DEFAULT.segmentBytes());
    assertEquals(4096, LogStoreConfig.DEFAULT.indexIntervalBytes());
    assertThrows(IllegalArgumentException.class, () -> new LogStoreConfig(0, 4096));
    assertThrows(IllegalArgumentException.class, () -> new LogStoreConfig(1024, -1));
    assertEquals(new LogStoreConfig(1024, 4096), LogStoreConfig.DEFAULT.withSegmentBytes(1024));
  }
}
