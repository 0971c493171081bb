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
 */
public record CheckResult(long lost, long duplicate, long inconsistent, long nonmonotonic, long mismatch, long acked,
    long failed, long maxUnavailableMs, long maxRecoveryMs, List<String> examples) {

  public boolean passed() {
    return lost == 0 && duplicate == 0 && inconsistent == 0 && nonmonotonic == 0 && mismatch == 0;
  }

  /** The run's contractual last line (scripts parse it). */
  public String summaryLine(long seed) {
    return "seed=" + seed + " lost=" + lost + " duplicate=" + duplicate + " inconsistent=" + inconsistent
        + " nonmonotonic=" + nonmonotonic + " mismatch=" + mismatch + " acked=" + acked + " max_unavailable_ms="
        + maxUnavailableMs;
  }
}
