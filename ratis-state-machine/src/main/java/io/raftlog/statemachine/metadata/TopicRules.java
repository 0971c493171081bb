package io.raftlog.statemachine.metadata;

import java.util.regex.Pattern;

/** Topic validation rules, as in Kafka. Each method returns an error message, or null when valid. */
public final class TopicRules {

  public static final int MAX_NAME_LENGTH = 249;
  /** A sanity bound; each partition is a Raft group with its own threads. */
  public static final int MAX_PARTITIONS = 10_000;
  private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");

  private TopicRules() {}

  public static String checkName(String name) {
    if (name == null || name.isEmpty()) {
      return "topic name must not be empty";
    }
    if (name.equals(".") || name.equals("..")) {
      return "topic name cannot be '.' or '..'";
    }
    if (name.length() > MAX_NAME_LENGTH) {
      return "topic name is " + name.length() + " characters long; at most " + MAX_NAME_LENGTH + " are allowed";
    }
    if (!LEGAL.matcher(name).matches()) {
      int at = 0;
      while (LEGAL.matcher(name.substring(at, at + 1)).matches()) {
        at++;
      }
      return "topic name '" + printable(name) + "' is illegal: character '" + printable(name.substring(at, at + 1))
          + "' (U+" + String.format("%04X", (int) name.charAt(at)) + ") at index " + at
          + "; use only ASCII letters, digits, '.', '_' and '-'";
    }
    return null;
  }

  /** The name with control and non-ASCII characters escaped, for error messages and logs. */
  static String printable(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  public static String checkPartitions(int partitions) {
    if (partitions < 1) {
      return "number of partitions must be at least 1, got " + partitions;
    }
    if (partitions > MAX_PARTITIONS) {
      return "number of partitions must be at most " + MAX_PARTITIONS + ", got " + partitions;
    }
    return null;
  }

  public static String checkReplicationFactor(int replicationFactor, int liveBrokers) {
    if (replicationFactor < 1) {
      return "replication factor must be at least 1, got " + replicationFactor;
    }
    if (replicationFactor > liveBrokers) {
      return "replication factor " + replicationFactor + " is larger than the number of live brokers ("
          + liveBrokers + ")";
    }
    return null;
  }
}
