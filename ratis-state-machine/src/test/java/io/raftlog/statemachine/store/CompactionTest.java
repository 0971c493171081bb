package io.raftlog.statemachine.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Log compaction of a {@link FileLogStore}: Kafka's keep-the-latest-per-key rule, offsets preserved. */
class CompactionTest {

  private static final LogStoreConfig SMALL = new LogStoreConfig(1024, 256);
  private static final long DAY = 86_400_000L;
  private static final Compaction.Policy EAGER = new Compaction.Policy(0.0, 0, DAY, 1_000_000);

  @TempDir
  Path dir;

  /** A batch of keyed records at {@code base}; a null value is a tombstone. */
  private static ByteBuffer keyed(long base, long timestamp, String... keysAndValues) {
    SimpleRecord[] records = new SimpleRecord[keysAndValues.length / 2];
    for (int i = 0; i < records.length; i++) {
      String key = keysAndValues[2 * i];
      String value = keysAndValues[2 * i + 1];
      records[i] = new SimpleRecord(timestamp, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
          value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }
    return MemoryRecords.withRecords(base, Compression.NONE, records).buffer();
  }

  /** Offset to "key=value" of every record in the log; checks batches are whole and contiguous. */
  private static TreeMap<Long, String> contents(LogStore store) throws IOException {
    TreeMap<Long, String> out = new TreeMap<>();
    ByteBuffer all = store.read(store.logStartOffset(), Integer.MAX_VALUE);
    long expectedBase = store.logStartOffset();
    for (MutableRecordBatch batch : MemoryRecords.readableRecords(all).batches()) {
      batch.ensureValid();
      assertEquals(expectedBase, batch.baseOffset(), "batches stay contiguous in offsets");
      expectedBase = batch.nextOffset();
      for (Record r : batch) {
        out.put(r.offset(), text(r.key()) + "=" + text(r.value()));
      }
    }
    assertEquals(store.logEndOffset(), expectedBase);
    return out;
  }

  private static String text(ByteBuffer b) {
    if (b == null) {
      return "null";
    }
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** Appends the batches, one per call, each 300+ bytes so every few roll a 1 KiB segment. */
  private static long appendUpdates(FileLogStore store, int rounds, List<String> keys, long timestamp) throws IOException {
    for (int round = 0; round < rounds; round++) {
      List<String> kv = new ArrayList<>();
      for (String key : keys) {
        kv.add(key);
        kv.add(key + "-v" + round + "-" + "x".repeat(40));
      }
      store.append(keyed(store.logEndOffset(), timestamp, kv.toArray(String[]::new)));
    }
    return store.logEndOffset();
  }

  @Test
  void keepsOnlyTheLatestRecordPerKeyInSealedSegmentsAndPreservesOffsets() throws IOException {
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      long end = appendUpdates(store, 12, List.of("a", "b", "c"), 1_000);
      TreeMap<Long, String> before = contents(store);
      long activeBase = store.segmentBaseOffsets().get(store.segmentBaseOffsets().size() - 1);
      long bytesBefore = store.segments().stream().mapToLong(LogStore.SegmentInfo::sizeBytes).sum();

      Compaction.Result result = store.compact(EAGER, 2_000);

      assertNotNull(result);
      assertTrue(result.segmentsRewritten() > 0, result.toString());
      assertEquals(activeBase, result.cleanedUpTo(), "everything sealed was cleaned");
      TreeMap<Long, String> after = contents(store);
      assertEquals(end, store.logEndOffset());
      // Below the active segment, each key appears once, at its latest offset in the cleaned range;
      // the active segment is untouched.
      Map<String, Long> latestBelowActive = new LinkedHashMap<>();
      before.headMap(activeBase).forEach((offset, kv) -> latestBelowActive.put(kv.split("=")[0], offset));
      for (Map.Entry<Long, String> e : before.entrySet()) {
        long offset = e.getKey();
        String key = e.getValue().split("=")[0];
        boolean kept = offset >= activeBase || latestBelowActive.get(key) == offset;
        assertEquals(kept, after.containsKey(offset), "offset " + offset + " (" + e.getValue() + ")");
        if (kept) {
          assertEquals(e.getValue(), after.get(offset), "a kept record keeps its offset and content");
        }
      }
      long bytesAfter = store.segments().stream().mapToLong(LogStore.SegmentInfo::sizeBytes).sum();
      assertTrue(bytesAfter < bytesBefore, bytesAfter + " < " + bytesBefore);
      // Reads from an offset whose record is gone return the batch that held it (now without it).
      long removed = before.headMap(activeBase).keySet().stream().filter(o -> !after.containsKey(o)).findFirst().orElseThrow();
      assertTrue(store.read(removed, 1).remaining() > 0);
    }
    // Reopened: the cleaned segments load (index rebuilt where needed) and nothing is dirty.
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      assertNull(store.compact(EAGER, 3_000), "nothing written since the last cleaning");
      contents(store);
    }
  }

