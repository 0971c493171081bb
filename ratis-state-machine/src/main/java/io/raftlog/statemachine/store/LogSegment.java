package io.raftlog.statemachine.store;

import io.raftlog.statemachine.store.StoredBatches.BatchInfo;
import io.raftlog.statemachine.store.StoredBatches.InvalidBatchException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.apache.kafka.common.record.internal.Records;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment of a {@link FileLogStore}: the {@code <base>.log} file of concatenated v2 batches
 * and its {@code <base>.index} sparse offset index.
 *
 * <p>Threading: one writer; readers only touch bytes below {@link #size()}, which the writer
 * publishes (volatile) after the bytes and index entry are written. Truncation and deletion happen
 * while the store excludes readers.
 *
 * <p>Reads go through their own channel: an interrupt during a {@link FileChannel} operation closes
 * the channel, and a reader thread being interrupted (a cancelled fetch) must not break the
 * writer's channel. A read channel closed that way is reopened for the next reader.
 */
final class LogSegment implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(LogSegment.class);

  static final String LOG_SUFFIX = ".log";
  static final String INDEX_SUFFIX = ".index";

  private final long baseOffset;
  private final Path logPath;
  /** Writer's channel: appends, truncation, fsync. */
  private final FileChannel log;
  /** Readers' channel, replaced when an interrupted reader closed it. */
  private volatile FileChannel readChannel;
  private volatile boolean closed;
  private final OffsetIndex index;
  private final int indexIntervalBytes;

  /** Bytes of whole, validated batches; readers never look past it. */
  private volatile int size;
  /** Offset following the last batch of this segment ({@link #baseOffset} when empty). */
  private volatile long nextOffset;
  /** Log bytes appended since the last index entry; decides when the next entry is due. */
  private int bytesSinceLastIndexEntry;
  /**
   * Largest batch max timestamp seen, -1 for none; valid once {@link #maxTimestampKnown}, which a
   * segment opened from its index is not until {@link #maxTimestamp()} walked its headers.
   */
  private volatile long maxTimestamp = -1;
  private volatile boolean maxTimestampKnown;
  /** Max timestamp of the first batch (segment.ms counts from it); -2 until read, -1 for none. */
  private volatile long firstBatchMaxTimestamp = -2;
  /** Set by {@link #open} when there was no index file: the segment then needs {@link #recover()}. */
  private boolean indexMissing;

  private LogSegment(long baseOffset, Path logPath, FileChannel log, FileChannel readChannel,
      OffsetIndex index, int indexIntervalBytes) {
    this.baseOffset = baseOffset;
    this.logPath = logPath;
    this.log = log;
    this.readChannel = readChannel;
    this.index = index;
    this.indexIntervalBytes = indexIntervalBytes;
    this.nextOffset = baseOffset;
  }

  /** File name of a segment: the base offset zero-padded to 20 digits, plus the suffix. */
  static String fileName(long baseOffset, String suffix) {
    return String.format("%020d%s", baseOffset, suffix);
  }

  /** Creates a new, empty segment; fails if its log file already exists. */
  static LogSegment create(Path dir, long baseOffset, int indexIntervalBytes) throws IOException {
    return openFiles(dir, baseOffset, indexIntervalBytes, true);
  }

  /**
   * Opens an existing segment. Its size is not known until {@link #loadFromIndex()} or
   * {@link #recover()} has run; exactly one of them must be called next.
   */
  static LogSegment open(Path dir, long baseOffset, int indexIntervalBytes) throws IOException {
    return openFiles(dir, baseOffset, indexIntervalBytes, false);
  }

  private static LogSegment openFiles(Path dir, long baseOffset, int indexIntervalBytes, boolean create)
      throws IOException {
    Path logPath = dir.resolve(fileName(baseOffset, LOG_SUFFIX));
    Path indexPath = dir.resolve(fileName(baseOffset, INDEX_SUFFIX));
    FileChannel log = create
        ? FileChannel.open(logPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)
        : FileChannel.open(logPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileChannel readChannel = null;
    try {
      readChannel = FileChannel.open(logPath, StandardOpenOption.READ);
      boolean indexMissing = !Files.exists(indexPath);
      OffsetIndex index = create || indexMissing
          ? OffsetIndex.create(indexPath, baseOffset)
          : OffsetIndex.open(indexPath, baseOffset);
      LogSegment segment = new LogSegment(baseOffset, logPath, log, readChannel, index, indexIntervalBytes);
      segment.indexMissing = !create && indexMissing;
      segment.maxTimestampKnown = create;
      return segment;
    } catch (IOException | RuntimeException e) {
      try (FileChannel writer = log; FileChannel reader = readChannel) {
        throw e; // closing what was opened; close failures end up suppressed in e
      }
    }
  }

  /**
   * Fast open of a sealed segment: trusts the index, checks that its last entry points at a batch
   * with the expected base offset, then walks the batch headers after it (no CRC check) to find
   * the segment's end, adding index entries that were not yet written.
   *
   * @return false if the index is missing or inconsistent with the log; call {@link #recover()}
   */
  boolean loadFromIndex() throws IOException {
    if (indexMissing) {
      LOG.warn("Segment {}: index file missing, rebuilding it", logPath);
      return false;
    }
    if (index.loadProblem() != null) {
      LOG.warn("Segment {}: {}, rebuilding the index", logPath, index.loadProblem());
      return false;
    }
    long fileSize = log.size();
    if (fileSize > Integer.MAX_VALUE) {
      LOG.warn("Segment {}: size {} exceeds what the index can address", logPath, fileSize);
      return false;
    }
    int position = index.lastIndexedPosition();
    if (index.entryCount() > 0 && position >= fileSize) {
      LOG.warn("Segment {}: last index entry points at position {} past the log's {} bytes, rebuilding the index",
          logPath, position, fileSize);
      return false;
    }
    long expectedBase = index.entryCount() == 0 ? baseOffset : index.lastIndexedOffset();
    bytesSinceLastIndexEntry = 0;
    try {
      while (position < fileSize) {
        BatchInfo batch = readHeader(position, fileSize);
        if (batch.baseOffset() != expectedBase) {
          throw new InvalidBatchException("base offset " + batch.baseOffset() + " where " + expectedBase + " was expected");
        }
        indexIfDue(batch, position);
        position += batch.sizeInBytes();
        expectedBase = batch.nextOffset();
      }
    } catch (InvalidBatchException e) {
      LOG.warn("Segment {}: index does not match the log at position {} ({}), rebuilding it", logPath, position, e.getMessage());
      return false;
    }
    nextOffset = expectedBase;
    size = position;
    firstBatchMaxTimestamp = -2; // read again if asked: the first batch may be gone
    return true;
  }

  /**
   * Full recovery: reads every batch from the start, checking size bounds, offset continuity and
   * CRC, and rebuilds the index. At the first bad batch the file is truncated there, so bad bytes
   * are never served.
   *
   * @return true if bytes were truncated
   */
  boolean recover() throws IOException {
    index.clear();
    bytesSinceLastIndexEntry = 0;
    long fileSize = log.size();
    int position = 0;
    long expectedBase = baseOffset;
    boolean truncated = false;
    while (position < fileSize) {
      try {
        BatchInfo header = readHeader(position, Math.min(fileSize, Integer.MAX_VALUE));
        if (header.baseOffset() != expectedBase) {
          throw new InvalidBatchException("base offset " + header.baseOffset() + " where " + expectedBase + " was expected");
        }
        BatchInfo batch = StoredBatches.validateSingleBatch(readBytes(position, header.sizeInBytes()));
        indexIfDue(batch, position);
        maxTimestamp = Math.max(maxTimestamp, batch.maxTimestamp());
        position += batch.sizeInBytes();
        expectedBase = batch.nextOffset();
      } catch (InvalidBatchException e) {
        LOG.warn("Segment {}: invalid batch at position {} ({}); truncating {} bytes from there",
            logPath, position, e.getMessage(), fileSize - position);
        log.truncate(position);
        log.force(true);
        truncated = true;
        break;
      }
    }
    index.flush();
    nextOffset = expectedBase;
    size = position;
    firstBatchMaxTimestamp = -2; // read again if asked: the first batch may be gone
    maxTimestampKnown = true;
    return truncated;
  }

  /** Appends a batch already validated by the caller at this segment's end. */
  void append(ByteBuffer batch, BatchInfo info) throws IOException {
    int position = size;
    ByteBuffer data = batch.duplicate();
    long writeAt = position;
    while (data.hasRemaining()) {
      writeAt += log.write(data, writeAt);
    }
    indexIfDue(info, position);
    nextOffset = info.nextOffset();
    maxTimestamp = Math.max(maxTimestamp, info.maxTimestamp());
    if (position == 0) {
      firstBatchMaxTimestamp = info.maxTimestamp();
    }
    size = position + info.sizeInBytes(); // publishes the batch to readers
  }

  /**
   * Adds an index entry for the batch at {@code position} once {@code indexIntervalBytes} of log
   * have accumulated since the previous entry, and accounts for the batch's bytes.
   */
  private void indexIfDue(BatchInfo batch, int position) throws IOException {
    if (bytesSinceLastIndexEntry >= indexIntervalBytes) {
      index.append(batch.baseOffset(), position);
      bytesSinceLastIndexEntry = 0;
    }
    bytesSinceLastIndexEntry += batch.sizeInBytes();
  }

  /**
   * Position of the batch containing {@code offset}, found from the nearest index entry by walking
   * headers; {@link #size()} if no committed batch of this segment contains it.
   */
  int positionOf(long offset) throws IOException {
    int limit = size;
    int position = index.lookup(offset);
    while (position < limit) {
      BatchInfo batch = committedHeader(position, limit);
      if (batch.lastOffset() >= offset) {
        return position;
      }
      position += batch.sizeInBytes();
    }
    return limit;
  }

  /**
   * Reads the whole batches between {@code position} (a batch boundary) and {@code limit} (at most
   * {@link #size()}) that start below {@code endOffset} and fit in {@code maxBytes}; with
   * {@code firstAlways} the first batch is returned even when larger. One positional read, then the
   * headers are walked in memory to drop a trailing partial batch, so a large read costs no
   * per-batch system call.
   *
   * <p>{@code endOffset} is the log end offset the reader checked its offset against: a batch
   * already counted in {@link #size()} but not yet in the log end offset must not be returned,
   * or the caller's next read, at that batch's end, would be out of range.
   */
  ByteBuffer readBatches(int position, int limit, long endOffset, int maxBytes, boolean firstAlways)
      throws IOException {
    if (position >= limit) {
      return ByteBuffer.allocate(0);
    }
    int length = Math.min(limit - position, maxBytes);
    if (firstAlways) {
      length = Math.max(length, committedHeader(position, limit).sizeInBytes());
    }
    ByteBuffer bytes = readBytes(position, length);
    int end = 0;
    while (end + Records.LOG_OVERHEAD <= length && bytes.getLong(end) < endOffset) {
      long batchSize = Records.LOG_OVERHEAD + (long) bytes.getInt(end + Records.SIZE_OFFSET);
      if (batchSize < StoredBatches.HEADER_SIZE) {
        throw new IOException("corrupt batch length in " + logPath + " at position " + (position + end));
      }
      if (batchSize > length - end) {
        break;
      }
      end += (int) batchSize;
    }
    return bytes.limit(end);
  }

  /** Header of the committed batch at {@code position}; corrupt here means the file changed under us. */
  BatchInfo committedHeader(int position, int limit) throws IOException {
    try {
      return readHeader(position, limit);
    } catch (InvalidBatchException e) {
      throw new IOException("corrupt batch header in " + logPath + " at position " + position + ": " + e.getMessage());
    }
  }

  private BatchInfo readHeader(int position, long limit) throws IOException, InvalidBatchException {
    int length = (int) Math.min(StoredBatches.HEADER_SIZE, limit - position);
    return StoredBatches.parseHeader(readBytes(position, length), 0, limit - position);
  }

  /** Positional read: does not move any shared file pointer, so readers and the writer don't interfere. */
  private ByteBuffer readBytes(int position, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    readInto(buf, position);
    return buf.flip();
  }

  /** Fills {@code buf} from its position to limit with file bytes starting at {@code position}. */
  private void readInto(ByteBuffer buf, long position) throws IOException {
    int start = buf.position();
    while (true) {
      FileChannel channel = readChannel;
      try {
        long readAt = position;
        while (buf.hasRemaining()) {
          int n = channel.read(buf, readAt);
          if (n < 0) {
            throw new IOException("unexpected end of " + logPath + " at position " + readAt);
          }
          readAt += n;
        }
        return;
      } catch (ClosedChannelException e) {
        if (closed) {
          throw e;
        }
        reopenReadChannel(channel);
        if (e instanceof ClosedByInterruptException) {
          throw e; // this reader was interrupted: it gives up
        }
        buf.position(start); // another reader's interrupt closed the channel under us: retry
      }
    }
  }

  private synchronized void reopenReadChannel(FileChannel broken) throws IOException {
    if (readChannel == broken && !closed) {
      LOG.debug("Segment {}: reopening the read channel closed by an interrupted reader", logPath);
      readChannel = FileChannel.open(logPath, StandardOpenOption.READ);
    }
  }

  /**
   * Cuts the segment at {@code position}, a batch boundary whose base offset is {@code offset}, and
   * syncs so the removed batches cannot reappear after a crash.
   */
  void truncateTo(int position, long offset) throws IOException {
    log.truncate(position);
    index.truncateToPosition(position);
    log.force(true);
    index.flush();
    bytesSinceLastIndexEntry = position - index.lastIndexedPosition();
    nextOffset = offset;
    size = position;
    firstBatchMaxTimestamp = -2; // read again if asked: the first batch may be gone
  }

  void flush() throws IOException {
    log.force(true);
    index.flush();
  }

  /**
   * The largest batch max timestamp of this segment, -1 if it holds no batch. A segment opened from
   * its index walks its batch headers once for it (a sealed segment does not change after).
   */
  long maxTimestamp() throws IOException {
    if (!maxTimestampKnown) {
      synchronized (this) {
        if (!maxTimestampKnown) {
          long max = -1;
          int limit = size;
          for (int position = 0; position < limit; ) {
            BatchInfo batch = committedHeader(position, limit);
            max = Math.max(max, batch.maxTimestamp());
            position += batch.sizeInBytes();
          }
          maxTimestamp = Math.max(maxTimestamp, max);
          maxTimestampKnown = true;
        }
      }
    }
    return maxTimestamp;
  }

  /** The max timestamp of this segment's first batch, -1 if it holds none (read once from disk). */
  long firstBatchMaxTimestamp() throws IOException {
    long known = firstBatchMaxTimestamp;
    if (known != -2) {
      return known;
    }
    synchronized (this) {
      if (firstBatchMaxTimestamp == -2) {
        firstBatchMaxTimestamp = size == 0 ? -1 : committedHeader(0, size).maxTimestamp();
      }
      return firstBatchMaxTimestamp;
    }
  }

  long baseOffset() {
    return baseOffset;
  }

  long nextOffset() {
    return nextOffset;
  }

  int size() {
    return size;
  }

  Path logPath() {
    return logPath;
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    try (FileChannel writer = log; FileChannel reader = readChannel; OffsetIndex idx = index) {
      // try-with-resources closes all three even if one fails
    }
  }

  /**
   * Closes the segment and deletes its files. The log goes first: a crash in between leaves only an
   * orphan index, which {@link FileLogStore} removes on open.
   */
  void delete() throws IOException {
    close();
    Files.deleteIfExists(logPath);
    Files.deleteIfExists(index.path());
  }
}
