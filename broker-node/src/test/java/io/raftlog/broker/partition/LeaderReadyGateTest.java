package io.raftlog.broker.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The gate that holds a just-elected leader's proposals until it is ready, without Ratis. */
class LeaderReadyGateTest {

  private static final long MAX_WAIT_MS = 1000;

  /** A leadership that the test flips, a clock it moves and a timer whose tasks it runs. */
  private static final class Fixture implements LeaderReadyGate.Leadership, LeaderReadyGate.Timer {
    boolean leader = true;
    boolean ready;
    boolean timerShutDown;
    long nowNanos;
    final ArrayDeque<Runnable> scheduled = new ArrayDeque<>();
    final List<String> proposed = new ArrayList<>();
    final LeaderReadyGate gate = new LeaderReadyGate(this, this, () -> nowNanos, MAX_WAIT_MS);

    @Override
    public boolean isLeader() {
      return leader;
    }

    @Override
    public boolean isReady() {
      return leader && ready;
    }

    @Override
    public void schedule(Runnable task, long delayNanos) {
      if (timerShutDown) {
        throw new RejectedExecutionException("shut down");
      }
      scheduled.add(task);
    }

    void submit(String name) {
      gate.submit(() -> proposed.add(name));
    }

    /** Moves the clock by one poll interval and runs what was due. */
    void tick() {
      nowNanos += TimeUnit.MILLISECONDS.toNanos(LeaderReadyGate.POLL_MS);
      int due = scheduled.size();
      for (int i = 0; i < due; i++) {
        scheduled.poll().run();
      }
    }
  }

  @Test
  void aReadyLeaderProposesAtOnce() {
    Fixture f = new Fixture();
    f.ready = true;
    f.submit("a");
    assertEquals(List.of("a"), f.proposed);
    assertEquals(0, f.scheduled.size(), "nothing to poll");
  }

  @Test
  void aLeaderNotReadyYetHoldsProposalsAndReleasesThemInOrderOnceReady() {
    Fixture f = new Fixture();
    f.submit("a");
    f.submit("b");
    f.tick();
    assertEquals(List.of(), f.proposed);
    assertEquals(2, f.gate.heldCount());
    f.ready = true;
    // Ready, but "a" and "b" are still held: "c" must not overtake them.
    f.submit("c");
    assertEquals(List.of(), f.proposed);
    f.tick();
    assertEquals(List.of("a", "b", "c"), f.proposed);
    f.submit("d");
    assertEquals(List.of("a", "b", "c", "d"), f.proposed);
    assertEquals(0, f.scheduled.size(), "no poll left behind");
  }

  @Test
  void aReplicaThatLostLeadershipLetsRatisAnswer() {
    Fixture f = new Fixture();
    f.submit("a");
    f.leader = false;
    f.tick();
    assertEquals(List.of("a"), f.proposed, "released: Ratis answers NOT_LEADER with the new leader");
    f.submit("b");
    assertEquals(List.of("a", "b"), f.proposed, "a follower does not hold");
  }

  @Test
  void heldProposalsGoToRatisAfterTheLongestWait() {
    Fixture f = new Fixture();
    f.submit("a");
    long polls = MAX_WAIT_MS / LeaderReadyGate.POLL_MS;
    for (long i = 1; i < polls; i++) {
      f.tick();
    }
    assertEquals(List.of(), f.proposed);
    f.submit("b");
    f.tick();
    assertEquals(List.of("a", "b"), f.proposed, "released together, in order, when the oldest has waited enough");
    // The wait starts again for the next proposal held.
    f.submit("c");
    f.tick();
    assertEquals(List.of("a", "b"), f.proposed);
  }

  @Test
  void withItsTimersShutDownTheGateHoldsNothing() {
    Fixture f = new Fixture();
    f.timerShutDown = true;
    f.submit("a");
    assertEquals(List.of("a"), f.proposed, "a closing broker must not strand proposals");
  }

  @Test
  void aProposalThatThrowsDoesNotStrandTheOthers() {
    Fixture f = new Fixture();
    f.gate.submit(() -> {
      throw new IllegalStateException("boom");
    });
    f.submit("b");
    f.ready = true;
    f.tick();
    assertEquals(List.of("b"), f.proposed);
  }
}
