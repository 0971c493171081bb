package io.raftlog.statemachine.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftlog.statemachine.store.LogStore.SegmentInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetentionTest {

  private static final long NOW = 1_700_000_000_000L;
  private static final long HOUR = 3_600_000;

  /** Three sealed segments of 100 bytes (offsets 0-9, 10-19, 20-29) and the active one (30-34). */
  private static List<SegmentInfo> segments(long... newestTimestamps) {
    return List.of(
        new SegmentInfo(0, 10, 100, newestTimestamps[0]),
        new SegmentInfo(10, 20, 100, newestTimestamps[1]),
        new SegmentInfo(20, 30, 100, newestTimestamps[2]),
        new SegmentInfo(30, 35, 50, newestTimestamps[3]));
  }

  @Test
  void nothingIsDueWithoutLimits() {
    assertEquals(-1, Retention.newLogStart(segments(0, 0, 0, 0), 0, -1, -1, NOW));
  }

  @Test
  void timeDeletesTheOldestSegmentsUpToTheFirstThatIsKept() {
    List<SegmentInfo> s = segments(NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - 10, NOW);
    assertEquals(20, Retention.newLogStart(s, 0, HOUR, -1, NOW));
    assertEquals(10, Retention.newLogStart(s, 0, 2 * HOUR + 1, -1, NOW));
    assertEquals(-1, Retention.newLogStart(s, 0, 4 * HOUR, -1, NOW));
  }

  @Test
  void timeStopsAtASegmentOfNewerRecordsEvenIfLaterOnesAreOld() {
    List<SegmentInfo> s = segments(NOW - 3 * HOUR, NOW, NOW - 3 * HOUR, NOW);
    assertEquals(10, Retention.newLogStart(s, 0, HOUR, -1, NOW));
  }

  @Test
  void theActiveSegmentIsNeverDeleted() {
    long old = NOW - 10 * HOUR;
    assertEquals(30, Retention.newLogStart(segments(old, old, old, old), 0, HOUR, -1, NOW));
    assertEquals(30, Retention.newLogStart(segments(old, old, old, old), 0, -1, 0, NOW));
  }

  @Test
  void segmentsWithoutTimestampsOrFromTheFutureAreNotDeletedByTime() {
    assertEquals(-1, Retention.newLogStart(segments(-1, NOW - 3 * HOUR, 0, NOW), 0, HOUR, -1, NOW));
    assertEquals(-1, Retention.newLogStart(segments(NOW + HOUR, NOW - 3 * HOUR, 0, NOW), 0, HOUR, -1, NOW));
  }

  @Test
  void sizeDeletesOldSegmentsWhileWhatRemainsStillHoldsTheLimit() {
    List<SegmentInfo> s = segments(NOW, NOW, NOW, NOW); // 350 bytes
    assertEquals(-1, Retention.newLogStart(s, 0, -1, 300, NOW), "without segment 0 only 250 would remain");
    assertEquals(10, Retention.newLogStart(s, 0, -1, 250, NOW));
    assertEquals(20, Retention.newLogStart(s, 0, -1, 150, NOW));
    assertEquals(30, Retention.newLogStart(s, 0, -1, 1, NOW));
  }

  @Test
  void theLargerOfTheTwoCutsWins() {
    List<SegmentInfo> s = segments(NOW - 3 * HOUR, NOW, NOW, NOW);
    assertEquals(20, Retention.newLogStart(s, 0, HOUR, 150, NOW));
    assertEquals(10, Retention.newLogStart(s, 0, HOUR, 300, NOW));
  }

  @Test
  void aCutAtOrBelowTheCurrentStartIsNothingToDo() {
    List<SegmentInfo> s = segments(NOW - 3 * HOUR, NOW, NOW, NOW);
    assertEquals(-1, Retention.newLogStart(s, 10, HOUR, -1, NOW));
    assertEquals(-1, Retention.newLogStart(s, 15, HOUR, -1, NOW), "the start already lies inside the next segment");
  }

  @Test
  void aSingleActiveSegmentIsKept() {
    List<SegmentInfo> s = List.of(new SegmentInfo(0, 5, 50, 0));
    assertEquals(-1, Retention.newLogStart(s, 0, 0, 0, NOW));
  }
}
