package io.raftlog.statemachine.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.log.v1.CompleteReassignment;
import io.raftlog.log.v1.CreateTopic;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.MetadataStatus;
import io.raftlog.log.v1.ReassignPartitions;
import io.raftlog.log.v1.RegisterBroker;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.SetBrokerDecommissioned;
import io.raftlog.log.v1.TopicRecord;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Reassignment and decommission commands of the metadata state. */
class ReassignmentStateTest {

  private MetadataState state;
  private long index;

  @BeforeEach
  void setUp() {
    state = new MetadataState();
    index = 0;
    for (int id = 1; id <= 4; id++) {
      ok(apply(MetadataCommand.newBuilder().setTimestampMs(100).setRegisterBroker(RegisterBroker.newBuilder()
          .setBrokerId(id).setHost("h" + id).setPort(9000 + id).setRaftPort(9100 + id))));
    }
    CreateTopic.Builder t = CreateTopic.newBuilder().setName("t").setTopicId("id-t").setReplicationFactor(3);
    t.addAssignments(ReplicaAssignment.newBuilder().setPartition(0).addAllReplicas(List.of(1, 2, 3)));
    t.addAssignments(ReplicaAssignment.newBuilder().setPartition(1).addAllReplicas(List.of(2, 3, 4)));
    ok(apply(MetadataCommand.newBuilder().setTimestampMs(1).setCreateTopic(t)));
  }

  private MetadataReply apply(MetadataCommand.Builder cmd) {
    return state.apply(cmd.build(), ++index);
  }

  private static void ok(MetadataReply reply) {
    assertEquals(MetadataStatus.METADATA_OK, reply.getStatus(), reply.getMessage());
  }

  private static MetadataCommand.Builder reassign(String topic, int partition, List<Integer> replicas) {
    return MetadataCommand.newBuilder().setTimestampMs(1).setReassignPartitions(ReassignPartitions.newBuilder()
        .setName(topic).addAssignments(ReplicaAssignment.newBuilder().setPartition(partition).addAllReplicas(replicas)));
  }

  private static MetadataCommand.Builder complete(int partition, List<Integer> replicas) {
    return MetadataCommand.newBuilder().setTimestampMs(1).setCompleteReassignment(CompleteReassignment.newBuilder()
        .setTopicId("id-t").setPartition(partition).addAllReplicas(replicas));
  }

  private ReplicaAssignment assignment(int partition) {
    TopicRecord t = state.image().getTopics(0);
    return t.getAssignments(partition);
  }

  @Test
  void aReassignmentSetsTheTargetAndItsCompletionMakesItTheReplicas() {
    ok(apply(reassign("t", 0, List.of(4, 2, 3))));
    assertEquals(List.of(1, 2, 3), assignment(0).getReplicasList());
    assertEquals(List.of(4, 2, 3), assignment(0).getTargetReplicasList());
    assertTrue(ReplicaPlans.hosts(assignment(0), 1) && ReplicaPlans.hosts(assignment(0), 4));
    assertEquals(List.of(4, 2, 3), ReplicaPlans.effective(assignment(0)));

    // A completion for another target (the request changed meanwhile) changes nothing.
    assertEquals(MetadataStatus.METADATA_INVALID, apply(complete(0, List.of(4, 2, 1))).getStatus());
    assertEquals(List.of(4, 2, 3), assignment(0).getTargetReplicasList());

    ok(apply(complete(0, List.of(4, 2, 3))));
    assertEquals(List.of(4, 2, 3), assignment(0).getReplicasList());
    assertEquals(0, assignment(0).getTargetReplicasCount());
    assertFalse(ReplicaPlans.hosts(assignment(0), 1));
    // Completing twice is refused and harmless.
    assertEquals(MetadataStatus.METADATA_INVALID, apply(complete(0, List.of(4, 2, 3))).getStatus());
  }

  @Test
  void theReplicationFactorFollowsThePartitionsWhenTheyAgree() {
    ok(apply(reassign("t", 0, List.of(1, 2))));
    ok(apply(complete(0, List.of(1, 2))));
    assertEquals(3, state.image().getTopics(0).getReplicationFactor(), "partition 1 still has 3");
    ok(apply(reassign("t", 1, List.of(2, 3))));
    ok(apply(complete(1, List.of(2, 3))));
    assertEquals(2, state.image().getTopics(0).getReplicationFactor());
  }

  @Test
  void theSameReplicasInTheSameOrderCancelAReassignment() {
    ok(apply(reassign("t", 0, List.of(4, 2, 3))));
    ok(apply(reassign("t", 0, List.of(1, 2, 3))));
    assertEquals(0, assignment(0).getTargetReplicasCount());
    // A new order is a reassignment (of the preferred leader).
    ok(apply(reassign("t", 0, List.of(3, 2, 1))));
    assertEquals(List.of(3, 2, 1), assignment(0).getTargetReplicasList());
  }

  @Test
  void badReassignmentsAreRefusedWholeWithReasons() {
    MetadataCommand.Builder twoPartitions = MetadataCommand.newBuilder().setTimestampMs(1).setReassignPartitions(
        ReassignPartitions.newBuilder().setName("t")
            .addAssignments(ReplicaAssignment.newBuilder().setPartition(0).addAllReplicas(List.of(4, 2, 3)))
            .addAssignments(ReplicaAssignment.newBuilder().setPartition(1).addAllReplicas(List.of(2, 2, 3))));
    MetadataReply r = apply(twoPartitions);
    assertEquals(MetadataStatus.METADATA_INVALID, r.getStatus());
    assertTrue(r.getMessage().contains("twice"), r.getMessage());
    assertEquals(0, assignment(0).getTargetReplicasCount(), "nothing applied");

    assertEquals(MetadataStatus.METADATA_INVALID, apply(reassign("t", 0, List.of(1, 9))).getStatus());
    assertEquals(MetadataStatus.METADATA_INVALID, apply(reassign("t", 0, List.of())).getStatus());
    assertEquals(MetadataStatus.METADATA_INVALID, apply(reassign("t", 2, List.of(1))).getStatus());
    assertEquals(MetadataStatus.METADATA_UNKNOWN_TOPIC, apply(reassign("nope", 0, List.of(1))).getStatus());
  }

  @Test
  void decommissionedBrokersStayMarkedWhenTheyRegisterAgain() {
    ok(apply(MetadataCommand.newBuilder().setTimestampMs(1).setSetBrokerDecommissioned(
        SetBrokerDecommissioned.newBuilder().setBrokerId(4).setDecommissioned(true))));
    assertTrue(state.image().getBrokers(3).getDecommissioned());
    ok(apply(MetadataCommand.newBuilder().setTimestampMs(200).setRegisterBroker(RegisterBroker.newBuilder()
        .setBrokerId(4).setHost("h4").setPort(9004).setRaftPort(9104))));
    assertTrue(state.image().getBrokers(3).getDecommissioned());
    ok(apply(MetadataCommand.newBuilder().setTimestampMs(1).setSetBrokerDecommissioned(
        SetBrokerDecommissioned.newBuilder().setBrokerId(4).setDecommissioned(false))));
    assertFalse(state.image().getBrokers(3).getDecommissioned());
    assertEquals(MetadataStatus.METADATA_INVALID, apply(MetadataCommand.newBuilder().setTimestampMs(1)
        .setSetBrokerDecommissioned(SetBrokerDecommissioned.newBuilder().setBrokerId(9))).getStatus());
  }
}
