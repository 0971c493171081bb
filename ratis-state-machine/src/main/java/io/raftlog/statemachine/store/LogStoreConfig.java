package io.raftlog.statemachine.store;

/**
 * Tuning of a {@link FileLogStore}. Immutable; {@link #DEFAULT} suits production.
 *
 * @param segmentBytes size a segment may grow to before the log rolls to a new one (default
 *     {@value #DEFAULT_SEGMENT_BYTES}, 64 MiB). A single batch larger than this still gets a
 *     segment of its own.
 * @param indexIntervalBytes bytes of log data between two offset index entries (default
 *     {@value #DEFAULT_INDEX_INTERVAL_BYTES}); smaller means a bigger index but shorter scans on read
 */
public record LogStoreConfig(int segmentBytes, int indexIntervalBytes) {

  public static final int DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
  public static final int DEFAULT_INDEX_INTERVAL_BYTES = 4096;
  public static final LogStoreConfig DEFAULT =
      new LogStoreConfig(DEFAULT_SEGMENT_BYTES, DEFAULT_INDEX_INTERVAL_BYTES);

  /** @throws IllegalArgumentException if a value is not positive */
  public LogStoreConfig {
    if (segmentBytes <= 0) {
      throw new IllegalArgumentException("segmentBytes must be positive, got " + segmentBytes);
    }
    if (indexIntervalBytes <= 0) {
      throw new IllegalArgumentException(
          "indexIntervalBytes must be positive, got " + indexIntervalBytes);
    }
  }

  public LogStoreConfig withSegmentBytes(int newSegmentBytes) {
    return new LogStoreConfig(newSegmentBytes, indexIntervalBytes);
  }

  public LogStoreConfig withIndexIntervalBytes(int newIndexIntervalBytes) {
    return new LogStoreConfig(segmentBytes, newIndexIntervalBytes);
  }
}
