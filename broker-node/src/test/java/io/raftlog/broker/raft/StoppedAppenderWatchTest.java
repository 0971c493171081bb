package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StoppedAppenderWatchTest {

  private static final long STOPPED = StoppedAppenderWatch.STOPPED_FOR_MS;
  private static final long FIRST = StoppedAppenderWatch.FIRST_BACKOFF_MS;

  @Test
  void stepsDownOnlyAfterTheAppenderStayedStopped() {
    StoppedAppenderWatch.Tracker t = new StoppedAppenderWatch.Tracker();
    assertFalse(t.observeStopped(3, 1_000));
    assertFalse(t.observeStopped(3, 1_000 + STOPPED - 1));
    assertTrue(t.observeStopped(3, 1_000 + STOPPED));
  }

  @Test
  void aHealthyCheckOrANewTermStartsTheWaitAgain() {
    StoppedAppenderWatch.Tracker t = new StoppedAppenderWatch.Tracker();
    assertFalse(t.observeStopped(3, 0));
    t.healthy();
    assertFalse(t.observeStopped(3, STOPPED));
    assertFalse(t.observeStopped(4, 2 * STOPPED));
    assertFalse(t.observeStopped(4, 3 * STOPPED - 1));
    assertTrue(t.observeStopped(4, 3 * STOPPED));
  }

  @Test
  void stepDownsForOneGroupBackOffAndTheBackOffResetsAfterAQuietSpell() {
    StoppedAppenderWatch.Tracker t = new StoppedAppenderWatch.Tracker();
    long now = 0;
    assertFalse(t.observeStopped(1, now));
    now += STOPPED;
    assertTrue(t.observeStopped(1, now));
    long stepDown = now;
    // Re-elected, and an appender stopped again at once: not before the first back-off.
    assertFalse(t.observeStopped(2, now + 1));
    assertFalse(t.observeStopped(2, stepDown + FIRST - 1));
    assertTrue(t.observeStopped(2, stepDown + FIRST));
    stepDown += FIRST;
    // The next one waits twice as long.
    assertFalse(t.observeStopped(3, stepDown + 1));
    assertFalse(t.observeStopped(3, stepDown + 2 * FIRST - 1));
    assertTrue(t.observeStopped(3, stepDown + 2 * FIRST));
    stepDown += 2 * FIRST;
    // After a quiet spell the back-off starts from the first again.
    long later = stepDown + StoppedAppenderWatch.QUIET_MS;
    assertFalse(t.observeStopped(9, later));
    assertTrue(t.observeStopped(9, later + STOPPED));
    assertFalse(t.observeStopped(10, later + STOPPED + 1));
    assertTrue(t.observeStopped(10, later + STOPPED + FIRST));
  }
}
