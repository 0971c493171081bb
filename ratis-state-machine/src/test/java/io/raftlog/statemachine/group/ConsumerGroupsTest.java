package io.raftlog.statemachine.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.log.v1.ConsumerGroupRecord;
import io.raftlog.log.v1.CreateTopic;
import io.raftlog.log.v1.DeleteTopic;
import io.raftlog.log.v1.GroupCommitOffsets;
import io.raftlog.log.v1.GroupDelete;
import io.raftlog.log.v1.GroupJoin;
import io.raftlog.log.v1.GroupLeave;
import io.raftlog.log.v1.GroupMemberRecord;
import io.raftlog.log.v1.GroupMemberUpdate;
import io.raftlog.log.v1.GroupOffset;
import io.raftlog.log.v1.GroupResetOffsets;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.MetadataStatus;
import io.raftlog.log.v1.RegisterBroker;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.statemachine.metadata.MetadataState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The group rules through {@link MetadataState} (so topic changes are included): joins, the
 * revoke-before-reassign handover, fencing, commits, deletes and snapshots.
 */
class ConsumerGroupsTest {

  private MetadataState state;
  private long index;
  private long now;

  @BeforeEach
  void setUp() {
    state = new MetadataState();
    index = 0;
    now = 1_000;
    apply(MetadataCommand.newBuilder().setRegisterBroker(RegisterBroker.newBuilder().setBrokerId(1).setHost("h")));
    createTopic("orders", 6);
  }

  private MetadataReply apply(MetadataCommand.Builder cmd) {
    now += 10;
    return state.apply(cmd.setTimestampMs(now).build(), ++index);
  }

  private void createTopic(String name, int partitions) {
    CreateTopic.Builder t = CreateTopic.newBuilder().setName(name).setTopicId(name + "-id").setReplicationFactor(1);
    for (int p = 0; p < partitions; p++) {
      t.addAssignments(ReplicaAssignment.newBuilder().setPartition(p).addReplicas(1));
    }
    assertEquals(MetadataStatus.METADATA_OK, apply(MetadataCommand.newBuilder().setCreateTopic(t)).getStatus());
  }

  private MetadataReply join(String member, String... topics) {
    return apply(MetadataCommand.newBuilder().setGroupJoin(GroupJoin.newBuilder().setGroupId("g").setMemberId(member)
        .addAllSubscribedTopics(List.of(topics)).setSessionTimeoutMs(10_000)));
  }

  private MetadataReply update(String member, int epoch, Set<GroupPartition> owned, String... topics) {
    return apply(MetadataCommand.newBuilder().setGroupMemberUpdate(GroupMemberUpdate.newBuilder().setGroupId("g")
        .setMemberId(member).setMemberEpoch(epoch).addAllSubscribedTopics(List.of(topics))
        .addAllOwnedPartitions(ConsumerGroups.toSets(owned))));
  }

  private MetadataReply leave(String member) {
    return apply(MetadataCommand.newBuilder().setGroupLeave(GroupLeave.newBuilder().setGroupId("g").setMemberId(member)));
  }

  private MetadataReply commit(String member, int epoch, String topic, int partition, long offset) {
    return apply(MetadataCommand.newBuilder().setGroupCommitOffsets(GroupCommitOffsets.newBuilder().setGroupId("g")
        .setMemberId(member).setMemberEpoch(epoch).addOffsets(GroupOffset.newBuilder().setTopic(topic)
            .setPartition(partition).setOffset(offset))));
  }

  private ConsumerGroupRecord group() {
    return state.groups().group("g").orElseThrow();
  }

  private GroupMemberRecord member(String id) {
    return ConsumerGroups.member(group(), id).orElseThrow();
  }

  private SortedSet<GroupPartition> current(String id) {
    return ConsumerGroups.currentAssignment(member(id));
  }

  private static SortedSet<GroupPartition> partitions(String topic, int... ps) {
    SortedSet<GroupPartition> s = new TreeSet<>();
    for (int p : ps) {
      s.add(new GroupPartition(topic, p));
    }
    return s;
  }