  @Test
  void recordsWithoutKeyAreRemovedAndTombstonesOnlyAfterTheDeleteRetention() throws IOException {
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      store.append(keyed(0, 1_000, "k", "v1" + "x".repeat(300), null, "keyless" + "y".repeat(300)));
      store.append(keyed(store.logEndOffset(), 1_000, "k", null, "other", "o" + "z".repeat(300)));
      store.append(keyed(store.logEndOffset(), 1_000, "last", "l".repeat(600)));
      store.append(keyed(store.logEndOffset(), 1_000, "active", "a"));
      assertTrue(store.segmentBaseOffsets().size() >= 2);
      long activeBase = store.segmentBaseOffsets().get(store.segmentBaseOffsets().size() - 1);

      store.compact(EAGER, 10_000);
      TreeMap<Long, String> first = contents(store);
      assertFalse(first.containsValue("k=v1" + "x".repeat(300)), "superseded by the tombstone");
      assertFalse(first.values().stream().anyMatch(v -> v.startsWith("null=")), "keyless record removed");
      assertTrue(first.containsValue("k=null"), "the tombstone stays for delete.retention.ms");

      // More writes so that the log is dirty again; a cleaning a day later removes the tombstone.
      store.append(keyed(store.logEndOffset(), 2_000, "more", "m".repeat(1100)));
      store.append(keyed(store.logEndOffset(), 2_000, "active2", "b"));
      Compaction.Result later = store.compact(EAGER, 10_000 + DAY);
      assertNotNull(later);
      TreeMap<Long, String> second = contents(store);
      assertFalse(second.containsValue("k=null"), "tombstone removed after delete.retention.ms");
      assertTrue(second.containsValue("other=o" + "z".repeat(300)));
      assertTrue(second.containsValue("last=" + "l".repeat(600)));
      assertTrue(second.firstKey() >= 0 && second.lastKey() == store.logEndOffset() - 1);
      assertTrue(activeBase <= later.cleanedUpTo());
    }
  }

  @Test
  void respectsTheDirtyRatioAndTheCompactionLag() throws IOException {
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      appendUpdates(store, 12, List.of("a", "b", "c"), 5_000);
      assertNull(store.compact(new Compaction.Policy(0.5, 10_000, DAY, 1_000_000), 6_000),
          "records younger than min.compaction.lag.ms are not cleaned");
      assertNotNull(store.compact(new Compaction.Policy(0.5, 0, DAY, 1_000_000), 6_000));
      appendUpdates(store, 1, List.of("a"), 5_000);
      assertNull(store.compact(new Compaction.Policy(0.9, 0, DAY, 1_000_000), 6_000),
          "too little written since the last cleaning");
    }
  }

  @Test
  void aSegmentRemovedByRetentionMeanwhileIsNotSwappedBackIn() throws IOException {
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      appendUpdates(store, 12, List.of("a", "b", "c"), 1_000);
      List<LogSegment> sealed = store.sealedSegments();
      LogSegment first = sealed.get(0);
      int size = first.size();
      store.deleteBefore(first.nextOffset());
      Path copy = Files.createDirectories(store.cleaningDirectory()).resolve(first.logPath().getFileName());
      Files.write(copy, new byte[0]);
      assertFalse(store.swapInCleaned(List.of(first, sealed.get(1)), List.of(size, sealed.get(1).size()), copy,
          store.cleaningDirectory()));
      assertEquals(sealed.get(1).baseOffset(), store.logStartOffset());
      contents(store);
    }
  }

  @Test
  void smallCleanedSegmentsAreMergedUpToTheSegmentSize() throws IOException {
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      appendUpdates(store, 30, List.of("a", "b", "c"), 1_000);
      // The first cleaning shrinks the full segments; the next one merges the small results.
      store.compact(EAGER, 2_000);
      appendUpdates(store, 10, List.of("a", "b", "c"), 1_000);
      int before = store.segmentBaseOffsets().size();
      TreeMap<Long, String> all = contents(store);
      store.compact(EAGER, 2_000);
      int after = store.segmentBaseOffsets().size();
      assertTrue(after < before, "merged: " + before + " segments before, " + after + " after");
      for (LogStore.SegmentInfo s : store.segments()) {
        assertTrue(s.sizeBytes() <= SMALL.segmentBytes() || s.nextOffset() - s.baseOffset() == 1, s.toString());
      }
      TreeMap<Long, String> cleaned = contents(store);
      assertTrue(all.entrySet().containsAll(cleaned.entrySet()), "only removals, offsets kept");
    }
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      contents(store);
    }
  }

  @Test
  void aMergeInterruptedBeforeItDeletedTheMergedSegmentsIsFinishedOnOpen() throws IOException {
    Path saved = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-saved"));
    TreeMap<Long, String> cleaned;
    List<Long> basesAfter;
    List<Long> basesBefore;
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      appendUpdates(store, 30, List.of("a", "b", "c"), 1_000);
      store.compact(EAGER, 2_000);
      appendUpdates(store, 10, List.of("a", "b", "c"), 1_000);
      basesBefore = store.segmentBaseOffsets();
      for (long base : basesBefore) {
        for (String suffix : List.of(LogSegment.LOG_SUFFIX, LogSegment.INDEX_SUFFIX)) {
          Files.copy(dir.resolve(LogSegment.fileName(base, suffix)), saved.resolve(LogSegment.fileName(base, suffix)));
        }
      }
      store.compact(EAGER, 2_000);
      basesAfter = store.segmentBaseOffsets();
      cleaned = contents(store);
    }
    // Put back the segments the merge had deleted, as if the broker died right after the rename.
    int putBack = 0;
    for (long base : basesBefore) {
      if (!basesAfter.contains(base)) {
        for (String suffix : List.of(LogSegment.LOG_SUFFIX, LogSegment.INDEX_SUFFIX)) {
          Files.copy(saved.resolve(LogSegment.fileName(base, suffix)), dir.resolve(LogSegment.fileName(base, suffix)));
        }
        putBack++;
      }
    }
    assertTrue(putBack > 0, "the compaction merged segments");
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      assertEquals(basesAfter, store.segmentBaseOffsets());
      assertEquals(cleaned, contents(store));
    }
  }

  @Test
  void leftoversOfAnInterruptedCleaningAreDeletedOnOpen() throws IOException {
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      appendUpdates(store, 6, List.of("a"), 1_000);
    }
    Path cleaning = Files.createDirectories(dir.resolve(FileLogStore.CLEANING_DIR));
    Files.write(cleaning.resolve(LogSegment.fileName(0, LogSegment.LOG_SUFFIX)), new byte[100]);
    try (FileLogStore store = FileLogStore.open(dir, SMALL)) {
      assertFalse(Files.exists(cleaning));
      assertEquals(6, contents(store).size());
    }
  }
}
