package io.raftlog.broker.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.api.v1.GroupHeartbeatResponse;
import io.raftlog.api.v1.OffsetCommit;
import io.raftlog.api.v1.ResetOffsetsRequest;
import io.raftlog.api.v1.TopicPartitions;
import io.raftlog.broker.BrokerException;
import io.raftlog.log.v1.CreateTopic;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.RegisterBroker;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.statemachine.group.ConsumerGroups;
import io.raftlog.statemachine.metadata.MetadataState;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The coordinator with a fake broker (group commands applied at once) and a manual clock. */
class GroupCoordinatorTest {

  private static final int SESSION_MS = 6_000;

  private final ManualClock clock = new ManualClock();
  private final FakeHost host = new FakeHost();
  private GroupCoordinator coordinator;

  @BeforeEach
  void setUp() {
    host.apply(MetadataCommand.newBuilder().setRegisterBroker(RegisterBroker.newBuilder().setBrokerId(1).setHost("h")));
    CreateTopic.Builder t = CreateTopic.newBuilder().setName("orders").setTopicId("id").setReplicationFactor(1);
    for (int p = 0; p < 6; p++) {
      t.addAssignments(ReplicaAssignment.newBuilder().setPartition(p).addReplicas(1));
    }
    host.apply(MetadataCommand.newBuilder().setCreateTopic(t));
    coordinator = new GroupCoordinator("test", host, clock, 10_000, 1_000, 60_000, 1_000);
  }

  private GroupHeartbeatResponse heartbeat(String member, int epoch, List<TopicPartitions> owned) {
    return coordinator.heartbeat(GroupHeartbeatRequest.newBuilder().setGroupId("g").setMemberId(member)
        .setMemberEpoch(epoch).addSubscribedTopics("orders").addAllOwnedPartitions(owned)
        .setSessionTimeoutMs(SESSION_MS).build()).join();
  }

  private static ErrorCode codeOf(Runnable call) {
    try {
      call.run();
    } catch (BrokerException e) {
      return e.code();
    } catch (CompletionException e) {
      if (e.getCause() instanceof BrokerException be) {
        return be.code();
      }
      throw e;
    }
    return ErrorCode.NONE;
  }

  private static int count(List<TopicPartitions> tps) {
    return tps.stream().mapToInt(TopicPartitions::getPartitionsCount).sum();
  }

  @Test
  void joinRevokeAndHandOver() {
    GroupHeartbeatResponse a = heartbeat("a", 0, List.of());
    assertEquals(6, count(a.getAssignmentList()));
    assertEquals(1_000, a.getHeartbeatIntervalMs());
    GroupHeartbeatResponse b = heartbeat("b", 0, List.of());
    assertEquals(0, count(b.getAssignmentList()), "b waits until a gives partitions up");
    int proposals = host.proposals;
    GroupHeartbeatResponse a2 = heartbeat("a", a.getMemberEpoch(), a.getAssignmentList());
    assertEquals(3, count(a2.getAssignmentList()), "a is told to keep 3");
    assertEquals(proposals, host.proposals, "a heartbeat that changes nothing is not logged");
    GroupHeartbeatResponse a3 = heartbeat("a", a2.getMemberEpoch(), a2.getAssignmentList());
    assertEquals(b.getMemberEpoch(), a3.getMemberEpoch());
    assertEquals(3, count(heartbeat("b", b.getMemberEpoch(), List.of()).getAssignmentList()));
  }

  @Test
  void membersWithoutHeartbeatAreExpelledAfterTheirSessionTimeout() {
    GroupHeartbeatResponse a = heartbeat("a", 0, List.of());
    GroupHeartbeatResponse b = heartbeat("b", 0, List.of());
    coordinator.tick();
    clock.advance(SESSION_MS - 1);
    heartbeat("a", a.getMemberEpoch(), a.getAssignmentList()); // a keeps its session; b is silent
    coordinator.tick();
    assertEquals(2, host.groups().group("g").orElseThrow().getMembersCount());
    clock.advance(2);
    coordinator.tick();
    assertEquals(1, host.groups().group("g").orElseThrow().getMembersCount(), "b expelled");
    assertEquals(ErrorCode.UNKNOWN_MEMBER_ID, codeOf(() -> heartbeat("b", b.getMemberEpoch(), List.of())));
    GroupHeartbeatResponse a2 = heartbeat("a", a.getMemberEpoch(), a.getAssignmentList());
    assertEquals(6, count(a2.getAssignmentList()));
  }

  @Test
  void aNewCoordinatorStartsEverySessionAfresh() {
    heartbeat("a", 0, List.of());
    host.coordinator = false;
    coordinator.tick();
    clock.advance(SESSION_MS * 3L);
    host.coordinator = true;
    coordinator.tick();
    assertEquals(1, host.groups().group("g").orElseThrow().getMembersCount(), "not expelled at takeover");
    clock.advance(SESSION_MS);
    coordinator.tick();
    assertTrue(host.groups().group("g").isEmpty(), "expelled one session after takeover");
  }