  /** No partition is held (assigned, pending or not) by two members. */
  private void assertNoSharedPartitions() {
    Set<GroupPartition> seen = new HashSet<>();
    for (GroupMemberRecord m : group().getMembersList()) {
      for (GroupPartition p : ConsumerGroups.toSet(m.getAssignedList())) {
        assertTrue(seen.add(p), p + " is held by two members: " + group());
      }
    }
  }

  @Test
  void firstMemberGetsEveryPartitionAndTheGroupIsStable() {
    MetadataReply reply = join("a", "orders");
    assertEquals(MetadataStatus.METADATA_OK, reply.getStatus());
    assertEquals(1, reply.getGroup().getGroupEpoch());
    assertEquals(partitions("orders", 0, 1, 2, 3, 4, 5), current("a"));
    assertEquals(1, member("a").getMemberEpoch());
    assertEquals(ConsumerGroups.STATE_STABLE, ConsumerGroups.state(group()));
  }

  @Test
  void aPartitionMovesOnlyAfterItsOwnerConfirmedTheRevocation() {
    join("a", "orders");
    join("b", "orders");
    assertEquals(2, group().getGroupEpoch());
    // a must give up three partitions; b gets nothing until a confirms.
    assertEquals(3, ConsumerGroups.toSet(member("a").getPendingRevocationList()).size());
    assertEquals(1, member("a").getMemberEpoch(), "a keeps its old epoch while it revokes");
    assertEquals(Set.of(), current("b"));
    assertEquals(2, member("b").getMemberEpoch());
    assertEquals(ConsumerGroups.STATE_RECONCILING, ConsumerGroups.state(group()));
    assertNoSharedPartitions();

    // A heartbeat that still owns everything changes nothing.
    update("a", 1, partitions("orders", 0, 1, 2, 3, 4, 5), "orders");
    assertEquals(Set.of(), current("b"));

    SortedSet<GroupPartition> kept = current("a");
    update("a", 1, kept, "orders");
    assertEquals(2, member("a").getMemberEpoch());
    assertEquals(3, current("b").size());
    assertTrue(java.util.Collections.disjoint(current("a"), current("b")));
    assertEquals(ConsumerGroups.STATE_STABLE, ConsumerGroups.state(group()));
    assertNoSharedPartitions();
  }

  @Test
  void aLeavingOrExpelledMemberFreesItsPartitionsAtOnce() {
    join("a", "orders");
    join("b", "orders");
    update("a", 1, current("a"), "orders");
    assertEquals(3, current("b").size());
    leave("a");
    assertEquals(partitions("orders", 0, 1, 2, 3, 4, 5), current("b"));
    assertEquals(ConsumerGroups.STATE_STABLE, ConsumerGroups.state(group()));
  }

  @Test
  void threeMembersOnSixPartitionsGetTwoEach() {
    join("a", "orders");
    join("b", "orders");
    join("c", "orders");
    update("a", member("a").getMemberEpoch(), current("a"), "orders");
    for (String m : List.of("a", "b", "c")) {
      update(m, member(m).getMemberEpoch(), current(m), "orders");
    }
    for (String m : List.of("a", "b", "c")) {
      assertEquals(2, current(m).size(), m + ": " + group());
    }
    assertEquals(ConsumerGroups.STATE_STABLE, ConsumerGroups.state(group()));
  }

  @Test
  void heartbeatsFromAnotherEpochOrAnUnknownMemberAreFenced() {
    join("a", "orders");
    assertEquals(MetadataStatus.METADATA_FENCED_MEMBER_EPOCH, update("a", 5, Set.of(), "orders").getStatus());
    assertEquals(MetadataStatus.METADATA_UNKNOWN_MEMBER, update("zz", 1, Set.of(), "orders").getStatus());
    // A rejoin starts a new incarnation: heartbeats of the old one (older epochs) are fenced.
    join("b", "orders");
    join("a", "orders");
    int joinEpoch = member("a").getJoinEpoch();
    assertEquals(3, joinEpoch);
    assertEquals(MetadataStatus.METADATA_FENCED_MEMBER_EPOCH, update("a", 1, Set.of(), "orders").getStatus());
  }

