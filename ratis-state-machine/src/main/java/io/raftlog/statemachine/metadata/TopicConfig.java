package io.raftlog.statemachine.metadata;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-topic configuration, with Kafka's key names so users feel at home. A topic stores only the
 * keys set for it (its overrides); every other key takes the broker-wide default
 * ({@link Defaults}). Pure: validation and resolution only.
 *
 * <p>Supported keys and what they do:
 * <ul>
 *   <li>{@code retention.ms}: records older than this (by the newest timestamp of their segment)
 *       are deleted, whole segments at a time; -1 keeps them for ever.</li>
 *   <li>{@code retention.bytes}: the most bytes a partition keeps; older segments are deleted
 *       beyond it; -1 for unlimited.</li>
 *   <li>{@code segment.bytes}: the size at which a partition's active segment file is rolled.</li>
 *   <li>{@code segment.ms}: the age at which it is rolled: a batch whose timestamp is more than
 *       this after the first batch of the active segment starts a new one (Kafka's rule, by record
 *       timestamps), so time-based retention can delete old records of a slow partition.</li>
 *   <li>{@code max.message.bytes}: the largest record batch a produce may append to one
 *       partition, at most the broker's {@code max.batch.bytes}.</li>
 *   <li>{@code cleanup.policy}: {@code delete} (retention deletes old segments), {@code compact}
 *       (log compaction keeps the latest record per key; retention.ms and retention.bytes do not
 *       apply), or {@code compact,delete} (both).</li>
 *   <li>{@code delete.retention.ms}: how long a tombstone (a key with a null value) of a compacted
 *       topic stays after the cleaning that first saw it.</li>
 *   <li>{@code min.cleanable.dirty.ratio}: a compacted partition is cleaned once the bytes written
 *       since its last cleaning are at least this share of its sealed segments.</li>
 *   <li>{@code min.compaction.lag.ms}: records younger than this are not compacted.</li>
 * </ul>
 */
