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
 * Starts a new term when a leader's Ratis log appenders are not the ones its configuration needs.
 * Two faults of Ratis 3.2.2 leave a leader in that state for the rest of its term:
 * <ul>
 *   <li><b>A stopped appender.</b> An appender that fails (seen once in CI: a follower restarted
 *       empty answered with next index 0 while the leader's log was purged past 0, and building the
 *       request for entry 0 threw) is not restarted ("is not running: skipping restart"). The leader
 *       sends that follower nothing more: the replica stays behind and out of the ISR. Restarting
 *       the appender from outside was tried and did not help (docs/reliability.md).
 *   <li><b>A stray appender</b>, for a peer that is not a member. A leader elected while the
 *       configuration is a joint one (a replica being removed) starts appenders for both sides,
 *       then commits the new side without stopping the appender of the peer that left. That peer
 *       is reported in sync although it is not a member, and adding it back in the same term fails
 *       ("Found duplicated element"), after which Ratis refuses every membership change of the term
 *       with a bare IllegalStateException (its pending-change slot is never cleared). Seen in a
 *       random fault-suite run: a reassignment stalled for 5 minutes (docs/reliability.md).
 * </ul>
 *
 * <p>What: a leader with such an appender for {@link #FAULTY_FOR_MS} in the same term steps down
 * (Ratis' leadership transfer without a target). Whoever is elected next, this broker included,
 * starts the term with one fresh appender per member. The partition is without a leader for about
 * one election timeout. Should it keep happening, this broker steps down for the group at most once
 * per back-off: {@link #FIRST_BACKOFF_MS}, doubling up to {@link #MAX_BACKOFF_MS}, back to the first
 * after {@link #QUIET_MS} without one.
 */
public final class LeaderAppenderWatch {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderAppenderWatch.class);
  /**
   * How long a fault must last before the leader steps down: Ratis stops, replaces, adds and removes
   * appenders itself on configuration changes, and restarts one after an error, within a moment.
   */
  static final long FAULTY_FOR_MS = 2_000;
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

  public LeaderAppenderWatch(int brokerId, RaftServer server) {
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
    String fault = d.getInfo().isLeader() ? fault(d) : null;
    Tracker t = trackers.get(group);
    if (fault == null) {
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
    if (!t.observeFault(term, nowMs)) {
      return;
    }
    LOG.warn("[broker-{} {}] leader in term {}: {} for {} ms; stepping down so that the next leader starts"
        + " fresh appenders (next step-down for this group not before {} s)", brokerId, name, term, fault,
        t.faultyForMs(nowMs), t.backoffMs / 1000);
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

  /** What is wrong with a leader's appenders, for the log; null when nothing is. */
  private static String fault(RaftServer.Division d) {
    List<RaftPeerId> stopped = LeaderAppenders.stopped(d);
    if (!stopped.isEmpty()) {
      return "Ratis' log appender for " + brokers(stopped) + " stopped and is not restarted";
    }
    List<RaftPeerId> strays = LeaderAppenders.strays(d);
    if (!strays.isEmpty()) {
      return "Ratis runs a log appender for " + brokers(strays) + ", not a member of the group (left in an"
          + " earlier configuration)";
    }
    return null;
  }

  private static List<String> brokers(List<RaftPeerId> peers) {
    return peers.stream().map(p -> "broker " + GroupIds.brokerId(p)).toList();
  }

  /** One group's observations; plain logic, tested alone. */
  static final class Tracker {
    private long term = -1;
    private long faultySinceMs = -1;
    private long lastStepDownMs = -1;
    private long backoffMs = FIRST_BACKOFF_MS;

    /** The group's appenders are as they should be (or this broker does not lead it). */
    void healthy() {
      faultySinceMs = -1;
    }

    long faultyForMs(long nowMs) {
      return faultySinceMs < 0 ? 0 : nowMs - faultySinceMs;
    }

    /**
     * Records that, as leader in {@code term}, the group has a faulty appender at {@code nowMs}.
     *
     * @return whether to step down now: faulty for {@link #FAULTY_FOR_MS} in this term, and
     *     the back-off since this broker's previous step-down for the group has passed
     */
    boolean observeFault(long term, long nowMs) {
      if (term != this.term || faultySinceMs < 0) {
        this.term = term;
        faultySinceMs = nowMs;
        return false;
      }
      if (nowMs - faultySinceMs < FAULTY_FOR_MS) {
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
