package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.DescribeGroupRequest;
import io.raftlog.api.v1.DescribeGroupResponse;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.FindCoordinatorRequest;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.api.v1.GroupHeartbeatResponse;
import io.raftlog.api.v1.GroupServiceGrpc;
import io.raftlog.api.v1.OffsetCommit;
import io.raftlog.broker.rpc.GrpcErrors;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group coordinator over gRPC on an in-process cluster: one coordinator that every broker
 * names, NOT_COORDINATOR with a hint elsewhere, and group state and committed offsets that survive
 * the coordinator's broker and a full cluster restart (they are in the metadata log).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class GroupCoordinatorFailoverTest {

  @TempDir
  Path dir;

  private static GroupServiceGrpc.GroupServiceBlockingStub groups(MiniCluster c, int broker) {
    return GroupServiceGrpc.newBlockingStub(c.channel(broker)).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  /** The coordinator every running broker agrees on. */
  private static int awaitCoordinator(MiniCluster c) {
    return Wait.forValue("one group coordinator named by every running broker", Duration.ofSeconds(60), () -> {
      Integer agreed = null;
      for (int id : c.runningIds()) {
        FindCoordinatorResponse r = groups(c, id).findCoordinator(FindCoordinatorRequest.newBuilder().setGroupId("g").build());
        if (r.getError().getCode() != ErrorCode.NONE || !c.runningIds().contains(r.getCoordinator().getBrokerId())) {
          return null;
        }
        if (agreed != null && agreed != r.getCoordinator().getBrokerId()) {
          return null;
        }
        agreed = r.getCoordinator().getBrokerId();
      }
      // The coordinator answers only once it has applied its predecessor's log.
      try {
        groups(c, agreed).listGroups(io.raftlog.api.v1.ListGroupsRequest.getDefaultInstance());
        return agreed;
      } catch (StatusRuntimeException e) {
        return null;
      }
    });
  }

  private static Error errorOf(StatusRuntimeException e) {
    return e.getTrailers() == null ? null : e.getTrailers().get(GrpcErrors.ERROR_KEY);
  }

  @Test
  void groupStateAndOffsetsSurviveTheCoordinator() {
    try (MiniCluster c = MiniCluster.start(3, dir)) {
      c.createTopic("t", 6, 3);
      int coordinator = awaitCoordinator(c);
      int other = c.runningIds().stream().filter(id -> id != coordinator).findFirst().orElseThrow();

      GroupHeartbeatRequest join = GroupHeartbeatRequest.newBuilder().setGroupId("g").setMemberId("member-a")
          .setMemberEpoch(0).addSubscribedTopics("t").setSessionTimeoutMs(60_000).build();
      StatusRuntimeException notCoordinator = assertThrows(StatusRuntimeException.class,
          () -> groups(c, other).heartbeat(join));
      assertEquals(ErrorCode.NOT_COORDINATOR, errorOf(notCoordinator).getCode());
      assertEquals(coordinator, errorOf(notCoordinator).getLeaderId());

      GroupHeartbeatResponse joined = groups(c, coordinator).heartbeat(join);
      assertEquals(6, joined.getAssignmentList().stream().mapToInt(tp -> tp.getPartitionsCount()).sum());
      CommitOffsetsRequest.Builder commit = CommitOffsetsRequest.newBuilder().setGroupId("g").setMemberId("member-a")
          .setMemberEpoch(joined.getMemberEpoch());
      for (int p = 0; p < 6; p++) {
        commit.addOffsets(OffsetCommit.newBuilder().setTopic("t").setPartition(p).setOffset(10 + p).setMetadata("m" + p));
      }
      groups(c, coordinator).commitOffsets(commit.build());

      // A commit with a stale epoch is refused with a clear error and changes nothing.
      StatusRuntimeException stale = assertThrows(StatusRuntimeException.class, () -> groups(c, coordinator)
          .commitOffsets(commit.setMemberEpoch(joined.getMemberEpoch() + 5).build()));
      assertEquals(ErrorCode.STALE_MEMBER_EPOCH, errorOf(stale).getCode());

      c.kill(coordinator);
      int next = awaitCoordinator(c);
      assertNotEquals(coordinator, next);
      assertOffsets(groups(c, next).fetchOffsets(FetchOffsetsRequest.newBuilder().setGroupId("g").build()));
      DescribeGroupResponse described = groups(c, next).describeGroup(DescribeGroupRequest.newBuilder().setGroupId("g").build());
      assertEquals("STABLE", described.getState());
      assertEquals("member-a", described.getMembers(0).getMemberId());
      // The member keeps its membership across the failover: no rejoin needed.
      GroupHeartbeatResponse again = groups(c, next).heartbeat(join.toBuilder().setMemberEpoch(joined.getMemberEpoch())
          .addAllOwnedPartitions(joined.getAssignmentList()).build());
      assertEquals(joined.getMemberEpoch(), again.getMemberEpoch());
      assertEquals(joined.getAssignmentList(), again.getAssignmentList());

      c.stopAll();
      c.startAll();
      int afterRestart = awaitCoordinator(c);
      assertOffsets(groups(c, afterRestart).fetchOffsets(FetchOffsetsRequest.newBuilder().setGroupId("g").build()));
    }
  }

  private static void assertOffsets(FetchOffsetsResponse fetched) {
    assertEquals(6, fetched.getOffsetsCount(), fetched.toString());
    for (int p = 0; p < 6; p++) {
      assertEquals(10 + p, fetched.getOffsets(p).getOffset());
      assertEquals("m" + p, fetched.getOffsets(p).getMetadata());
    }
  }
}
