package io.raftlog.statemachine.store;

import io.raftlog.statemachine.store.StoredBatches.BatchInfo;
import io.raftlog.statemachine.store.StoredBatches.InvalidBatchException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecords.RecordFilter;
import org.apache.kafka.common.record.internal.MemoryRecords.RecordFilter.BatchRetention;
import org.apache.kafka.common.record.internal.MemoryRecords.RecordFilter.BatchRetentionResult;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/**
 * One cleaning of a {@link FileLogStore} (the rules are in {@link Compaction}). Runs on a cleaner
 * thread, not the log's writer: it reads sealed segments through the store's read lock, writes
 * each cleaned copy to {@code .cleaning/} beside them, and swaps it in under the store's write
 * lock only if the segment is still there unchanged (retention or a truncation may have removed
 * it meanwhile; the copy is then dropped).
 *
 * <p>Two passes, as in Kafka: the first reads the dirty segments (those written since the last
 * cleaning) and remembers, per key digest, the offset of the key's latest record; the second
 * rewrites every cleanable segment up to the end of what the first pass indexed.
 */
final class LogCompactor {

  /** Bytes of whole batches read at a time; the first batch of a chunk is read whole even if larger. */
  private static final int CHUNK_BYTES = 1 << 20;

  private final FileLogStore store;
  private final Compaction.Policy policy;
  private final long nowMs;
  private final MessageDigest md5;
  private final BufferSupplier buffers = BufferSupplier.create();

  LogCompactor(FileLogStore store, Compaction.Policy policy, long nowMs) {
    this.store = store;
    this.policy = policy;
    this.nowMs = nowMs;
    try {
      this.md5 = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no MD5", e);
    }
  }

  /** The 16-byte digest of a key (Kafka's cleaner keys its offset map the same way). */
  private record KeyDigest(long high, long low) {}

  /** @return what was done, or null when nothing was due */
  Compaction.Result run() throws IOException {
    List<LogSegment> cleanable = cleanableSegments();
    if (cleanable.isEmpty()) {
      return null;
    }
    long firstDirty = Math.max(store.cleanedUpTo(), cleanable.get(0).baseOffset());
    long cleanBytes = 0;
    long dirtyBytes = 0;
    List<LogSegment> dirty = new ArrayList<>();
    for (LogSegment s : cleanable) {
      if (s.nextOffset() <= firstDirty) {
        cleanBytes += s.size();
      } else {
        dirtyBytes += s.size();
        dirty.add(s);
      }
    }
    if (dirty.isEmpty() || dirtyBytes < policy.minCleanableDirtyRatio() * (cleanBytes + dirtyBytes)) {
      return null;
    }

    Map<KeyDigest, Long> latest = new HashMap<>();
    long indexedUpTo = firstDirty;
    for (LogSegment s : dirty) {
      indexKeys(s, latest);
      indexedUpTo = s.nextOffset();
      if (latest.size() >= policy.maxKeys()) {
        break; // the rest is cleaned by the next pass
      }
    }

    int rewritten = 0;
    long before = 0;
    long after = 0;
    long[] records = new long[2]; // read, removed
    List<LogSegment> toClean = new ArrayList<>();
    for (LogSegment s : cleanable) {
      if (s.nextOffset() > indexedUpTo) {
        break;
      }
      toClean.add(s);
    }
    for (List<LogSegment> group : groupsToMerge(toClean, store.segmentBytes())) {
      long sizeBefore = group.stream().mapToLong(LogSegment::size).sum();
      long sizeAfter = rewrite(group, latest, records);
      if (sizeAfter >= 0) {
        rewritten += group.size();
        before += sizeBefore;
        after += sizeAfter;
      }
    }
    store.setCleanedUpTo(indexedUpTo);
    return new Compaction.Result(rewritten, before, after, records[0], records[1], indexedUpTo);
  }

