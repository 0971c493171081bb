package io.raftlog.statemachine.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The records of one partition replica: Kafka record batches (magic v2) kept in offset order.
 *
 * <p>Batches are stored exactly as appended (the v2 batch header carries base offset, record
 * count, producer id/epoch/sequence and a CRC32C), so a fetch can return stored bytes without
 * re-encoding.
 *
 * <p>Threading: a single writer thread (the partition's Raft apply thread) calls {@link #append},
 * {@link #flush}, {@link #truncateFrom} and {@link #deleteBefore}; any number of reader threads
 * may call {@link #read}, {@link #logStartOffset} and {@link #logEndOffset} concurrently. A batch
 * is visible to readers once {@code append} returns.
 */
public interface LogStore extends Closeable {

  /** Offset of the first record kept; 0 for a new log. */
  long logStartOffset();

  /** Offset the next appended batch must start at: last stored offset + 1, or the start offset when empty. */
  long logEndOffset();

  /**
   * Appends one valid v2 record batch (position to limit of {@code batch}) whose base offset is
   * {@link #logEndOffset()}. The data is readable on return and durable after the next
   * {@link #flush()}.
   *
   * @throws IllegalArgumentException if the batch is not a single valid v2 batch or its base offset
   *     is not the log end offset
   */
  void append(ByteBuffer batch) throws IOException;

  /**
   * Reads whole batches, starting with the batch that contains {@code offset}, until adding the next
   * batch would exceed {@code maxBytes}; the first batch is always returned whole even when it is
   * larger. The first returned batch may start before {@code offset}: callers skip records below it.
   *
   * @return the concatenated batches; empty when {@code offset == logEndOffset()}
   * @throws OffsetOutOfRangeException if {@code offset < logStartOffset()} or {@code offset > logEndOffset()}
   */
  ByteBuffer read(long offset, int maxBytes) throws IOException;

  /** Makes everything appended so far durable (fsync of data and index). */
  void flush() throws IOException;

  /**
   * Removes every batch whose base offset is {@code >= offset}; afterwards {@code logEndOffset()}
   * is the end of the last batch kept. {@code offset} must be a batch boundary.
   */
  void truncateFrom(long offset) throws IOException;

  /**
   * Retention: deletes whole segments whose records all lie below {@code offset} and raises the
   * log start offset to the base offset of the first segment kept. Never deletes the active segment.
   *
   * @return the new log start offset
   */
  long deleteBefore(long offset) throws IOException;

  /**
   * Retention: raises the log start offset to {@code offset} (at most the log end offset), so reads
   * below it fail with {@link OffsetOutOfRangeException}, and deletes the segments that lie wholly
   * below it (never the active one). The start may fall inside a segment, which is kept whole. The
   * raised start is not persisted by the store: reopened, the log starts at its first kept segment,
   * and the owner raises it again (the partition state machine keeps the log start in its snapshot
   * and its Raft log, so every replica has the same start whatever its segment boundaries).
   *
   * @return the new log start offset
   */
  long advanceLogStart(long offset) throws IOException;

  /**
   * One segment as retention sees it.
   *
   * @param maxTimestamp the largest batch max timestamp in the segment; -1 when it holds none
   */
  record SegmentInfo(long baseOffset, long nextOffset, long sizeBytes, long maxTimestamp) {
  }

  /**
   * The segments, oldest first; the last one is the active segment. May read the batch headers of
   * segments opened from disk once (the result is remembered).
   */
  List<SegmentInfo> segments() throws IOException;

  /**
   * Changes the size at which the active segment is rolled (a topic's {@code segment.bytes});
   * applies from the next append on. Stores without segments may ignore it.
   *
   * @throws IllegalArgumentException if not positive
   */
  void setSegmentBytes(int segmentBytes);

  /**
   * Changes the age at which the active segment is rolled (a topic's {@code segment.ms}): a batch
   * whose max timestamp is more than this after the max timestamp of the segment's first batch goes
   * to a new segment, as in Kafka. Record timestamps, not the local clock, decide, so replicas of
   * the same records roll alike. Stores without segments may ignore it.
   *
   * @throws IllegalArgumentException if not positive
   */
  void setSegmentMs(long segmentMs);

  /**
   * Removes every batch and starts an empty log at {@code startOffset}: a replica that takes its
   * state from another replica's snapshot and copies the records after it.
   */
  void resetTo(long startOffset) throws IOException;

  /** Deletes every file of this log. The store is closed afterwards. */
  void deleteAll() throws IOException;
}