public record TopicConfig(long retentionMs, long retentionBytes, int segmentBytes, long segmentMs, int maxMessageBytes,
    String cleanupPolicy, long deleteRetentionMs, double minCleanableDirtyRatio, long minCompactionLagMs) {

  public static final String RETENTION_MS = "retention.ms";
  public static final String RETENTION_BYTES = "retention.bytes";
  public static final String SEGMENT_BYTES = "segment.bytes";
  public static final String SEGMENT_MS = "segment.ms";
  public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
  public static final String CLEANUP_POLICY = "cleanup.policy";
  public static final String DELETE_RETENTION_MS = "delete.retention.ms";
  public static final String MIN_CLEANABLE_DIRTY_RATIO = "min.cleanable.dirty.ratio";
  public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";
  public static final List<String> KEYS = List.of(RETENTION_MS, RETENTION_BYTES, SEGMENT_BYTES, SEGMENT_MS,
      MAX_MESSAGE_BYTES, CLEANUP_POLICY, DELETE_RETENTION_MS, MIN_CLEANABLE_DIRTY_RATIO, MIN_COMPACTION_LAG_MS);
  /** The cleanup policies, as stored and shown ("delete,compact" is taken and shown as "compact,delete"). */
  public static final String DELETE = "delete";
  public static final String COMPACT = "compact";
  public static final String COMPACT_DELETE = "compact,delete";
  /** The smallest segment a topic may ask for (below it every batch would get a file of its own). */
  public static final int MIN_SEGMENT_BYTES = 1024;

  /**
   * Broker-wide values of every key (the broker's configuration file).
   *
   * @param maxBatchBytes the broker's {@code max.batch.bytes}: the default and the upper bound of
   *     {@code max.message.bytes}
   */
  public record Defaults(long retentionMs, long retentionBytes, int segmentBytes, long segmentMs, int maxBatchBytes,
      String cleanupPolicy, long deleteRetentionMs, double minCleanableDirtyRatio, long minCompactionLagMs) {

    /** Kafka's defaults for the compaction keys, with the given values for the others. */
    public Defaults(long retentionMs, long retentionBytes, int segmentBytes, long segmentMs, int maxBatchBytes) {
      this(retentionMs, retentionBytes, segmentBytes, segmentMs, maxBatchBytes, DELETE, 86_400_000L, 0.5, 0);
    }
  }

  /**
   * Checks topic overrides (for topic creation or a change).
   *
   * @return an error message naming the key and what is allowed, or null when every entry is valid
   */
  public static String check(Map<String, String> overrides, Defaults defaults) {
    for (Map.Entry<String, String> e : new TreeMap<>(overrides).entrySet()) {
      String problem = checkOne(e.getKey(), e.getValue(), defaults);
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }

  /** Checks that every key may be removed from a topic's overrides (back to the broker default). */
  public static String checkRemovable(Iterable<String> keys) {
    for (String key : keys) {
      if (!KEYS.contains(key)) {
        return unknownKey(key);
      }
    }
    return null;
  }

  private static String checkOne(String key, String value, Defaults defaults) {
    String v = value == null ? "" : value.trim();
    switch (key) {
      case RETENTION_MS, RETENTION_BYTES -> {
        return checkLong(key, v, -1, Long.MAX_VALUE, "-1 (unlimited) or a non-negative number");
      }
      case SEGMENT_BYTES -> {
        return checkLong(key, v, MIN_SEGMENT_BYTES, Integer.MAX_VALUE,
            "a number of bytes from " + MIN_SEGMENT_BYTES + " to " + Integer.MAX_VALUE);
      }
      case MAX_MESSAGE_BYTES -> {
        return checkLong(key, v, 1, defaults.maxBatchBytes(),
            "a number of bytes from 1 to the broker's max.batch.bytes (" + defaults.maxBatchBytes() + ")");
      }
      case CLEANUP_POLICY -> {
        return normalizedPolicy(v) != null ? null
            : "cleanup.policy must be 'delete', 'compact' or 'compact,delete', got '" + value + "'";
      }
      case DELETE_RETENTION_MS, MIN_COMPACTION_LAG_MS -> {
        return checkLong(key, v, 0, Long.MAX_VALUE, "a non-negative number of milliseconds");
      }
      case MIN_CLEANABLE_DIRTY_RATIO -> {
        return parseRatio(v) != null ? null : key + " must be a number from 0 to 1, got '" + v + "'";
      }
      case SEGMENT_MS -> {
        return checkLong(key, v, 1, Long.MAX_VALUE, "a positive number of milliseconds");
      }
      default -> {
        return unknownKey(key);
      }
    }
  }

  private static String unknownKey(String key) {
    return "unknown topic config '" + key + "'; supported: " + String.join(", ", KEYS);
  }

  private static String checkLong(String key, String v, long min, long max, String allowed) {
    try {
      long n = Long.parseLong(v);
      if (n >= min && n <= max) {
        return null;
      }
    } catch (NumberFormatException e) {
      // falls through to the message
    }
    return key + " must be " + allowed + ", got '" + v + "'";
  }

  /**
   * The values in force for a topic: its overrides, else the defaults. Overrides are expected to
   * have passed {@link #check}; one that does not (written by a newer version?) is ignored.
   */
  public static TopicConfig resolve(Map<String, String> overrides, Defaults defaults) {
    return new TopicConfig(
        longOr(overrides, RETENTION_MS, -1, Long.MAX_VALUE, defaults.retentionMs()),
        longOr(overrides, RETENTION_BYTES, -1, Long.MAX_VALUE, defaults.retentionBytes()),
        (int) longOr(overrides, SEGMENT_BYTES, MIN_SEGMENT_BYTES, Integer.MAX_VALUE, defaults.segmentBytes()),
        longOr(overrides, SEGMENT_MS, 1, Long.MAX_VALUE, defaults.segmentMs()),
        (int) longOr(overrides, MAX_MESSAGE_BYTES, 1, defaults.maxBatchBytes(), defaults.maxBatchBytes()),
        policyOr(overrides.get(CLEANUP_POLICY), defaults.cleanupPolicy()),
        longOr(overrides, DELETE_RETENTION_MS, 0, Long.MAX_VALUE, defaults.deleteRetentionMs()),
        ratioOr(overrides.get(MIN_CLEANABLE_DIRTY_RATIO), defaults.minCleanableDirtyRatio()),
        longOr(overrides, MIN_COMPACTION_LAG_MS, 0, Long.MAX_VALUE, defaults.minCompactionLagMs()));
  }

  /** Retention (retention.ms, retention.bytes) applies. */
  public boolean deletes() {
    return !cleanupPolicy.equals(COMPACT);
  }

  /** Log compaction applies. */
  public boolean compacts() {
    return !cleanupPolicy.equals(DELETE);
  }

  /** {@link #DELETE}, {@link #COMPACT} or {@link #COMPACT_DELETE} for a valid policy (either order, spaces allowed); else null. */
  public static String normalizedPolicy(String value) {
    if (value == null) {
      return null;
    }
    List<String> parts = java.util.Arrays.stream(value.split(",", -1)).map(String::trim).sorted().toList();
    if (parts.equals(List.of(DELETE)) || parts.equals(List.of(COMPACT))) {
      return parts.get(0);
    }
    return parts.equals(List.of(COMPACT, DELETE)) ? COMPACT_DELETE : null;
  }

  private static String policyOr(String value, String fallback) {
    String p = normalizedPolicy(value);
    return p != null ? p : fallback;
  }

  /** A ratio from 0 to 1 ({@code min.cleanable.dirty.ratio}), or null when {@code v} is not one. */
  public static Double parseRatio(String v) {
    try {
      double d = Double.parseDouble(v.trim());
      return d >= 0 && d <= 1 ? d : null;
    } catch (NumberFormatException | NullPointerException e) {
      return null;
    }
  }

  private static double ratioOr(String value, double fallback) {
    Double d = value == null ? null : parseRatio(value);
    return d != null ? d : fallback;
  }

  private static long longOr(Map<String, String> overrides, String key, long min, long max, long fallback) {
    String v = overrides.get(key);
    if (v == null) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v.trim());
      return n >= min && n <= max ? n : fallback;
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  /** Every key with the value in force, in {@link #KEYS} order (what {@code topic describe} shows). */
  public Map<String, String> asMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(RETENTION_MS, Long.toString(retentionMs));
    m.put(RETENTION_BYTES, Long.toString(retentionBytes));
    m.put(SEGMENT_BYTES, Integer.toString(segmentBytes));
    m.put(SEGMENT_MS, Long.toString(segmentMs));
    m.put(MAX_MESSAGE_BYTES, Integer.toString(maxMessageBytes));
    m.put(CLEANUP_POLICY, cleanupPolicy);
    m.put(DELETE_RETENTION_MS, Long.toString(deleteRetentionMs));
    m.put(MIN_CLEANABLE_DIRTY_RATIO, Double.toString(minCleanableDirtyRatio));
    m.put(MIN_COMPACTION_LAG_MS, Long.toString(minCompactionLagMs));
    return m;
  }
}
