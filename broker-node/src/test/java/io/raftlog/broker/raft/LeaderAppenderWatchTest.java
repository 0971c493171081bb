package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LeaderAppenderWatchTest {

  private static final long STOPPED = LeaderAppenderWatch.FAULTY_FOR_MS;
  private static final long FIRST = LeaderAppenderWatch.FIRST_BACKOFF_MS;

  @Test
  void stepsDownOnlyAfterTheAppenderStayedStopped() {
    LeaderAppenderWatch.Tracker t = new LeaderAppenderWatch.Tracker();
    assertFalse(t.observeFault(3, 1_000));
    assertFalse(t.observeFault(3, 1_000 + STOPPED - 1));
    assertTrue(t.observeFault(3, 1_000 + STOPPED));
  }

  @Test
  void aHealthyCheckOrANewTermStartsTheWaitAgain() {
    LeaderAppenderWatch.Tracker t = new LeaderAppenderWatch.Tracker();
    assertFalse(t.observeFault(3, 0));
    t.healthy();
    assertFalse(t.observeFault(3, STOPPED));
    assertFalse(t.observeFault(4, 2 * STOPPED));
    assertFalse(t.observeFault(4, 3 * STOPPED - 1));
    assertTrue(t.observeFault(4, 3 * STOPPED));
  }

  @Test
  void stepDownsForOneGroupBackOffAndTheBackOffResetsAfterAQuietSpell() {
    LeaderAppenderWatch.Tracker t = new LeaderAppenderWatch.Tracker();
    long now = 0;
    assertFalse(t.observeFault(1, now));
    now += STOPPED;
    assertTrue(t.observeFault(1, now));
    long stepDown = now;
    // Re-elected, and an appender stopped again at once: not before the first back-off.
    assertFalse(t.observeFault(2, now + 1));
    assertFalse(t.observeFault(2, stepDown + FIRST - 1));
    assertTrue(t.observeFault(2, stepDown + FIRST));
    stepDown += FIRST;
    // The next one waits twice as long.
    assertFalse(t.observeFault(3, stepDown + 1));
    assertFalse(t.observeFault(3, stepDown + 2 * FIRST - 1));
    assertTrue(t.observeFault(3, stepDown + 2 * FIRST));
    stepDown += 2 * FIRST;
    // After a quiet spell the back-off starts from the first again.
    long later = stepDown + LeaderAppenderWatch.QUIET_MS;
    assertFalse(t.observeFault(9, later));
    assertTrue(t.observeFault(9, later + STOPPED));
    assertFalse(t.observeFault(10, later + STOPPED + 1));
    assertTrue(t.observeFault(10, later + STOPPED + FIRST));
  }
}
