package io.raftlog.broker.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GroupCommitQueueTest {

  /** Items are their sizes in bytes; proposals are recorded, finished by the test. */
  private final List<List<Integer>> proposed = new ArrayList<>();

  private GroupCommitQueue<Integer> queue(int maxInFlight, long maxGroupBytes) {
    return new GroupCommitQueue<>(maxInFlight, maxGroupBytes, Integer::intValue, (group, finished) -> proposed.add(group));
  }

  @Test
  void anIdlePartitionProposesEachBatchAtOnceAlone() {
    GroupCommitQueue<Integer> q = queue(2, 1000);
    q.offer(10);
    q.finished();
    q.offer(20);
    assertEquals(List.of(List.of(10), List.of(20)), proposed);
    assertEquals(1, q.inFlight());
  }

  @Test
  void batchesArrivingWhileEntriesAreInFlightGoIntoOneEntryInArrivalOrder() {
    GroupCommitQueue<Integer> q = queue(2, 1000);
    q.offer(1);
    q.offer(2);
    q.offer(3);
    q.offer(4);
    q.offer(5);
    assertEquals(List.of(List.of(1), List.of(2)), proposed, "two in flight, the rest wait");
    assertEquals(3, q.waiting());
    q.finished();
    assertEquals(List.of(List.of(1), List.of(2), List.of(3, 4, 5)), proposed);
    assertEquals(0, q.waiting());
    assertEquals(2, q.inFlight());
  }

  @Test
  void aGroupStopsBeforeTheByteLimitButTakesAtLeastOneBatch() {
    GroupCommitQueue<Integer> q = queue(1, 100);
    q.offer(1);
    q.offer(60);
    q.offer(40);
    q.offer(1);
    q.offer(500);
    q.offer(7);
    q.finished();
    assertEquals(List.of(60, 40), proposed.get(1), "60 + 40 = 100 fits, + 1 does not");
    q.finished();
    assertEquals(List.of(1), proposed.get(2), "500 does not fit with 1");
    q.finished();
    assertEquals(List.of(500), proposed.get(3), "larger than the limit: alone");
    q.finished();
    assertEquals(List.of(7), proposed.get(4));
    q.finished();
    assertEquals(0, q.inFlight());
  }

  @Test
  void finishingWithNothingInFlightIsABug() {
    GroupCommitQueue<Integer> q = queue(1, 100);
    assertThrows(IllegalStateException.class, q::finished);
    assertThrows(IllegalArgumentException.class, () -> queue(0, 100));
  }
}
