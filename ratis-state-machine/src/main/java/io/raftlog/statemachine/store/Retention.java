package io.raftlog.statemachine.store;

import io.raftlog.statemachine.store.LogStore.SegmentInfo;
import java.util.List;

/**
 * Kafka's retention rules, as a pure decision over a partition's segments: which offset the log
 * may start at now. The partition leader decides, and proposes the result through Raft, so every
 * replica moves its log start to the same offset whatever its own segment boundaries.
 *
 * <p>Only whole sealed segments go (never the active one), oldest first, and deletion stops at
 * the first segment that is to be kept:
 * <ul>
 *   <li>by time: a segment whose newest record timestamp is older than {@code retentionMs};</li>
 *   <li>by size: the oldest segments while the partition, without them, still holds at least
 *       {@code retentionBytes}.</li>
 * </ul>
 * A segment whose records carry no timestamp, or a timestamp in the future, is not deleted by
 * time (as in Kafka, a producer's clock decides the time of its records).
 */
public final class Retention {

  private Retention() {}

  /**
   * @param segments the replica's segments, oldest first, the active one last ({@link LogStore#segments()})
   * @param logStartOffset the partition's current log start offset
   * @param retentionMs -1 for no time limit
   * @param retentionBytes -1 for no size limit
   * @return the new log start offset (a segment boundary above {@code logStartOffset}), or -1 when
   *     nothing is due
   */
  public static long newLogStart(List<SegmentInfo> segments, long logStartOffset, long retentionMs,
      long retentionBytes, long nowMs) {
    int sealed = segments.size() - 1;
    int dueByTime = 0;
    if (retentionMs >= 0) {
      long cutoff = nowMs - retentionMs;
      while (dueByTime < sealed) {
        long newest = segments.get(dueByTime).maxTimestamp();
        if (newest < 0 || newest >= cutoff) {
          break;
        }
        dueByTime++;
      }
    }
    int dueBySize = 0;
    if (retentionBytes >= 0) {
      long total = 0;
      for (SegmentInfo s : segments) {
        total += s.sizeBytes();
      }
      while (dueBySize < sealed && total - segments.get(dueBySize).sizeBytes() >= retentionBytes) {
        total -= segments.get(dueBySize).sizeBytes();
        dueBySize++;
      }
    }
    int due = Math.max(dueByTime, dueBySize);
    if (due == 0) {
      return -1;
    }
    long newStart = segments.get(due - 1).nextOffset();
    return newStart > logStartOffset ? newStart : -1;
  }
}