  @Test
  void aRejoiningMemberOwnsNothingAndItsPartitionsAreFree() {
    join("a", "orders");
    join("b", "orders");
    // a never confirms its revocation but rejoins (it lost its partitions, e.g. after a session loss).
    join("a", "orders");
    assertNoSharedPartitions();
    assertEquals(3, current("b").size());
    assertEquals(3, current("a").size());
  }

  @Test
  void commitsAreFencedByMembershipEpochAndOwnership() {
    join("a", "orders");
    int epoch = member("a").getMemberEpoch();
    assertEquals(MetadataStatus.METADATA_OK, commit("a", epoch, "orders", 0, 42).getStatus());
    assertEquals(42, group().getOffsets(0).getOffset());
    assertEquals(now, group().getOffsets(0).getCommitTimestampMs());
    assertEquals(MetadataStatus.METADATA_UNKNOWN_MEMBER, commit("x", 1, "orders", 0, 1).getStatus());
    assertEquals(MetadataStatus.METADATA_STALE_MEMBER_EPOCH, commit("a", epoch + 1, "orders", 0, 1).getStatus());
    assertEquals(MetadataStatus.METADATA_INVALID, commit("a", epoch, "orders", 9, 1).getStatus());
    assertEquals(MetadataStatus.METADATA_INVALID, commit("a", epoch, "nope", 0, 1).getStatus());
    assertEquals(MetadataStatus.METADATA_INVALID, commit("a", epoch, "orders", 0, -1).getStatus());
    // Outsiders may not commit while the group has members.
    assertEquals(MetadataStatus.METADATA_UNKNOWN_MEMBER, commit("", -1, "orders", 0, 1).getStatus());

    join("b", "orders");
    SortedSet<GroupPartition> revoked = ConsumerGroups.toSet(member("a").getPendingRevocationList());
    GroupPartition moving = revoked.first();
    // Still a's until it confirms: its commit (e.g. from onPartitionsRevoked) is accepted.
    assertEquals(MetadataStatus.METADATA_OK, commit("a", epoch, moving.topic(), moving.partition(), 7).getStatus());
    update("a", epoch, current("a"), "orders");
    assertEquals(MetadataStatus.METADATA_STALE_MEMBER_EPOCH,
        commit("a", member("a").getMemberEpoch(), moving.topic(), moving.partition(), 8).getStatus(),
        "a gave the partition up");
    // b gained partitions at its current epoch; a commit stamped before that is stale.
    GroupMemberRecord b = member("b");
    GroupPartition bs = current("b").first();
    assertEquals(MetadataStatus.METADATA_STALE_MEMBER_EPOCH,
        commit("b", b.getAssignmentEpoch() - 1, bs.topic(), bs.partition(), 1).getStatus());
    assertEquals(MetadataStatus.METADATA_OK, commit("b", b.getMemberEpoch(), bs.topic(), bs.partition(), 1).getStatus());
  }

  @Test
  void outsidersCommitToAGroupWithoutMembers() {
    assertEquals(MetadataStatus.METADATA_OK, commit("", -1, "orders", 3, 10).getStatus());
    assertEquals(ConsumerGroups.STATE_EMPTY, ConsumerGroups.state(group()));
    assertEquals(10, group().getOffsets(0).getOffset());
  }

