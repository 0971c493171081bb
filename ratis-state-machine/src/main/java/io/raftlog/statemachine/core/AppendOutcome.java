package io.raftlog.statemachine.core;

/**
 * The deterministic result of offering a batch to a partition. Rejections are results, not
 * exceptions: every replica reaches the same one.
 */
public record AppendOutcome(Status status, long baseOffset, long lastOffset, String message) {

  public enum Status {
    /** New records: they take offsets [baseOffset, lastOffset]. */
    APPENDED,
    /** A retry of a batch already in the log: the original offsets, nothing is appended. */
    DUPLICATE,
    OUT_OF_ORDER_SEQUENCE,
    /** A newer epoch of the same producer id exists. */
    PRODUCER_FENCED,
    /** The producer id is not known here and the batch does not start at sequence 0. */
    UNKNOWN_PRODUCER_ID
  }

  static AppendOutcome appended(long baseOffset, long lastOffset) {
    return new AppendOutcome(Status.APPENDED, baseOffset, lastOffset, "");
  }

  static AppendOutcome duplicate(long baseOffset, long lastOffset) {
    return new AppendOutcome(Status.DUPLICATE, baseOffset, lastOffset, "");
  }

  static AppendOutcome rejected(Status status, String message) {
    return new AppendOutcome(status, -1L, -1L, message);
  }

  public boolean isAppended() {
    return status == Status.APPENDED;
  }
}