  /**
   * Consecutive segments whose sizes add up to at most {@code segmentBytes} are cleaned into one
   * (Kafka does the same): otherwise a compacted partition would keep one file pair, and three open
   * file handles, per segment it ever sealed, however small cleaning made it. Sizes before
   * cleaning are used, so a merged segment never exceeds a segment's size; its offsets must fit
   * the index's int32 relative offsets.
   */
  static List<List<LogSegment>> groupsToMerge(List<LogSegment> segments, int segmentBytes) {
    List<List<LogSegment>> groups = new ArrayList<>();
    List<LogSegment> current = new ArrayList<>();
    long bytes = 0;
    for (LogSegment s : segments) {
      boolean fits = !current.isEmpty() && bytes + s.size() <= segmentBytes
          && s.nextOffset() - 1 - current.get(0).baseOffset() <= Integer.MAX_VALUE;
      if (!current.isEmpty() && !fits) {
        groups.add(current);
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(s);
      bytes += s.size();
    }
    if (!current.isEmpty()) {
      groups.add(current);
    }
    return groups;
  }

  /** Sealed segments, oldest first, up to the first one with records newer than min.compaction.lag.ms. */
  private List<LogSegment> cleanableSegments() throws IOException {
    List<LogSegment> out = new ArrayList<>();
    long lagCutoff = nowMs - policy.minCompactionLagMs();
    for (LogSegment s : store.sealedSegments()) {
      if (policy.minCompactionLagMs() > 0 && s.maxTimestamp() > lagCutoff) {
        break;
      }
      out.add(s);
    }
    return out;
  }

  private void indexKeys(LogSegment segment, Map<KeyDigest, Long> latest) throws IOException {
    forEachChunk(segment, chunk -> {
      for (MutableRecordBatch batch : MemoryRecords.readableRecords(chunk).batches()) {
        if (batch.isControlBatch()) {
          continue;
        }
        for (Record r : batch) {
          if (r.hasKey()) {
            latest.merge(digest(r.key()), r.offset(), Math::max);
          }
        }
      }
      return true;
    });
  }

  /**
   * Writes the cleaned copy of a group of consecutive segments, as one segment based at the first
   * one's base offset, and swaps it in for them.
   *
   * @return the new size, or -1 when the segments were left as they were (a single segment with
   *     nothing to remove, or one of them changed or went away while being cleaned)
   */
  private long rewrite(List<LogSegment> group, Map<KeyDigest, Long> latest, long[] records) throws IOException {
    Path cleaningDir = store.cleaningDirectory();
    Files.createDirectories(cleaningDir);
    RecordFilter filter = new KeepLatest(latest, nowMs, policy.deleteRetentionMs());
    long base = group.get(0).baseOffset();
    List<Integer> scannedSizes = group.stream().map(LogSegment::size).toList();
    // Merging segments is a change in itself.
    boolean[] changed = {group.size() > 1};
    long[] counts = new long[2];
    // Left over from a cleaning that failed part-way.
    Files.deleteIfExists(cleaningDir.resolve(LogSegment.fileName(base, LogSegment.LOG_SUFFIX)));
    Files.deleteIfExists(cleaningDir.resolve(LogSegment.fileName(base, LogSegment.INDEX_SUFFIX)));
    LogSegment copy = LogSegment.create(cleaningDir, base, store.config().indexIntervalBytes());
    boolean swapped = false;
    try {
      for (LogSegment segment : group) {
        boolean complete = forEachChunk(segment, chunk -> {
          ByteBuffer original = chunk.duplicate();
          MemoryRecords.FilterResult result = MemoryRecords.readableRecords(chunk)
              .filterTo(filter, ByteBuffer.allocate(chunk.remaining()), buffers, Integer.MAX_VALUE);
          counts[0] += result.messagesRead();
          counts[1] += result.messagesRead() - result.messagesRetained();
          ByteBuffer out = result.outputBuffer().flip();
          // Also a batch rewritten only to stamp its tombstones' delete horizon counts as a change.
          if (!out.duplicate().equals(original)) {
            changed[0] = true;
          }
          appendBatches(copy, out);
          return true;
        });
        if (!complete) {
          return -1;
        }
      }
      if (!changed[0]) {
        return -1;
      }
      copy.flush();
      copy.close();
      swapped = store.swapInCleaned(group, scannedSizes, copy.logPath(), cleaningDir);
      if (swapped) {
        records[0] += counts[0];
        records[1] += counts[1];
        return copy.size();
      }
      return -1;
    } finally {
      if (!swapped) {
        copy.delete();
      }
    }
  }

  private static void appendBatches(LogSegment copy, ByteBuffer out) throws IOException {
    int at = out.position();
    while (at < out.limit()) {
      BatchInfo info;
      try {
        info = StoredBatches.parseHeader(out, at, out.limit() - at);
      } catch (InvalidBatchException e) {
        throw new IOException("cleaning produced an invalid batch: " + e.getMessage(), e);
      }
      copy.append(out.duplicate().position(at).limit(at + info.sizeInBytes()).slice(), info);
      at += info.sizeInBytes();
    }
  }

  @FunctionalInterface
  private interface ChunkConsumer {
    boolean accept(ByteBuffer wholeBatches) throws IOException;
  }

  /** Feeds the segment's batches in chunks of whole batches; false if the segment went away meanwhile. */
  private boolean forEachChunk(LogSegment segment, ChunkConsumer consumer) throws IOException {
    int position = 0;
    int size = segment.size();
    while (position < size) {
      ByteBuffer chunk = store.readSealed(segment, position, CHUNK_BYTES);
      if (chunk == null) {
        return false;
      }
      if (!chunk.hasRemaining()) {
        throw new IOException("no whole batch at position " + position + " of " + segment.logPath());
      }
      position += chunk.remaining();
      if (!consumer.accept(chunk)) {
        return false;
      }
    }
    return true;
  }

  private KeyDigest digest(ByteBuffer key) {
    md5.reset();
    md5.update(key.duplicate());
    ByteBuffer d = ByteBuffer.wrap(md5.digest());
    return new KeyDigest(d.getLong(), d.getLong());
  }

  /** Kafka's cleaning rule for one record; batches always stay, empty if need be (offsets stay contiguous). */
  private final class KeepLatest extends RecordFilter {
    private final Map<KeyDigest, Long> latest;

    KeepLatest(Map<KeyDigest, Long> latest, long nowMs, long deleteRetentionMs) {
      super(nowMs, deleteRetentionMs);
      this.latest = latest;
    }

    @Override
    protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
      return new BatchRetentionResult(BatchRetention.RETAIN_EMPTY, false);
    }

    @Override
    protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
      if (batch.isControlBatch()) {
        return true;
      }
      if (!record.hasKey()) {
        return false;
      }
      Long newest = latest.get(digest(record.key()));
      if (newest != null && record.offset() < newest) {
        return false;
      }
      if (!record.hasValue()) {
        // A tombstone: kept until delete.retention.ms after the cleaning that first saw it (that
        // cleaning stamps the batch's delete horizon).
        OptionalLong horizon = batch.deleteHorizonMs();
        return horizon.isEmpty() || currentTime < horizon.getAsLong();
      }
      return true;
    }
  }
}
