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
 *   <li>{@code cleanup.policy}: only {@code delete} is supported; {@code compact} is refused
 *       (log compaction is not built yet).</li>
 * </ul>
 */
public record TopicConfig(long retentionMs, long retentionBytes, int segmentBytes, long segmentMs, int maxMessageBytes,
    String cleanupPolicy) {

  public static final String RETENTION_MS = "retention.ms";
  public static final String RETENTION_BYTES = "retention.bytes";
  public static final String SEGMENT_BYTES = "segment.bytes";
  public static final String SEGMENT_MS = "segment.ms";
  public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
  public static final String CLEANUP_POLICY = "cleanup.policy";
  public static final List<String> KEYS = List.of(RETENTION_MS, RETENTION_BYTES, SEGMENT_BYTES, SEGMENT_MS,
      MAX_MESSAGE_BYTES, CLEANUP_POLICY);
  /** The smallest segment a topic may ask for (below it every batch would get a file of its own). */
  public static final int MIN_SEGMENT_BYTES = 1024;

  /**
   * Broker-wide values of every key (the broker's configuration file).
   *
   * @param maxBatchBytes the broker's {@code max.batch.bytes}: the default and the upper bound of
   *     {@code max.message.bytes}
   */
  public record Defaults(long retentionMs, long retentionBytes, int segmentBytes, long segmentMs, int maxBatchBytes) {
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
        if (v.equals("delete")) {
          return null;
        }
        if (v.equals("compact") || v.equals("compact,delete") || v.equals("delete,compact")) {
          return "cleanup.policy '" + v + "' is not supported yet (log compaction is not built); use 'delete'";
        }
        return "cleanup.policy must be 'delete', got '" + value + "'";
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
        "delete");
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
    return m;
  }
}