  @Test
  void topicsCreatedLaterAreAssignedAndDeletedTopicsLoseTheirOffsets() {
    join("a", "orders", "later");
    int epoch = group().getGroupEpoch();
    createTopic("later", 2);
    assertEquals(epoch + 1, group().getGroupEpoch());
    assertTrue(current("a").containsAll(partitions("later", 0, 1)));
    commit("a", member("a").getMemberEpoch(), "later", 1, 5);
    assertEquals(1, group().getOffsetsCount());

    apply(MetadataCommand.newBuilder().setDeleteTopic(DeleteTopic.newBuilder().setName("later")));
    assertEquals(0, group().getOffsetsCount());
    assertEquals(partitions("later", 0, 1), ConsumerGroups.toSet(member("a").getPendingRevocationList()));
    update("a", member("a").getMemberEpoch(), partitions("orders", 0, 1, 2, 3, 4, 5), "orders", "later");
    assertEquals(partitions("orders", 0, 1, 2, 3, 4, 5), current("a"));
    assertEquals(ConsumerGroups.STATE_STABLE, ConsumerGroups.state(group()));
  }

  @Test
  void aNewSubscriptionRebalances() {
    createTopic("other", 3);
    join("a", "orders");
    int epoch = group().getGroupEpoch();
    update("a", member("a").getMemberEpoch(), current("a"), "orders", "other");
    assertEquals(epoch + 1, group().getGroupEpoch());
    assertEquals(9, current("a").size());
  }

  @Test
  void deleteAndResetNeedAGroupWithoutMembers() {
    join("a", "orders");
    GroupOffset zero = GroupOffset.newBuilder().setTopic("orders").setPartition(0).setOffset(0).build();
    assertEquals(MetadataStatus.METADATA_GROUP_NOT_EMPTY, apply(MetadataCommand.newBuilder()
        .setGroupDelete(GroupDelete.newBuilder().setGroupId("g"))).getStatus());
    assertEquals(MetadataStatus.METADATA_GROUP_NOT_EMPTY, apply(MetadataCommand.newBuilder()
        .setGroupResetOffsets(GroupResetOffsets.newBuilder().setGroupId("g").addOffsets(zero))).getStatus());
    commit("a", member("a").getMemberEpoch(), "orders", 0, 9);
    leave("a");
    assertEquals(ConsumerGroups.STATE_EMPTY, ConsumerGroups.state(group()), "offsets keep an empty group");
    assertEquals(MetadataStatus.METADATA_OK, apply(MetadataCommand.newBuilder()
        .setGroupResetOffsets(GroupResetOffsets.newBuilder().setGroupId("g").addOffsets(zero))).getStatus());
    assertEquals(0, group().getOffsets(0).getOffset());
    assertEquals(MetadataStatus.METADATA_OK, apply(MetadataCommand.newBuilder()
        .setGroupDelete(GroupDelete.newBuilder().setGroupId("g"))).getStatus());
    assertFalse(state.groups().group("g").isPresent());
    assertEquals(MetadataStatus.METADATA_UNKNOWN_GROUP, apply(MetadataCommand.newBuilder()
        .setGroupDelete(GroupDelete.newBuilder().setGroupId("g"))).getStatus());
  }

  @Test
  void aGroupWithoutMembersOrOffsetsDisappearsWhenItsLastMemberLeaves() {
    join("a", "orders");
    leave("a");
    assertFalse(state.groups().group("g").isPresent());
    assertEquals(MetadataStatus.METADATA_UNKNOWN_MEMBER, leave("a").getStatus());
  }

  @Test
  void groupCommandsLeaveTheSharedImageAlone() {
    MetadataImage before = state.image();
    join("a", "orders");
    assertTrue(before == state.image(), "a group command must not replace the broker/topic image");
  }

  @Test
  void groupsSurviveASnapshot() {
    join("a", "orders");
    join("b", "orders");
    commit("a", member("a").getMemberEpoch(), "orders", 1, 11);
    MetadataImage snapshot = state.snapshotImage();
    MetadataState restored = new MetadataState(snapshot);
    assertEquals(state.groups().all(), restored.groups().all());
    assertEquals(0, restored.image().getGroupsCount(), "groups live apart from the shared image");
    assertEquals(state.image(), restored.image());
  }

