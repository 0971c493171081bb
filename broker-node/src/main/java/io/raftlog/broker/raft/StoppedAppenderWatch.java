package io.raftlog.broker.raft;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.impl.LeaderAppenders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets a follower going again when its leader's Ratis log appender for it has stopped.
 *
 * <p>Why: in Ratis 3.2.2 a leader's appender that fails (seen once in CI: a follower restarted
 * empty answered with next index 0 while the leader's log was purged past 0, and building the
 * request for entry 0 threw) is not restarted ("is not running: skipping restart"). The leader
 * then sends that follower nothing for the rest of its term: the replica stays behind and out of
 * the ISR, and the partition runs with one replica less until leadership moves for another reason.
 * Restarting the appender from outside was tried and did not help (docs/reliability.md).
 *
 * <p>What: a leader whose appender for some follower has been stopped for {@link #STOPPED_FOR_MS}
 * in the same term steps down (Ratis' leadership transfer without a target). Whoever is elected
 * next, this broker included, starts the term with fresh appenders for every follower. The
 * partition is without a leader for about one election timeout. Should appenders keep stopping,
 * this broker steps down for the group at most once per back-off: {@link #FIRST_BACKOFF_MS},
 * doubling up to {@link #MAX_BACKOFF_MS}, back to the first after {@link #QUIET_MS} without one.
 */
public final class StoppedAppenderWatch {

  private static final Logger LOG = LoggerFactory.getLogger(StoppedAppenderWatch.class);
  /**
   * How long an appender must stay stopped before the leader steps down: Ratis stops and replaces
   * appenders itself on configuration changes, and restarts one after an error, within a moment.
   */
  static final long STOPPED_FOR_MS = 2_000;
  /** Least time between two step-downs of this broker for one group. */
  static final long FIRST_BACKOFF_MS = 5_000;
  static final long MAX_BACKOFF_MS = 300_000;
  /** A step-down this long after the previous one starts the back-off again. */
  static final long QUIET_MS = 600_000;
  private static final long STEP_DOWN_TIMEOUT_MS = 3_000;

  private final int brokerId;
  private final RaftServer server;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final Map<RaftGroupId, Tracker> trackers = new ConcurrentHashMap<>();

  public StoppedAppenderWatch(int brokerId, RaftServer server) {
    this.brokerId = brokerId;
    this.server = server;
  }

  /**
   * Checks these divisions (by name for the log), led or not; call periodically from one thread.
   * Divisions not passed are forgotten.
   */
  public void checkAll(Map<String, RaftServer.Division> divisions, long nowMs) {
    Set<RaftGroupId> present = new HashSet<>();
    divisions.forEach((name, d) -> {
      present.add(d.getGroup().getGroupId());
      try {
        check(name, d, nowMs);
      } catch (RuntimeException e) {
        LOG.debug("[broker-{}] appender check of {} failed: {}", brokerId, name, e.toString());
      }
    });
    trackers.keySet().retainAll(present);
  }

  private void check(String name, RaftServer.Division d, long nowMs) {
    RaftGroupId group = d.getGroup().getGroupId();
    List<RaftPeerId> stopped = d.getInfo().isLeader() ? LeaderAppenders.stopped(d) : List.of();
    Tracker t = trackers.get(group);
    if (stopped.isEmpty()) {
      if (t != null) {
        t.healthy();
      }
      return;
    }
    if (t == null) {
      t = new Tracker();
      trackers.put(group, t);
    }
    long term = d.getInfo().getCurrentTerm();
    if (!t.observeStopped(term, nowMs)) {
      return;
    }
    LOG.warn("[broker-{} {}] leader in term {}: Ratis' log appender for {} stopped {} ms ago and is not restarted;"
        + " stepping down so that the next leader starts fresh appenders (next step-down for this group not"
        + " before {} s)", brokerId, name, term, stopped.stream().map(p -> "broker " + GroupIds.brokerId(p)).toList(),
        t.stoppedForMs(nowMs), t.backoffMs / 1000);
    try {
      server.transferLeadershipAsync(new TransferLeadershipRequest(clientId, server.getId(), group,
          callIds.incrementAndGet(), null, STEP_DOWN_TIMEOUT_MS)).whenComplete((reply, e) -> {
            if (e != null || !reply.isSuccess()) {
              LOG.info("[broker-{} {}] stepping down failed: {}", brokerId, name, e != null ? e : reply.getException());
            }
          });
    } catch (IOException e) {
      LOG.info("[broker-{} {}] stepping down failed: {}", brokerId, name, e.toString());
    }
  }

  /** One group's observations; plain logic, tested alone. */
  static final class Tracker {
    private long term = -1;
    private long stoppedSinceMs = -1;
    private long lastStepDownMs = -1;
    private long backoffMs = FIRST_BACKOFF_MS;

    /** The group has no stopped appender (or this broker does not lead it). */
    void healthy() {
      stoppedSinceMs = -1;
    }

    long stoppedForMs(long nowMs) {
      return stoppedSinceMs < 0 ? 0 : nowMs - stoppedSinceMs;
    }

    /**
     * Records that, as leader in {@code term}, the group has a stopped appender at {@code nowMs}.
     *
     * @return whether to step down now: stopped for {@link #STOPPED_FOR_MS} in this term, and
     *     the back-off since this broker's previous step-down for the group has passed
     */
    boolean observeStopped(long term, long nowMs) {
      if (term != this.term || stoppedSinceMs < 0) {
        this.term = term;
        stoppedSinceMs = nowMs;
        return false;
      }
      if (nowMs - stoppedSinceMs < STOPPED_FOR_MS) {
        return false;
      }
      if (lastStepDownMs >= 0) {
        long since = nowMs - lastStepDownMs;
        if (since < backoffMs) {
          return false;
        }
        backoffMs = since >= QUIET_MS ? FIRST_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, backoffMs * 2);
      }
      lastStepDownMs = nowMs;
      return true;
    }
  }
}
