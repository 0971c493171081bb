package io.raftlog.broker.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftlog.broker.partition.IsrTracker.FollowerProgress;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IsrTrackerTest {

  private static final long LAG = 1_000;
  private static final int LEADER = 1;

  private static FollowerProgress at(long matchIndex, long elapsedMs) {
    return new FollowerProgress(matchIndex, elapsedMs);
  }

  @Test
  void leaderAloneIsTheIsrBeforeAnySample() {
    IsrTracker t = new IsrTracker(LAG);
    assertEquals(Set.of(LEADER), t.inSync(0, LEADER));
    assertEquals(Set.of(7), t.inSync(1_000_000, 7));
  }

  @Test
  void leaderIsAlwaysInEvenIfItAppearsAsALaggingFollower() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 10, Map.of(LEADER, at(0, 0)));
    t.sample(100, 20, Map.of(LEADER, at(0, 50_000)));
    assertEquals(Set.of(LEADER), t.inSync(50_000, LEADER));
  }

  @Test
  void followersInContactAndCaughtUpAreInSync() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 10, Map.of(2, at(10, 5), 3, at(10, 5)));
    t.sample(100, 10, Map.of(2, at(10, 5), 3, at(10, 5)));
    assertEquals(Set.of(1, 2, 3), t.inSync(100, LEADER));
  }

  @Test
  void aFollowerThatIsNoLongerSampledLeavesAtOnce() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 10, Map.of(2, at(10, 5), 3, at(10, 5)));
    assertEquals(Set.of(1, 2, 3), t.inSync(0, LEADER));
    // Broker 3 was removed from the group: it is not a member, even while its last answer is recent.
    t.sample(100, 10, Map.of(2, at(10, 5)));
    assertEquals(Set.of(1, 2), t.inSync(100, LEADER));
  }

  @Test
  void followerWithoutContactDropsOutAfterTheLagTime() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 10, Map.of(2, at(10, 0), 3, at(10, 0)));
    // follower 3 keeps its match index (caught up, the partition is idle) but stops answering
    for (long now = 100; now <= 3_000; now += 100) {
      t.sample(now, 10, Map.of(2, at(10, 10), 3, at(10, now)));
      Set<Integer> expected = now <= LAG ? Set.of(1, 2, 3) : Set.of(1, 2);
      assertEquals(expected, t.inSync(now, LEADER), "at " + now);
    }
  }

  @Test
  void contactBoundaryIsInclusive() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(5_000, 10, Map.of(2, at(10, LAG)));
    assertEquals(Set.of(1, 2), t.inSync(5_000, LEADER));
    t.sample(5_001, 10, Map.of(2, at(10, LAG + 1)));
    assertEquals(Set.of(1), t.inSync(5_001, LEADER));
  }

  @Test
  void followerInContactButNotCatchingUpDropsOutAfterTheLagTime() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 100, Map.of(2, at(100, 0), 3, at(100, 0)));
    long commit = 100;
    for (long now = 100; now <= 3_000; now += 100) {
      commit += 50;
      // follower 2 keeps up with the previous commit; follower 3 is stuck at 100 but heartbeats
      t.sample(now, commit, Map.of(2, at(commit - 10, 5), 3, at(100, 5)));
      // follower 3 last caught up at the sample at 100 (100 >= previous commit 100)
      Set<Integer> expected = now <= 100 + LAG ? Set.of(1, 2, 3) : Set.of(1, 2);
      assertEquals(expected, t.inSync(now, LEADER), "at " + now);
    }
  }

  @Test
  void busyFollowerAFewEntriesBehindTheNewestCommitStaysIn() {
    IsrTracker t = new IsrTracker(LAG);
    long commit = 0;
    for (long now = 0; now <= 60_000; now += 250) {
      long previous = commit;
      commit += 1_000;
      // always behind the newest commit, never behind the previous sample's commit
      t.sample(now, commit, Map.of(2, at(previous + 3, 1)));
      assertEquals(Set.of(1, 2), t.inSync(now, LEADER), "at " + now);
    }
  }

  @Test
  void followerBehindThePreviousSampleDoesNotCountAsCaughtUp() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 100, Map.of(2, at(100, 0)));
    t.sample(500, 200, Map.of(2, at(99, 0))); // 99 < previous commit 100
    t.sample(1_000, 300, Map.of(2, at(199, 0))); // 199 < previous commit 200
    t.sample(1_001, 400, Map.of(2, at(299, 0)));
    assertEquals(Set.of(1), t.inSync(1_001, LEADER));
  }

  @Test
  void laggingFollowerThatCatchesUpRejoins() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 100, Map.of(2, at(100, 0)));
    t.sample(2_000, 200, Map.of(2, at(50, 0)));
    assertEquals(Set.of(1), t.inSync(2_000, LEADER));
    t.sample(2_100, 200, Map.of(2, at(200, 0)));
    assertEquals(Set.of(1, 2), t.inSync(2_100, LEADER));
  }

  @Test
  void withoutNewSamplesEveryoneButTheLeaderEventuallyDropsOut() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 10, Map.of(2, at(10, 0), 3, at(10, 0)));
    assertEquals(Set.of(1, 2, 3), t.inSync(LAG, LEADER));
    assertEquals(Set.of(1), t.inSync(LAG + 1, LEADER));
  }

  @Test
  void followerMissingFromLaterSamplesDropsOut() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 10, Map.of(2, at(10, 0), 3, at(10, 0)));
    t.sample(600, 10, Map.of(2, at(10, 0)));
    t.sample(1_200, 10, Map.of(2, at(10, 0)));
    assertEquals(Set.of(1, 2), t.inSync(1_200, LEADER));
  }

  @Test
  void firstSampleGivesEveryFollowerTheBenefitOfTheDoubt() {
    // There is no earlier commit index to compare with, so any match index counts as caught up.
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 1_000, Map.of(2, at(-1, 0), 3, at(0, 0)));
    assertEquals(Set.of(1, 2, 3), t.inSync(0, LEADER));
  }

  @Test
  void inSyncIsSortedAndIncludesALeaderThatIsNotTheSmallestId() {
    IsrTracker t = new IsrTracker(LAG);
    t.sample(0, 0, Map.of(1, at(0, 0), 2, at(0, 0)));
    assertEquals(java.util.List.of(1, 2, 3), java.util.List.copyOf(t.inSync(0, 3)));
  }
}