  @Test
  void aBrokerThatIsNotTheCoordinatorSaysWhichIs() {
    host.coordinator = false;
    host.coordinatorId = 3;
    BrokerException e = assertThrows(BrokerException.class, () -> heartbeat("a", 0, List.of()));
    assertEquals(ErrorCode.NOT_COORDINATOR, e.code());
    assertEquals(3, e.leaderId());
    host.coordinatorId = -1;
    assertEquals(ErrorCode.COORDINATOR_NOT_AVAILABLE, codeOf(() -> coordinator.listGroups()));
  }

  @Test
  void badRequestsGetClearErrors() {
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> coordinator.heartbeat(GroupHeartbeatRequest.newBuilder()
        .setGroupId("g").setMemberId("a").setSessionTimeoutMs(10).build())));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> coordinator.heartbeat(GroupHeartbeatRequest.newBuilder()
        .setGroupId("g").setMemberId("a").setAssignor("fancy").build())));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> coordinator.heartbeat(GroupHeartbeatRequest.newBuilder()
        .setGroupId("").setMemberId("a").build())));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> coordinator.heartbeat(GroupHeartbeatRequest.newBuilder()
        .setGroupId("g").setMemberId("a").setMemberEpoch(-7).build())));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> coordinator.heartbeat(GroupHeartbeatRequest.newBuilder()
        .setGroupId("g").setMemberId("a").addSubscribedTopics("bad name!").build())));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> coordinator.commitOffsets(CommitOffsetsRequest.newBuilder()
        .setGroupId("g").setMemberEpoch(-1).addOffsets(OffsetCommit.newBuilder().setTopic("orders").setPartition(99)
            .setOffset(1)).build()).join()));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> coordinator.resetOffsets(ResetOffsetsRequest.newBuilder()
        .setGroupId("g").setTopic("orders").build()).join()));
    assertEquals(ErrorCode.GROUP_ID_NOT_FOUND, codeOf(() -> coordinator.describeGroup("nope")));
  }

  @Test
  void commitsAndFetchesAndResets() {
    GroupHeartbeatResponse a = heartbeat("a", 0, List.of());
    coordinator.commitOffsets(CommitOffsetsRequest.newBuilder().setGroupId("g").setMemberId("a")
        .setMemberEpoch(a.getMemberEpoch()).addOffsets(OffsetCommit.newBuilder().setTopic("orders").setPartition(2)
            .setOffset(40).setMetadata("m")).build()).join();
    var fetched = coordinator.fetchOffsets(FetchOffsetsRequest.newBuilder().setGroupId("g")
        .addPartitions(TopicPartitions.newBuilder().setTopic("orders").addPartitions(2).addPartitions(3)).build());
    assertEquals(40, fetched.getOffsets(0).getOffset());
    assertEquals("m", fetched.getOffsets(0).getMetadata());
    assertEquals(-1, fetched.getOffsets(1).getOffset());
    assertEquals(ErrorCode.GROUP_NOT_EMPTY, codeOf(() -> coordinator.resetOffsets(ResetOffsetsRequest.newBuilder()
        .setGroupId("g").setTopic("orders").setToEarliest(true).build()).join()));
    heartbeat("a", -1, List.of());
    var reset = coordinator.resetOffsets(ResetOffsetsRequest.newBuilder().setGroupId("g").setTopic("orders")
        .addPartitions(2).setToOffset(1_000).build()).join();
    assertEquals(100, reset.getOffsets(0).getOffset(), "clamped to the log end");
    assertEquals("EMPTY", coordinator.describeGroup("g").getState());
  }

  /** A broker whose metadata log applies at once. */
  private final class FakeHost implements GroupHost {
    final MetadataState state = new MetadataState();
    boolean coordinator = true;
    int coordinatorId = 1;
    int proposals;
    long index;

    MetadataReply apply(MetadataCommand.Builder cmd) {
      return state.apply(cmd.setTimestampMs(clock.millis()).build(), ++index);
    }

    @Override
    public boolean isCoordinator() {
      return coordinator;
    }

    @Override
    public int coordinatorId() {
      return coordinator ? 1 : coordinatorId;
    }

    @Override
    public ConsumerGroups groups() {
      return state.groups();
    }

    @Override
    public MetadataImage topics() {
      return state.image();
    }

    @Override
    public CompletableFuture<MetadataReply> submit(MetadataCommand.Builder command) {
      proposals++;
      return CompletableFuture.completedFuture(apply(command));
    }

    @Override
    public CompletableFuture<Map<Integer, PartitionOffsets>> partitionOffsets(String topic) {
      Map<Integer, PartitionOffsets> m = new java.util.HashMap<>();
      for (int p = 0; p < 6; p++) {
        m.put(p, new PartitionOffsets(10, 100));
      }
      return CompletableFuture.completedFuture(m);
    }
  }

  private static final class ManualClock extends Clock {
    private long millis = 1_000_000;

    void advance(long ms) {
      millis += ms;
    }

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
