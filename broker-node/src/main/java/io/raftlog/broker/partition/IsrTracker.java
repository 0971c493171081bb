package io.raftlog.broker.partition;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides which replicas of a partition are in sync, as the leader sees them (like Kafka's
 * replica.lag.time.max.ms): a follower is in sync while the leader heard from it within the lag
 * time and it caught up, within the lag time, with the commit index the leader had one sample
 * earlier. Comparing with the previous sample keeps a busy but healthy follower, which is always a
 * few entries behind the newest commit, in the ISR.
 *
 * <p>Pure logic; the caller samples Ratis' follower progress periodically. Not thread-safe: one
 * sampler thread.
 */
public final class IsrTracker {

  /** A follower's progress as the Raft leader reports it. */
  public record FollowerProgress(long matchIndex, long lastContactElapsedMs) {}

  private final long lagTimeMaxMs;
  private final Map<Integer, Long> lastCaughtUpMs = new HashMap<>();
  private final Map<Integer, Long> lastContactMs = new HashMap<>();
  private long previousCommitIndex = -1;

  public IsrTracker(long lagTimeMaxMs) {
    this.lagTimeMaxMs = lagTimeMaxMs;
  }

  /** Records the followers' progress; followers not passed (no longer members) are forgotten. */
  public void sample(long nowMs, long leaderCommitIndex, Map<Integer, FollowerProgress> followers) {
    lastCaughtUpMs.keySet().retainAll(followers.keySet());
    lastContactMs.keySet().retainAll(followers.keySet());
    for (Map.Entry<Integer, FollowerProgress> e : followers.entrySet()) {
      FollowerProgress p = e.getValue();
      lastContactMs.put(e.getKey(), nowMs - p.lastContactElapsedMs());
      if (p.matchIndex() >= previousCommitIndex) {
        lastCaughtUpMs.put(e.getKey(), nowMs);
      }
    }
    previousCommitIndex = leaderCommitIndex;
  }

  /** The in-sync replicas: the leader itself plus the followers that pass both tests. */
  public Set<Integer> inSync(long nowMs, int leaderId) {
    Set<Integer> isr = new TreeSet<>();
    isr.add(leaderId);
    for (Map.Entry<Integer, Long> e : lastCaughtUpMs.entrySet()) {
      Long contact = lastContactMs.get(e.getKey());
      if (nowMs - e.getValue() <= lagTimeMaxMs && contact != null && nowMs - contact <= lagTimeMaxMs) {
        isr.add(e.getKey());
      }
    }
    return isr;
  }
}
