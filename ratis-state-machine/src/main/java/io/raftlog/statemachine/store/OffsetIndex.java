package io.raftlog.statemachine.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Sparse offset index of one segment: entries map the base offset of some batches to their file
 * position. Kept in memory for lookups and mirrored in the {@code .index} file as 8-byte entries
 * (offset relative to the segment base as int32, position as int32, big endian).
 *
 * <p>Threading: one writer ({@link #append}, {@link #truncateToPosition}, {@link #clear}); readers
 * may call {@link #lookup} concurrently with {@link #append}. The other mutators run only while
 * the owning store excludes readers.
 */
final class OffsetIndex implements Closeable {
  static final int ENTRY_SIZE = 8;

  private final Path path;
  private final long baseOffset;
  private final FileChannel channel;
  /**
   * Packed entries {@code relativeOffset << 32 | position}, ascending. The array is only ever
   * replaced by a larger copy, and {@link #entryCount} is written after the entry, so a reader that
   * reads the count first and the array second always sees {@code entryCount} valid entries.
   */
  private volatile long[] entries = new long[16];
  private volatile int entryCount;
  private String loadProblem;

  private OffsetIndex(Path path, long baseOffset, FileChannel channel) {
    this.path = path;
    this.baseOffset = baseOffset;
    this.channel = channel;
  }

  /** Creates an empty index file, replacing any existing one. */
  static OffsetIndex create(Path path, long baseOffset) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    return new OffsetIndex(path, baseOffset, channel);
  }

  /**
   * Opens an existing index file and loads its entries. A file that is not a whole number of
   * entries, or whose entries are not strictly ascending, loads as an empty index and
   * {@link #loadProblem()} says why; the caller then rebuilds it.
   */
  static OffsetIndex open(Path path, long baseOffset) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    OffsetIndex index = new OffsetIndex(path, baseOffset, channel);
    try {
      index.load();
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return index;
  }

  /**
   * Why the file was unusable when opened (its entries were then dropped), or {@code null} if it
   * loaded cleanly.
   */
  String loadProblem() {
    return loadProblem;
  }

  private void load() throws IOException {
    long fileSize = channel.size();
    if (fileSize % ENTRY_SIZE != 0 || fileSize > (long) Integer.MAX_VALUE) {
      loadProblem = "index file size " + fileSize + " is not a whole number of entries";
      return;
    }
    int count = (int) (fileSize / ENTRY_SIZE);
    ByteBuffer buf = ByteBuffer.allocate(count * ENTRY_SIZE);
    readFully(buf);
    long[] loaded = new long[Math.max(16, count)];
    long previous = -1;
    for (int i = 0; i < count; i++) {
      int relativeOffset = buf.getInt(i * ENTRY_SIZE);
      int position = buf.getInt(i * ENTRY_SIZE + 4);
      if (relativeOffset < 0 || position < 0
          || (previous >= 0 && (relativeOffset <= relOffset(previous) || position <= position(previous)))) {
        loadProblem = "index entry " + i + " (" + relativeOffset + " -> " + position
            + ") is negative or not ascending";
        return;
      }
      previous = pack(relativeOffset, position);
      loaded[i] = previous;
    }
    entries = loaded;
    entryCount = count;
  }

  private void readFully(ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      if (channel.read(buf, buf.position()) < 0) {
        throw new IOException("unexpected end of index file " + path);
      }
    }
    buf.flip();
  }

  int entryCount() {
    return entryCount;
  }

  /** Absolute offset of the last entry, or -1 if there is none. */
  long lastIndexedOffset() {
    int count = entryCount;
    return count == 0 ? -1 : baseOffset + relOffset(entries[count - 1]);
  }

  /** File position of the last entry, or 0 if there is none. */
  int lastIndexedPosition() {
    int count = entryCount;
    return count == 0 ? 0 : position(entries[count - 1]);
  }

  /**
   * Position of the last indexed batch whose base offset is {@code <= offset}, or 0: a scan from
   * there reaches the batch containing {@code offset}.
   */
  int lookup(long offset) {
    int count = entryCount;
    long[] snapshot = entries;
    long target = offset - baseOffset;
    int low = 0;
    int high = count - 1;
    int found = -1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      if (relOffset(snapshot[mid]) <= target) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found < 0 ? 0 : position(snapshot[found]);
  }

  /** Adds an entry for the batch starting at {@code offset}; both must exceed the last entry's. */
  void append(long offset, int position) throws IOException {
    long relative = offset - baseOffset;
    int count = entryCount;
    if (relative < 0 || relative > Integer.MAX_VALUE || position < 0
        || (count > 0 && (relative <= relOffset(entries[count - 1]) || position <= position(entries[count - 1])))) {
      throw new IllegalStateException("index entry " + offset + " -> " + position
          + " does not follow the last entry in " + path);
    }
    ByteBuffer buf = ByteBuffer.allocate(ENTRY_SIZE).putInt((int) relative).putInt(position).flip();
    long filePosition = (long) count * ENTRY_SIZE;
    while (buf.hasRemaining()) {
      filePosition += channel.write(buf, filePosition);
    }
    long[] current = entries;
    if (count == current.length) {
      current = Arrays.copyOf(current, count * 2);
      entries = current;
    }
    current[count] = pack((int) relative, position);
    entryCount = count + 1;
  }

  /** Drops every entry pointing at {@code position} or beyond. */
  void truncateToPosition(int position) throws IOException {
    int count = entryCount;
    while (count > 0 && position(entries[count - 1]) >= position) {
      count--;
    }
    entryCount = count;
    channel.truncate((long) count * ENTRY_SIZE);
  }

  void clear() throws IOException {
    entryCount = 0;
    channel.truncate(0);
  }

  void flush() throws IOException {
    channel.force(true);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  Path path() {
    return path;
  }

  private static long pack(int relativeOffset, int position) {
    return ((long) relativeOffset << 32) | (position & 0xFFFFFFFFL);
  }

  private static int relOffset(long entry) {
    return (int) (entry >>> 32);
  }

  private static int position(long entry) {
    return (int) entry;
  }
}
