package io.raftlog.statemachine.store;

import io.raftlog.statemachine.store.StoredBatches.BatchInfo;
import io.raftlog.statemachine.store.StoredBatches.InvalidBatchException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * {@link LogStore} held in memory, for tests of the layers above the store. Same contract and
 * validation as {@link FileLogStore}; nothing survives {@link #close()}.
 *
 * <p>Each batch plays the role of a segment: {@link #deleteBefore} drops whole batches that lie
 * below the given offset, but always keeps the newest batch, just as the file store keeps its
 * active segment.
 *
 * <p>Threading mirrors {@link FileLogStore}: appends publish through the volatile log end offset,
 * and operations that remove batches exclude readers with a write lock.
 */
public final class MemoryLogStore implements LogStore {
  /** Read-only copies of the appended batches, keyed by base offset. */
  private final ConcurrentSkipListMap<Long, ByteBuffer> batches = new ConcurrentSkipListMap<>();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile long logStartOffset;
  private volatile long logEndOffset;
  private volatile boolean closed;

  /** An empty log starting at offset 0. */
  public MemoryLogStore() {
    this(0);
  }

  /** An empty log whose first offset is {@code startOffset}, as after a restore from snapshot. */
  public MemoryLogStore(long startOffset) {
    if (startOffset < 0) {
      throw new IllegalArgumentException("startOffset must not be negative, got " + startOffset);
    }
    this.logStartOffset = startOffset;
    this.logEndOffset = startOffset;
  }

  @Override
  public long logStartOffset() {
    return logStartOffset;
  }

  @Override
  public long logEndOffset() {
    return logEndOffset;
  }

  @Override
  public void append(ByteBuffer batch) {
    ensureOpen();
    BatchInfo info;
    try {
      info = StoredBatches.validateSingleBatch(batch);
    } catch (InvalidBatchException e) {
      throw new IllegalArgumentException("rejected batch: " + e.getMessage());
    }
    if (info.baseOffset() != logEndOffset) {
      throw new IllegalArgumentException("rejected batch: base offset " + info.baseOffset()
          + " is not the log end offset " + logEndOffset);
    }
    ByteBuffer copy = ByteBuffer.allocate(info.sizeInBytes()).put(batch.duplicate()).flip();
    batches.put(info.baseOffset(), copy.asReadOnlyBuffer());
    logEndOffset = info.nextOffset(); // publishes the batch
  }

  @Override
  public ByteBuffer read(long offset, int maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative, got " + maxBytes);
    }
    lock.readLock().lock();
    try {
      return readLocked(offset, maxBytes);
    } finally {
      lock.readLock().unlock();
    }
  }

  private ByteBuffer readLocked(long offset, int maxBytes) {
    ensureOpen();
    long start = logStartOffset;
    long end = logEndOffset;
    if (offset < start || offset > end) {
      throw new OffsetOutOfRangeException(offset, start, end);
    }
    List<ByteBuffer> selected = new ArrayList<>();
    long total = 0;
    Map.Entry<Long, ByteBuffer> first = batches.floorEntry(offset);
    if (offset < end && first != null) {
      for (ByteBuffer batch : batches.tailMap(first.getKey(), true).headMap(end, false).values()) {
        if (total > 0 && total + batch.remaining() > maxBytes) {
          break;
        }
        selected.add(batch);
        total += batch.remaining();
      }
    }
    ByteBuffer result = ByteBuffer.allocate((int) total);
    for (ByteBuffer batch : selected) {
      result.put(batch.duplicate());
    }
    return result.flip();
  }

  /** Nothing to make durable. */
  @Override
  public void flush() {
    ensureOpen();
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException if {@code offset} is outside [log start offset, log end
   *     offset] or is not the base offset of a stored batch
   */
  @Override
  public void truncateFrom(long offset) {
    lock.writeLock().lock();
    try {
      truncateLocked(offset);
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void truncateLocked(long offset) {
    ensureOpen();
    if (offset == logEndOffset) {
      return;
    }
    if (offset < logStartOffset || offset > logEndOffset) {
      throw new IllegalArgumentException("cannot truncate from " + offset + ": outside the log ["
          + logStartOffset + ", " + logEndOffset + "]");
    }
    if (!batches.containsKey(offset)) {
      throw new IllegalArgumentException("cannot truncate from " + offset
          + ": not a batch boundary (the batch containing it starts at " + batches.floorKey(offset) + ")");
    }
    batches.tailMap(offset, true).clear();
    logEndOffset = offset;
  }

  @Override
  public long deleteBefore(long offset) {
    lock.writeLock().lock();
    try {
      ensureOpen();
      // Drop the oldest batch while it is not the newest one and lies wholly below offset.
      while (batches.size() > 1) {
        long oldest = batches.firstKey();
        long next = batches.higherKey(oldest);
        if (next > offset) {
          break;
        }
        batches.remove(oldest);
        logStartOffset = Math.max(logStartOffset, next);
      }
      return logStartOffset;
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public long advanceLogStart(long offset) {
    lock.writeLock().lock();
    try {
      deleteBefore(offset);
      long raised = Math.min(offset, logEndOffset);
      if (raised > logStartOffset) {
        logStartOffset = raised;
      }
      return logStartOffset;
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public void resetTo(long startOffset) {
    if (startOffset < 0) {
      throw new IllegalArgumentException("startOffset must not be negative, got " + startOffset);
    }
    lock.writeLock().lock();
    try {
      ensureOpen();
      batches.clear();
      logStartOffset = startOffset;
      logEndOffset = startOffset;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Each batch is a segment of its own here: nothing to change. */
  @Override
  public void setSegmentBytes(int segmentBytes) {
    if (segmentBytes <= 0) {
      throw new IllegalArgumentException("segmentBytes must be positive, got " + segmentBytes);
    }
  }

  @Override
  public void setSegmentMs(long segmentMs) {
    if (segmentMs <= 0) {
      throw new IllegalArgumentException("segmentMs must be positive, got " + segmentMs);
    }
  }

  /** Each batch plays the role of a segment. */
  @Override
  public List<SegmentInfo> segments() {
    lock.readLock().lock();
    try {
      ensureOpen();
      List<SegmentInfo> out = new ArrayList<>(batches.size());
      for (ByteBuffer batch : batches.values()) {
        BatchInfo info;
        try {
          info = StoredBatches.parseHeader(batch.duplicate(), 0, batch.remaining());
        } catch (InvalidBatchException e) {
          throw new IllegalStateException("stored batch no longer parses: " + e.getMessage(), e);
        }
        out.add(new SegmentInfo(info.baseOffset(), info.nextOffset(), info.sizeInBytes(), info.maxTimestamp()));
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void deleteAll() {
    lock.writeLock().lock();
    try {
      closed = true;
      batches.clear();
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      closed = true;
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("log store is closed");
    }
  }
}
