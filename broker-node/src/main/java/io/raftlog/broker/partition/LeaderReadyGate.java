package io.raftlog.broker.partition;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a partition leader's proposals while it is elected but not ready yet, and releases them in
 * order once it is. A Ratis leader refuses writes until it has committed an entry of its own term
 * (tens of milliseconds after its election); refused, a producer would back off and look the leader
 * up again, which after a failover costs more than the wait. So proposals wait here instead, until
 * the leader is ready, is no longer the leader, or {@code maxWaitMs} passed; then they go to Ratis,
 * which answers them (a former leader with NOT_LEADER, a leader still not ready with
 * LEADER_NOT_AVAILABLE). Order is kept: a proposal never overtakes one held before it.
 *
 * <p>Thread-safe. Proposals run under this gate's lock, so they must only hand their entry over.
 */
final class LeaderReadyGate {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderReadyGate.class);

  /** What the gate needs to know of the local Raft division. */
  interface Leadership {
    boolean isLeader();

    /** Leader and ready to take writes. */
    boolean isReady();
  }

  /** Runs a task after a delay (the broker's timers; a manual clock in tests). */
  interface Timer {
    void schedule(Runnable task, long delayNanos);
  }

  static final long POLL_MS = 5;

  private final Leadership leadership;
  private final Timer timer;
  private final LongSupplier nanoClock;
  private final long maxWaitNanos;
  private final ArrayDeque<Runnable> held = new ArrayDeque<>();
  /** When the oldest held proposal goes to Ratis regardless; guarded by this. */
  private long releaseAtNanos;

  LeaderReadyGate(Leadership leadership, Timer timer, LongSupplier nanoClock, long maxWaitMs) {
    this.leadership = leadership;
    this.timer = timer;
    this.nanoClock = nanoClock;
    this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
  }

  /** Runs {@code proposal} now, or once the leader is ready (or no longer leader, or the wait is over). */
  synchronized void submit(Runnable proposal) {
    if (held.isEmpty() && mayPass()) {
      proposal.run();
      return;
    }
    held.add(proposal);
    if (held.size() == 1) {
      releaseAtNanos = nanoClock.getAsLong() + maxWaitNanos;
      schedulePoll();
    }
  }

  /** Proposals waiting for the leader to become ready. */
  synchronized int heldCount() {
    return held.size();
  }

  private boolean mayPass() {
    return leadership.isReady() || !leadership.isLeader();
  }

  /** Under the lock. */
  private void schedulePoll() {
    try {
      timer.schedule(this::poll, TimeUnit.MILLISECONDS.toNanos(POLL_MS));
    } catch (RuntimeException e) {
      // The broker's timers are shut down (it is closing): nothing would poll, so let Ratis answer now.
      releaseAll();
    }
  }

  private synchronized void poll() {
    if (held.isEmpty()) {
      return;
    }
    if (!mayPass() && nanoClock.getAsLong() - releaseAtNanos < 0) {
      schedulePoll();
      return;
    }
    releaseAll();
  }

  /** Under the lock, so a proposal submitted meanwhile waits for these and order holds. */
  private void releaseAll() {
    while (!held.isEmpty()) {
      try {
        held.poll().run();
      } catch (RuntimeException e) {
        // Proposals answer their own failures; one that throws must not strand the others.
        LOG.error("a held proposal failed", e);
      }
    }
  }
}