  @Test
  void invalidJoinsAreRejected() {
    assertEquals(MetadataStatus.METADATA_INVALID, apply(MetadataCommand.newBuilder().setGroupJoin(GroupJoin.newBuilder()
        .setGroupId("g").setMemberId("a").setSessionTimeoutMs(10_000).setAssignor("fancy"))).getStatus());
    assertEquals(MetadataStatus.METADATA_INVALID, apply(MetadataCommand.newBuilder().setGroupJoin(GroupJoin.newBuilder()
        .setGroupId("").setMemberId("a").setSessionTimeoutMs(10_000))).getStatus());
    assertEquals(MetadataStatus.METADATA_INVALID, apply(MetadataCommand.newBuilder().setGroupJoin(GroupJoin.newBuilder()
        .setGroupId("g").setMemberId("").setSessionTimeoutMs(10_000))).getStatus());
  }

  /**
   * Random joins, leaves, rejoins, subscription changes and (possibly late) confirmations from
   * clients that obey their assignment: after every step no partition is held twice; once every
   * client has confirmed, the group is stable and every partition of a subscribed topic is owned.
   */
  @Test
  void randomMembershipChangesNeverShareAPartition() {
    createTopic("other", 4);
    for (long seed = 1; seed <= 30; seed++) {
      setUp();
      createTopic("other", 4);
      Random random = new Random(seed);
      Map<String, SortedSet<GroupPartition>> clientOwns = new HashMap<>();
      List<String> ids = List.of("m1", "m2", "m3", "m4", "m5");
      for (int step = 0; step < 200; step++) {
        String id = ids.get(random.nextInt(ids.size()));
        boolean present = state.groups().group("g").flatMap(g -> ConsumerGroups.member(g, id)).isPresent();
        int action = random.nextInt(10);
        String[] topics = random.nextBoolean() ? new String[] {"orders"} : new String[] {"orders", "other"};
        if (!present || action == 0) {
          clientOwns.put(id, new TreeSet<>());
          join(id, topics);
        } else if (action == 1) {
          leave(id);
          clientOwns.remove(id);
        } else {
          // The client adopts its current assignment (revoking first), then reports it.
          GroupMemberRecord m = member(id);
          SortedSet<GroupPartition> owns = ConsumerGroups.currentAssignment(m);
          clientOwns.put(id, owns);
          MetadataReply r = update(id, m.getMemberEpoch(), owns, action == 2 ? topics
              : m.getSubscribedTopicsList().toArray(String[]::new));
          assertEquals(MetadataStatus.METADATA_OK, r.getStatus(), "seed " + seed);
        }
        if (state.groups().group("g").isPresent()) {
          assertNoSharedPartitions();
        }
      }
      // Converge: every client confirms until nothing changes.
      for (int round = 0; round < 10 && state.groups().group("g").isPresent(); round++) {
        for (GroupMemberRecord m : new ArrayList<>(group().getMembersList())) {
          update(m.getMemberId(), member(m.getMemberId()).getMemberEpoch(),
              ConsumerGroups.currentAssignment(member(m.getMemberId())),
              member(m.getMemberId()).getSubscribedTopicsList().toArray(String[]::new));
        }
      }
      if (state.groups().group("g").isPresent() && group().getMembersCount() > 0) {
        assertEquals(ConsumerGroups.STATE_STABLE, ConsumerGroups.state(group()), "seed " + seed + ": " + group());
        Set<GroupPartition> owned = new HashSet<>();
        Set<String> subscribed = new HashSet<>();
        group().getMembersList().forEach(m -> {
          owned.addAll(ConsumerGroups.currentAssignment(m));
          subscribed.addAll(m.getSubscribedTopicsList());
        });
        int expected = (subscribed.contains("orders") ? 6 : 0) + (subscribed.contains("other") ? 4 : 0);
        assertEquals(expected, owned.size(), "seed " + seed + ": every subscribed partition is owned");
      }
    }
  }
}
