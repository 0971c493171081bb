package io.raftlog.statemachine.store;

import io.raftlog.statemachine.store.StoredBatches.BatchInfo;
import io.raftlog.statemachine.store.StoredBatches.InvalidBatchException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link LogStore} kept in a directory of segment files, in Kafka's on-disk format (see the
 * package documentation). Open with {@link #open(Path, LogStoreConfig)}.
 *
 * <p>Threading follows {@link LogStore}. Appends take no lock: a reader only looks at offsets
 * below the published {@link #logEndOffset()} and at bytes below a segment's published size, both
 * written after the data. Operations that shrink the log ({@link #truncateFrom},
 * {@link #deleteBefore}, {@link #deleteAll}, {@link #close}) take a write lock that excludes
 * readers, so a read never sees a file being cut or deleted.
 */
public final class FileLogStore implements LogStore {
  private static final Logger LOG = LoggerFactory.getLogger(FileLogStore.class);
  private static final Pattern SEGMENT_FILE = Pattern.compile("(\\d{20})(\\.log|\\.index)");

  private final Path dir;
  private final LogStoreConfig config;
  private final ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
  /** Read side: {@link #read}. Write side: operations that remove data. */
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  /** Segments written since the last flush; touched by the writer thread only. */
  private final Set<LogSegment> unflushed = new LinkedHashSet<>();
  /** A segment file was created since the last flush, so the directory entry needs a sync too. */
  private boolean directoryChanged;

  private volatile LogSegment activeSegment;
  private volatile long logStartOffset;
  private volatile long logEndOffset;
  /** Roll size in force: the config's, until a topic's segment.bytes changes it. */
  private volatile int segmentBytes;
  /** Roll age in force (segment.ms), by record timestamps; Long.MAX_VALUE until set. */
  private volatile long segmentMs = Long.MAX_VALUE;
  private volatile boolean closed;
  /** Log compaction: the offset below which the log was cleaned; persisted in {@link #CLEANER_CHECKPOINT}. */
  private volatile long cleanedUpTo;

  /** File (in the log directory) holding {@link #cleanedUpTo}; missing means nothing was cleaned. */
  static final String CLEANER_CHECKPOINT = "cleaner-offset-checkpoint";
  /** Directory (in the log directory) where the cleaner writes cleaned copies before swapping them in. */
  static final String CLEANING_DIR = ".cleaning";

  private FileLogStore(Path dir, LogStoreConfig config) {
    this.dir = dir;
    this.config = config;
    this.segmentBytes = config.segmentBytes();
  }

  @Override
  public void setSegmentMs(long segmentMs) {
    if (segmentMs <= 0) {
      throw new IllegalArgumentException("segmentMs must be positive, got " + segmentMs);
    }
    this.segmentMs = segmentMs;
  }

  @Override
  public void setSegmentBytes(int segmentBytes) {
    if (segmentBytes <= 0) {
      throw new IllegalArgumentException("segmentBytes must be positive, got " + segmentBytes);
    }
    this.segmentBytes = segmentBytes;
  }

  /** Opens the log in {@code dir}, creating the directory and a log starting at offset 0 if needed. */
  public static FileLogStore open(Path dir, LogStoreConfig config) throws IOException {
    return open(dir, config, 0);
  }

  /**
   * Opens the log in {@code dir}; if the directory holds no segment, creates a new empty log whose
   * first offset is {@code initialStartOffset} (used when a replica is rebuilt from a snapshot
   * taken at that offset). When segments exist, {@code initialStartOffset} is ignored.
   *
   * <p>Opening recovers from a crash: the last segment, and any segment whose index is missing or
   * inconsistent, is checked batch by batch (size bounds, offset continuity, CRC) and cut at the
   * first bad batch; segments after a cut one are deleted so the log stays contiguous.
   *
   * @throws IOException on I/O failure, or if the segments do not form a contiguous log
   */
  public static FileLogStore open(Path dir, LogStoreConfig config, long initialStartOffset) throws IOException {
    if (initialStartOffset < 0) {
      throw new IllegalArgumentException("initialStartOffset must not be negative, got " + initialStartOffset);
    }
    Files.createDirectories(dir);
    FileLogStore store = new FileLogStore(dir, config);
    try {
      store.loadSegments(initialStartOffset);
    } catch (IOException | RuntimeException e) {
      store.closeSegments();
      throw e;
    }
    return store;
  }

  private void loadSegments(long initialStartOffset) throws IOException {
    deleteCleaningLeftovers();
    TreeSet<Long> logBases = new TreeSet<>();
    List<Path> indexFiles = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        Matcher m = SEGMENT_FILE.matcher(file.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        if (m.group(2).equals(LogSegment.LOG_SUFFIX)) {
          logBases.add(Long.parseLong(m.group(1)));
        } else {
          indexFiles.add(file);
        }
      }
    }
    for (Path indexFile : indexFiles) {
      long base = Long.parseLong(indexFile.getFileName().toString().substring(0, 20));
      if (!logBases.contains(base)) {
        LOG.info("Deleting orphan index file {} (its segment was deleted)", indexFile);
        Files.delete(indexFile);
      }
    }

    Iterator<Long> bases = logBases.iterator();
    LogSegment previous = null;
    while (bases.hasNext()) {
      long base = bases.next();
      if (previous != null && base > previous.baseOffset() && base < previous.nextOffset()) {
        // A log compaction merged this segment into the previous one and stopped before deleting
        // it (see swapInCleaned): the previous segment holds its offsets.
        LOG.warn("Segment {} lies inside the previous segment {} (ending before {}): left over from an interrupted"
            + " compaction merge; deleting it", base, previous.logPath(), previous.nextOffset());
        Files.deleteIfExists(dir.resolve(LogSegment.fileName(base, LogSegment.LOG_SUFFIX)));
        Files.deleteIfExists(dir.resolve(LogSegment.fileName(base, LogSegment.INDEX_SUFFIX)));
        continue;
      }
      if (previous != null && base != previous.nextOffset()) {
        throw new IOException("segments in " + dir + " are not contiguous: " + previous.logPath()
            + " ends before offset " + previous.nextOffset() + " but the next segment starts at " + base);
      }
      LogSegment segment = LogSegment.open(dir, base, config.indexIntervalBytes());
      segments.put(base, segment);
      boolean last = !bases.hasNext();
      // Only the last segment can hold a torn write; sealed ones are trusted if their index checks out.
      boolean trusted = !last && segment.loadFromIndex();
      boolean truncated = !trusted && segment.recover();
      if (truncated && !last) {
        LOG.warn("Segment {} was truncated during recovery; deleting the {} later segments to keep the log contiguous",
            segment.logPath(), logBases.tailSet(base, false).size());
        for (long later : logBases.tailSet(base, false)) {
          Files.deleteIfExists(dir.resolve(LogSegment.fileName(later, LogSegment.LOG_SUFFIX)));
          Files.deleteIfExists(dir.resolve(LogSegment.fileName(later, LogSegment.INDEX_SUFFIX)));
        }
        break;
      }
      previous = segment;
    }

    if (segments.isEmpty()) {
      LogSegment first = LogSegment.create(dir, initialStartOffset, config.indexIntervalBytes());
      segments.put(initialStartOffset, first);
      directoryChanged = true;
      LOG.info("Created new log in {} starting at offset {}", dir, initialStartOffset);
    }
    activeSegment = segments.lastEntry().getValue();
    logStartOffset = segments.firstKey();
    logEndOffset = activeSegment.nextOffset();
    cleanedUpTo = readCleanerCheckpoint();
    LOG.info("Opened log {}: {} segment(s), offsets [{}, {})", dir, segments.size(), logStartOffset, logEndOffset);
  }

  /** A cleaning that did not finish left only copies; the originals are in place (the swap is a rename). */
  private void deleteCleaningLeftovers() throws IOException {
    Path cleaning = dir.resolve(CLEANING_DIR);
    if (!Files.isDirectory(cleaning)) {
      return;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(cleaning)) {
      for (Path file : files) {
        Files.delete(file);
      }
    }
    Files.delete(cleaning);
  }

  private long readCleanerCheckpoint() {
    Path file = dir.resolve(CLEANER_CHECKPOINT);
    try {
      return Files.exists(file) ? Long.parseLong(Files.readString(file).trim()) : 0;
    } catch (IOException | NumberFormatException e) {
      LOG.warn("Log {}: unreadable {} ({}); the whole log counts as not cleaned", dir, CLEANER_CHECKPOINT, e.toString());
      return 0;
    }
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
  public void append(ByteBuffer batch) throws IOException {
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
    LogSegment segment = activeSegment;
    if (mustRoll(segment, info)) {
      segment = roll();
    }
    segment.append(batch, info);
    unflushed.add(segment);
    logEndOffset = info.nextOffset();
  }

  /**
   * A non-empty segment rolls when the batch would push it past {@code segmentBytes}, when the
   * batch's max timestamp is more than {@code segmentMs} after that of the segment's first batch
   * (Kafka's segment.ms; batches without timestamps never roll by age), or when the batch's offsets
   * no longer fit the index's int32 relative offsets. An empty segment takes any batch, so an
   * oversized batch gets a segment of its own.
   */
  private boolean mustRoll(LogSegment segment, BatchInfo batch) throws IOException {
    if (segment.size() == 0) {
      return false;
    }
    return (long) segment.size() + batch.sizeInBytes() > segmentBytes
        || tooOld(segment, batch)
        || batch.lastOffset() - segment.baseOffset() > Integer.MAX_VALUE;
  }

  private boolean tooOld(LogSegment segment, BatchInfo batch) throws IOException {
    long ms = segmentMs;
    if (ms == Long.MAX_VALUE || batch.maxTimestamp() < 0) {
      return false;
    }
    long first = segment.firstBatchMaxTimestamp();
    return first >= 0 && batch.maxTimestamp() - first > ms;
  }

  private LogSegment roll() throws IOException {
    // Make the outgoing segment durable first: recovery only scans the last segment, so a sealed
    // segment must never have an unwritten page (e.g. after a power loss).
    flush();
    LogSegment segment = LogSegment.create(dir, logEndOffset, config.indexIntervalBytes());
    segments.put(segment.baseOffset(), segment);
    activeSegment = segment;
    directoryChanged = true;
    LOG.debug("Rolled log {} to new segment {}", dir, segment.logPath());
    return segment;
  }

  @Override
  public ByteBuffer read(long offset, int maxBytes) throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative, got " + maxBytes);
    }
    lock.readLock().lock();
    try {
      ensureOpen();
      long end = logEndOffset;
      if (offset < logStartOffset || offset > end) {
        throw new OffsetOutOfRangeException(offset, logStartOffset, end);
      }
      if (offset == end) {
        return ByteBuffer.allocate(0);
      }
      return readBatches(offset, end, maxBytes);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Reads from the batch containing {@code offset}, crossing into later segments while budget remains. */
  private ByteBuffer readBatches(long offset, long endOffset, int maxBytes) throws IOException {
    List<ByteBuffer> parts = new ArrayList<>();
    long total = 0;
    Map.Entry<Long, LogSegment> entry = segments.floorEntry(offset);
    int position = entry.getValue().positionOf(offset);
    while (true) {
      LogSegment segment = entry.getValue();
      int limit = segment.size();
      int budget = (int) Math.max(0, maxBytes - total);
      ByteBuffer part = segment.readBatches(position, limit, endOffset, budget, total == 0);
      parts.add(part);
      total += part.remaining();
      if (position + part.remaining() < limit) {
        break; // stopped inside this segment: budget spent or end offset reached
      }
      entry = segments.higherEntry(entry.getKey());
      if (entry == null || entry.getKey() >= endOffset) {
        break;
      }
      // Continue into the next segment only if this one is sealed at the size we read up to: it
      // may have been active, growing past our snapshot, until the roll that created the next one.
      if (segment.size() != limit) {
        break;
      }
      position = 0;
    }
    if (parts.size() == 1) {
      return parts.get(0);
    }
    ByteBuffer result = ByteBuffer.allocate((int) total);
    parts.forEach(result::put);
    return result.flip();
  }


  @Override
  public void flush() throws IOException {
    ensureOpen();
    for (LogSegment segment : unflushed) {
      segment.flush();
    }
    unflushed.clear();
    if (directoryChanged) {
      syncDirectory();
      directoryChanged = false;
    }
  }

  /** Makes new segment files' directory entries durable. Not every platform can sync a directory. */
  private void syncDirectory() {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      LOG.debug("Could not sync directory {}: {}", dir, e.toString());
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>The segment containing {@code offset} becomes the active one (possibly left empty) and all
   * later segments are deleted. The change is synced before returning.
   *
   * @throws IllegalArgumentException if {@code offset} is outside [log start offset, log end
   *     offset] or is not the base offset of a stored batch
   */
  @Override
  public void truncateFrom(long offset) throws IOException {
    lock.writeLock().lock();
    try {
      ensureOpen();
      if (offset == logEndOffset) {
        return;
      }
      if (offset < logStartOffset || offset > logEndOffset) {
        throw new IllegalArgumentException("cannot truncate from " + offset + ": outside the log ["
            + logStartOffset + ", " + logEndOffset + "]");
      }
      LogSegment segment = segments.floorEntry(offset).getValue();
      int position = segment.positionOf(offset);
      long batchBase = position < segment.size()
          ? segment.committedHeader(position, segment.size()).baseOffset()
          : segment.nextOffset();
      if (batchBase != offset) {
        throw new IllegalArgumentException("cannot truncate from " + offset
            + ": not a batch boundary (the batch containing it starts at " + batchBase + ")");
      }
      // Newest first, so a crash part-way leaves a contiguous prefix.
      for (LogSegment later : new ArrayList<>(segments.tailMap(offset, false).descendingMap().values())) {
        removeSegment(later);
      }
      segment.truncateTo(position, offset);
      activeSegment = segment;
      logEndOffset = offset;
      LOG.info("Truncated log {} from offset {}", dir, offset);
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public long deleteBefore(long offset) throws IOException {
    lock.writeLock().lock();
    try {
      ensureOpen();
      int deleted = 0;
      for (LogSegment segment : new ArrayList<>(segments.values())) {
        if (segment == activeSegment || segment.nextOffset() > offset) {
          break;
        }
        removeSegment(segment);
        deleted++;
      }
      logStartOffset = Math.max(logStartOffset, segments.firstKey());
      if (deleted > 0) {
        LOG.info("Deleted {} segment(s) of log {}; log start offset is now {}", deleted, dir, logStartOffset);
      }
      return logStartOffset;
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public long advanceLogStart(long offset) throws IOException {
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
  public void resetTo(long startOffset) throws IOException {
    if (startOffset < 0) {
      throw new IllegalArgumentException("startOffset must not be negative, got " + startOffset);
    }
    lock.writeLock().lock();
    try {
      ensureOpen();
      for (LogSegment segment : new ArrayList<>(segments.values())) {
        removeSegment(segment);
      }
      unflushed.clear();
      LogSegment segment = LogSegment.create(dir, startOffset, config.indexIntervalBytes());
      segments.put(startOffset, segment);
      activeSegment = segment;
      logStartOffset = startOffset;
      logEndOffset = startOffset;
      directoryChanged = true;
      flush();
      setCleanedUpTo(startOffset);
      LOG.info("Reset log {} to an empty log starting at offset {}", dir, startOffset);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Log compaction of the sealed segments ({@link Compaction}); call from one cleaner thread at a
   * time, never the writer (it takes the write lock only to swap a cleaned segment in). Readers
   * and appends go on meanwhile.
   *
   * @return what was done, or null when nothing was due (no sealed segment, or too little written
   *     since the last cleaning)
   */
  public Compaction.Result compact(Compaction.Policy policy, long nowMs) throws IOException {
    ensureOpen();
    return new LogCompactor(this, policy, nowMs).run();
  }

  long cleanedUpTo() {
    return cleanedUpTo;
  }

  void setCleanedUpTo(long offset) throws IOException {
    Path tmp = dir.resolve(CLEANER_CHECKPOINT + ".tmp");
    Files.writeString(tmp, Long.toString(offset));
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(tmp, dir.resolve(CLEANER_CHECKPOINT), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    cleanedUpTo = offset;
  }

  Path cleaningDirectory() {
    return dir.resolve(CLEANING_DIR);
  }

  /** Every segment but the active one, oldest first. */
  List<LogSegment> sealedSegments() {
    lock.readLock().lock();
    try {
      ensureOpen();
      List<LogSegment> out = new ArrayList<>(segments.values());
      out.remove(activeSegment);
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Whole batches of a sealed segment from {@code position}, at most {@code maxBytes} unless the
   * first batch is larger; null if the segment is no longer part of the log.
   */
  ByteBuffer readSealed(LogSegment segment, int position, int maxBytes) throws IOException {
    lock.readLock().lock();
    try {
      if (closed || segments.get(segment.baseOffset()) != segment) {
        return null;
      }
      return segment.readBatches(position, segment.size(), Long.MAX_VALUE, maxBytes, true);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The roll size in force (segment.bytes); merged cleaned segments stay within it. */
  int segmentBytes() {
    return segmentBytes;
  }

  /**
   * Replaces consecutive sealed segments {@code originals} by one cleaned copy based at the first
   * one's base offset ({@code cleanedLog} and its index beside it), if every one of them is still
   * a sealed segment of this log with the size it was cleaned at.
   *
   * <p>Crash-safe: the first segment's index goes first and its log file is replaced by an atomic
   * rename, then the other segments are deleted (log before index). A crash in between leaves the
   * cleaned first segment followed by segments that it already covers; {@link #open} recognises
   * and deletes those.
   *
   * @return false, changing nothing, if a segment changed or went away meanwhile
   */
  boolean swapInCleaned(List<LogSegment> originals, List<Integer> cleanedAtSizes, Path cleanedLog,
      Path cleaningDir) throws IOException {
    // An interrupt (the cleaner stopping) must not cut the swap short: a channel an interrupted
    // thread uses is closed under it, which would leave the log holding a closed segment.
    boolean interrupted = Thread.interrupted();
    lock.writeLock().lock();
    try {
      if (closed) {
        return false;
      }
      for (int i = 0; i < originals.size(); i++) {
        LogSegment original = originals.get(i);
        if (segments.get(original.baseOffset()) != original || original == activeSegment
            || original.size() != cleanedAtSizes.get(i)) {
          return false;
        }
      }
      long base = originals.get(0).baseOffset();
      Path log = dir.resolve(LogSegment.fileName(base, LogSegment.LOG_SUFFIX));
      Path index = dir.resolve(LogSegment.fileName(base, LogSegment.INDEX_SUFFIX));
      originals.get(0).close();
      try {
        Files.deleteIfExists(index);
        Files.move(cleanedLog, log, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.move(cleaningDir.resolve(LogSegment.fileName(base, LogSegment.INDEX_SUFFIX)), index,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
      } finally {
        // Whichever log file is in place now (old or cleaned) is whole: open it again.
        LogSegment reopened = LogSegment.open(dir, base, config.indexIntervalBytes());
        if (!reopened.loadFromIndex()) {
          reopened.recover();
        }
        segments.put(base, reopened);
      }
      for (LogSegment merged : originals.subList(1, originals.size())) {
        removeSegment(merged);
      }
      syncDirectory();
      return true;
    } finally {
      lock.writeLock().unlock();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public List<SegmentInfo> segments() throws IOException {
    lock.readLock().lock();
    try {
      ensureOpen();
      List<SegmentInfo> out = new ArrayList<>(segments.size());
      for (LogSegment segment : segments.values()) {
        out.add(new SegmentInfo(segment.baseOffset(), segment.nextOffset(), segment.size(), segment.maxTimestamp()));
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  private void removeSegment(LogSegment segment) throws IOException {
    segments.remove(segment.baseOffset());
    unflushed.remove(segment);
    segment.delete();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Deletes the segment files, then the directory itself if nothing else is in it.
   */
  @Override
  public void deleteAll() throws IOException {
    lock.writeLock().lock();
    try {
      closed = true;
      for (LogSegment segment : new ArrayList<>(segments.values())) {
        removeSegment(segment);
      }
      unflushed.clear();
      deleteCleaningLeftovers();
      Files.deleteIfExists(dir.resolve(CLEANER_CHECKPOINT));
      try (DirectoryStream<Path> rest = Files.newDirectoryStream(dir)) {
        if (!rest.iterator().hasNext()) {
          Files.delete(dir);
        }
      }
      LOG.info("Deleted log {}", dir);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Flushes and closes. Idempotent. */
  @Override
  public void close() throws IOException {
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      try {
        flush();
      } finally {
        closed = true;
        closeSegments();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void closeSegments() throws IOException {
    IOException failure = null;
    for (LogSegment segment : segments.values()) {
      try {
        segment.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("log " + dir + " is closed");
    }
  }

  public Path directory() {
    return dir;
  }

  public LogStoreConfig config() {
    return config;
  }

  /** Base offsets of the segments, ascending; the last one is the active segment. */
  public List<Long> segmentBaseOffsets() {
    return List.copyOf(segments.keySet());
  }
}
