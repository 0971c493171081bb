package io.raftlog.broker.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.raft.GroupIds;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.Test;

class ReassignerTest {

  @Test
  void aStagedReplicaWhoseMatchIndexStandsStillIsReportedStalledOncePerPeriod() {
    long stall = Reassigner.STAGING_STALL_MS;
    Reassigner.StagingWatch w = new Reassigner.StagingWatch(Set.of(4), 1_000);
    assertFalse(w.stalled(Map.of(), 1_000 + stall - 1)); // no appender yet: waits from the start
    assertTrue(w.stalled(Map.of(), 1_000 + stall));
    assertFalse(w.stalled(Map.of(), 1_000 + stall + 1)); // not again before another period
    long t = 1_000 + stall;
    assertFalse(w.stalled(Map.of(4, -1L), t + 10)); // first seen: progress
    assertFalse(w.stalled(Map.of(4, -1L), t + 10 + stall - 1));
    assertTrue(w.stalled(Map.of(4, -1L), t + 10 + stall)); // still -1 a whole period later
  }

  @Test
  void aStagedReplicaCatchingUpIsNeverReportedStalled() {
    long stall = Reassigner.STAGING_STALL_MS;
    Reassigner.StagingWatch w = new Reassigner.StagingWatch(Set.of(4, 5), 0);
    for (long i = 1; i <= 10; i++) {
      // Broker 5 stands still, but broker 4 moves on: the step progresses.
      assertFalse(w.stalled(Map.of(4, i * 100, 5, 0L), i * (stall / 2)));
    }
  }

  @Test
  void growStepsAddFewerPeersThanTheyKeepAsRatisRequires() {
    // One member may take one new peer; two members one; three members two.
    assertEquals(List.of(2, 1), Reassigner.grow(set(1), List.of(2, 3, 4)));
    assertEquals(List.of(2, 1), Reassigner.grow(set(1), List.of(2, 3)));
    assertEquals(List.of(2, 3, 1), Reassigner.grow(set(2, 3), List.of(2, 3, 1, 4)));
    assertEquals(List.of(4, 2, 3, 1), Reassigner.grow(set(1, 2, 3), List.of(4, 2, 3)));
    assertEquals(List.of(4, 5, 3, 1, 2), Reassigner.grow(set(1, 2, 3), List.of(4, 5, 3)));
    assertEquals(List.of(4, 5, 1, 2, 3), Reassigner.grow(set(1, 2, 3), List.of(4, 5, 6)));
  }

  @Test
  void aJoiningReplicaStartsAtTheLowestPriorityEvenAsThePreferredLeader() {
    // [2, 3] -> [1, 2, 3]: broker 1 joins and will be the preferred leader; until the change is done
    // it must not outrank the members it joins (its veto could leave the group without a leader).
    Map<Integer, Integer> current = Map.of(2, LeadershipGuard.PREFERRED_PRIORITY, 3, LeadershipGuard.FOLLOWER_PRIORITY);
    List<Integer> target = List.of(1, 2, 3);
    assertEquals(LeadershipGuard.REPAIRING_PRIORITY, Reassigner.memberPriority(1, target, current, true));
    assertEquals(LeadershipGuard.FOLLOWER_PRIORITY, Reassigner.memberPriority(2, target, current, true));
    assertEquals(LeadershipGuard.FOLLOWER_PRIORITY, Reassigner.memberPriority(3, target, current, true));
  }

  @Test
  void membersTakeTheirTargetPriorityLeavingOnesTheLowestAndRepairingOnesKeepTheirs() {
    Map<Integer, Integer> current = Map.of(1, LeadershipGuard.FOLLOWER_PRIORITY, 2, LeadershipGuard.REPAIRING_PRIORITY,
        3, LeadershipGuard.FOLLOWER_PRIORITY);
    List<Integer> target = List.of(3, 2, 4);
    assertEquals(LeadershipGuard.PREFERRED_PRIORITY, Reassigner.memberPriority(3, target, current, true));
    assertEquals(LeadershipGuard.FOLLOWER_PRIORITY, Reassigner.memberPriority(3, target, current, false));
    assertEquals(LeadershipGuard.REPAIRING_PRIORITY, Reassigner.memberPriority(2, target, current, true));
    assertEquals(LeadershipGuard.REPAIRING_PRIORITY, Reassigner.memberPriority(1, target, current, true));
    assertEquals(LeadershipGuard.REPAIRING_PRIORITY, Reassigner.memberPriority(4, target, current, true));
  }

  @Test
  void leavingMembersAreLoweredBeforeTheGroupShrinks() {
    // [1, 2, 3] -> [2, 3] with broker 1 the preferred leader: lowered first, then removed.
    List<RaftPeer> current = List.of(peer(1, LeadershipGuard.PREFERRED_PRIORITY), peer(2, LeadershipGuard.FOLLOWER_PRIORITY),
        peer(3, LeadershipGuard.FOLLOWER_PRIORITY));
    Set<Integer> targets = set(2, 3);
    assertTrue(Reassigner.leavingOutrank(current, targets));
    List<RaftPeer> lowered = Reassigner.leavingLowered(current, targets);
    assertEquals(List.of(LeadershipGuard.REPAIRING_PRIORITY, LeadershipGuard.FOLLOWER_PRIORITY,
        LeadershipGuard.FOLLOWER_PRIORITY), lowered.stream().map(RaftPeer::getPriority).toList());
    assertEquals(current.stream().map(RaftPeer::getId).toList(), lowered.stream().map(RaftPeer::getId).toList());
    assertFalse(Reassigner.leavingOutrank(lowered, targets));
    assertFalse(Reassigner.leavingOutrank(current, set(1, 2, 3)));
  }

  private static RaftPeer peer(int broker, int priority) {
    return RaftPeer.newBuilder().setId(GroupIds.peerId(broker)).setAddress("127.0.0.1:" + (9000 + broker))
        .setPriority(priority).build();
  }

  private static Set<Integer> set(Integer... ids) {
    return new TreeSet<>(List.of(ids));
  }
}
