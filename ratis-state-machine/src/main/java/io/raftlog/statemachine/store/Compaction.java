package io.raftlog.statemachine.store;

/**
 * Log compaction (a topic's {@code cleanup.policy=compact}): what to do and what was done.
 *
 * <p>Kafka's rules, per replica: only sealed segments are cleaned (never the active one); a keyed
 * record is removed when a later record with the same key exists in the cleaned range; a record
 * without a key is removed (a compacted topic refuses them at produce, so these predate the policy);
 * a tombstone (a key with a null value) stays until {@code deleteRetentionMs} after the cleaning
 * that first saw it, so consumers that are behind still see the delete. Offsets never change: a
 * rewritten batch keeps its base and last offset, and a batch whose records are all removed stays
 * as an empty batch (its 61-byte header), so the log's offsets stay contiguous for readers,
 * recovery and replica repair. Each replica cleans on its own, as in Kafka, so replicas agree on
 * every key's latest record but may differ in which superseded records they still hold.
 */
public final class Compaction {

  private Compaction() {}

  /**
   * When and how much to clean.
   *
   * @param minCleanableDirtyRatio clean only when the bytes written since the last cleaning are at
   *     least this share of the cleanable bytes (Kafka's {@code min.cleanable.dirty.ratio}, 0.5)
   * @param minCompactionLagMs a segment is cleanable only once its newest record is at least this
   *     old ({@code min.compaction.lag.ms}, 0)
   * @param deleteRetentionMs how long a tombstone stays after the cleaning that first saw it
   *     ({@code delete.retention.ms}, one day)
   * @param maxKeys the most distinct keys one cleaning indexes (16 bytes of key digest plus map
   *     overhead each, ~100 bytes); a larger dirty range is cleaned over several passes
   */
  public record Policy(double minCleanableDirtyRatio, long minCompactionLagMs, long deleteRetentionMs, int maxKeys) {
    public Policy {
      if (!(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1)) {
        throw new IllegalArgumentException("minCleanableDirtyRatio must be in [0, 1], got " + minCleanableDirtyRatio);
      }
      if (minCompactionLagMs < 0 || deleteRetentionMs < 0 || maxKeys <= 0) {
        throw new IllegalArgumentException("negative lag or retention, or maxKeys not positive: " + this);
      }
    }
  }

  /**
   * What one cleaning did.
   *
   * @param cleanedUpTo the offset below which the log is now clean (the next pass's dirty range starts here)
   */
  public record Result(int segmentsRewritten, long bytesBefore, long bytesAfter, long recordsRead,
      long recordsRemoved, long cleanedUpTo) {
  }
}
