package io.raftlog.chaos;

import java.util.List;

/**
 * What the checker found in one run. The anomaly counts must all be zero for a run to pass.
 *
 * @param lost acknowledged records missing from the final read
 * @param duplicate extra copies: a value stored at more than one offset counts once per extra offset
 * @param inconsistent two reads that disagree about an offset (a consumer vs the final read, a value
 *     no producer sent), and replica divergences (replicas whose committed logs differ)
 * @param nonmonotonic a consumer (or the final reader) seeing offsets go backwards or skip, or one
 *     producer's records stored out of its send order within a partition
 * @param mismatch an acknowledged record found, but not at the offset its acknowledgment gave
 * @param acked records acknowledged with acks=all
 * @param failed sends that failed (indeterminate: they may or may not be in the log)
 * @param maxUnavailableMs the longest time one partition went without a successful acks=all write,
 *     counted from the first injected fault to the end of the workload
 * @param maxRecoveryMs the longest time from a heal until every partition had a successful write again
 * @param examples a description of the first anomalies found (at most {@link Checker#MAX_EXAMPLES})
 * @param group the consumer-group checks, or null when no group members ran
 */
public record CheckResult(long lost, long duplicate, long inconsistent, long nonmonotonic, long mismatch, long acked,
    long failed, long maxUnavailableMs, long maxRecoveryMs, List<String> examples, GroupCounts group) {

  /**
   * What the consumer-group checks found (see {@code Checker.checkGroup}).
   *
   * @param members member processes that wrote output (replacements included)
   * @param processed records the members reported processing (with repeats)
   * @param reprocessed how many of those were repeats (a record processed again after a kill or a
   *     rebalance, before its offset was committed): at-least-once at work, not an anomaly
   * @param commits successful commitSync calls
   * @param unprocessed acknowledged records no member processed (at-least-once broken)
   * @param doubleOwner a partition owned by two members at the same member epoch (counted per pair
   *     of ownerships), or processed by a member that did not own it
   * @param offsetRegressions a successfully committed offset that did not survive: the final
   *     committed offset is below it, or a later owner started below it
   */
  public record GroupCounts(long members, long processed, long reprocessed, long commits, long unprocessed,
      long doubleOwner, long offsetRegressions) {

    boolean passed() {
      return unprocessed == 0 && doubleOwner == 0 && offsetRegressions == 0;
    }
  }

  /** A result without consumer-group checks. */
  public CheckResult(long lost, long duplicate, long inconsistent, long nonmonotonic, long mismatch, long acked,
      long failed, long maxUnavailableMs, long maxRecoveryMs, List<String> examples) {
    this(lost, duplicate, inconsistent, nonmonotonic, mismatch, acked, failed, maxUnavailableMs, maxRecoveryMs,
        examples, null);
  }

  public boolean passed() {
    return lost == 0 && duplicate == 0 && inconsistent == 0 && nonmonotonic == 0 && mismatch == 0
        && (group == null || group.passed());
  }

  /**
   * The run's contractual last line (scripts parse it). The consumer-group counts are appended,
   * after the fields that are always there, only when group members ran.
   */
  public String summaryLine(long seed) {
    String line = "seed=" + seed + " lost=" + lost + " duplicate=" + duplicate + " inconsistent=" + inconsistent
        + " nonmonotonic=" + nonmonotonic + " mismatch=" + mismatch + " acked=" + acked + " max_unavailable_ms="
        + maxUnavailableMs;
    if (group != null) {
      line += " unprocessed=" + group.unprocessed() + " double_owner=" + group.doubleOwner() + " offset_regressions="
          + group.offsetRegressions();
    }
    return line;
  }
}
