package io.raftlog.statemachine.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.log.v1.AllocateProducerId;
import io.raftlog.log.v1.AlterTopicConfig;
import io.raftlog.log.v1.BrokerHeartbeat;
import io.raftlog.log.v1.CreatePartitions;
import io.raftlog.log.v1.CreateTopic;
import io.raftlog.log.v1.DeleteTopic;
import io.raftlog.log.v1.GroupJoin;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.MetadataStatus;
import io.raftlog.log.v1.RegisterBroker;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetadataStateTest {

  private MetadataState state;
  private long index;

  @BeforeEach
  void setUp() {
    state = new MetadataState();
    index = 0;
  }

  private MetadataReply apply(MetadataCommand.Builder cmd) {
    return state.apply(cmd.build(), ++index);
  }

  private static MetadataCommand.Builder register(int id, String host, long ts) {
    return MetadataCommand.newBuilder().setTimestampMs(ts).setRegisterBroker(
        RegisterBroker.newBuilder().setBrokerId(id).setHost(host).setPort(9000 + id).setRaftPort(9100 + id));
  }

  private static MetadataCommand.Builder heartbeat(int id, long ts) {
    return MetadataCommand.newBuilder().setTimestampMs(ts)
        .setBrokerHeartbeat(BrokerHeartbeat.newBuilder().setBrokerId(id));
  }

  private static CreateTopic.Builder topic(String name, String id, int rf, List<List<Integer>> replicas) {
    CreateTopic.Builder b = CreateTopic.newBuilder().setName(name).setTopicId(id).setReplicationFactor(rf);
    for (int p = 0; p < replicas.size(); p++) {
      b.addAssignments(ReplicaAssignment.newBuilder().setPartition(p).addAllReplicas(replicas.get(p)));
    }
    return b;
  }

  private static MetadataCommand.Builder create(CreateTopic.Builder t, long ts) {
    return MetadataCommand.newBuilder().setTimestampMs(ts).setCreateTopic(t);
  }

  private static MetadataCommand.Builder delete(String name) {
    return MetadataCommand.newBuilder().setTimestampMs(1).setDeleteTopic(DeleteTopic.newBuilder().setName(name));
  }

  private static MetadataCommand.Builder alter(String name, Map<String, String> set, List<String> remove) {
    return MetadataCommand.newBuilder().setTimestampMs(1).setAlterTopicConfig(
        AlterTopicConfig.newBuilder().setName(name).putAllSet(set).addAllRemove(remove));
  }

  private static MetadataCommand.Builder allocate() {
    return MetadataCommand.newBuilder().setTimestampMs(1).setAllocateProducerId(AllocateProducerId.getDefaultInstance());
  }

  private void threeBrokers() {
    for (int id : new int[] {3, 1, 2}) {
      assertEquals(MetadataStatus.METADATA_OK, apply(register(id, "h" + id, 100)).getStatus());
    }
  }

  private static void assertStatus(MetadataStatus expected, MetadataReply reply) {
    assertEquals(expected, reply.getStatus(), reply.getMessage());
    if (expected != MetadataStatus.METADATA_OK) {
      assertTrue(!reply.getMessage().isBlank(), "a rejection explains itself");
    }
  }

  @Test
  void emptyStateHasNothing() {
    MetadataImage image = state.image();
    assertEquals(0, image.getBrokersCount());
    assertEquals(0, image.getTopicsCount());
    assertEquals(0, image.getNextProducerId());
    assertEquals(0, image.getAppliedIndex());
  }

  @Test
  void registerAddsBrokersSortedByIdWithTheCommandTimestamp() {
    apply(register(3, "c", 10));
    apply(register(1, "a", 20));
    apply(register(2, "b", 30));
    MetadataImage image = state.image();
    assertEquals(List.of(1, 2, 3), image.getBrokersList().stream().map(b -> b.getBrokerId()).toList());
    assertEquals("a", image.getBrokers(0).getHost());
    assertEquals(9001, image.getBrokers(0).getPort());
    assertEquals(9101, image.getBrokers(0).getRaftPort());
    assertEquals(20, image.getBrokers(0).getLastHeartbeatMs());
    assertEquals(3, image.getAppliedIndex());
  }

  @Test
  void reRegisterReplacesTheBrokerInPlace() {
    threeBrokers();
    assertStatus(MetadataStatus.METADATA_OK, apply(register(2, "moved", 500)));
    MetadataImage image = state.image();
    assertEquals(3, image.getBrokersCount());
    assertEquals("moved", image.getBrokers(1).getHost());
    assertEquals(500, image.getBrokers(1).getLastHeartbeatMs());
  }

  @Test
  void heartbeatUpdatesOnlyThatBrokersTimestamp() {
    threeBrokers();
    assertStatus(MetadataStatus.METADATA_OK, apply(heartbeat(2, 999)));
    MetadataImage image = state.image();
    assertEquals(100, image.getBrokers(0).getLastHeartbeatMs());
    assertEquals(999, image.getBrokers(1).getLastHeartbeatMs());
    assertEquals(100, image.getBrokers(2).getLastHeartbeatMs());
  }

  @Test
  void heartbeatOfUnknownBrokerIsInvalidAndChangesNothingButTheIndex() {
    threeBrokers();
    MetadataImage before = state.image();
    assertStatus(MetadataStatus.METADATA_INVALID, apply(heartbeat(9, 5)));
    assertEquals(before.toBuilder().setAppliedIndex(index).build(), state.image());
  }

  @Test
  void createTopicStoresAssignmentsConfigAndCreationTime() {
    threeBrokers();
    CreateTopic.Builder t = topic("orders", "id-1", 3, Placement.assign(3, 3, List.of(1, 2, 3), 0))
        .putConfig("retention.ms", "1000");
    assertStatus(MetadataStatus.METADATA_OK, apply(create(t, 4242)));
    TopicRecord rec = state.image().getTopics(0);
    assertEquals("orders", rec.getName());
    assertEquals("id-1", rec.getTopicId());
    assertEquals(3, rec.getReplicationFactor());
    assertEquals(t.getAssignmentsList(), rec.getAssignmentsList());
    assertEquals("1000", rec.getConfigMap().get("retention.ms"));
    assertEquals(4242, rec.getCreatedMs());
  }

  @Test
  void duplicateCreateIsRejectedAndKeepsTheOriginal() {
    threeBrokers();
    apply(create(topic("orders", "id-1", 1, List.of(List.of(1))), 1));
    assertStatus(MetadataStatus.METADATA_TOPIC_ALREADY_EXISTS,
        apply(create(topic("orders", "id-2", 2, List.of(List.of(2, 3))), 2)));
    assertEquals(1, state.image().getTopicsCount());
    assertEquals("id-1", state.image().getTopics(0).getTopicId());
  }

  @Test
  void illegalNameOrPartitionCountIsInvalid() {
    threeBrokers();
    assertStatus(MetadataStatus.METADATA_INVALID, apply(create(topic("bad name", "x", 1, List.of(List.of(1))), 1)));
    assertStatus(MetadataStatus.METADATA_INVALID, apply(create(topic("..", "x", 1, List.of(List.of(1))), 1)));
    assertStatus(MetadataStatus.METADATA_INVALID, apply(create(topic("none", "x", 1, List.of()), 1)));
    assertEquals(0, state.image().getTopicsCount());
  }

  @Test
  void assignmentNamingAnUnknownBrokerIsInvalid() {
    threeBrokers();
    MetadataReply r = apply(create(topic("t", "x", 2, List.of(List.of(1, 2), List.of(2, 7))), 1));
    assertStatus(MetadataStatus.METADATA_INVALID, r);
    assertTrue(r.getMessage().contains("unknown broker 7"), r.getMessage());
    assertEquals(0, state.image().getTopicsCount());
  }

  @Test
  void assignmentWithDuplicateReplicasIsInvalid() {
    threeBrokers();
    assertStatus(MetadataStatus.METADATA_INVALID, apply(create(topic("t", "x", 2, List.of(List.of(1, 1))), 1)));
    assertEquals(0, state.image().getTopicsCount());
  }

  @Test
  void assignmentWithWrongReplicaCountIsInvalid() {
    threeBrokers();
    assertStatus(MetadataStatus.METADATA_INVALID, apply(create(topic("t", "x", 3, List.of(List.of(1, 2))), 1)));
    assertStatus(MetadataStatus.METADATA_INVALID,
        apply(create(topic("t", "x", 1, List.of(List.of(1), List.of(1, 2))), 1)));
    assertEquals(0, state.image().getTopicsCount());
  }

  @Test
  void replicationFactorZeroWithEmptyReplicaListsIsInvalid() {
    threeBrokers();
    assertStatus(MetadataStatus.METADATA_INVALID, apply(create(topic("t", "x", 0, List.of(List.of(), List.of())), 1)));
    assertEquals(0, state.image().getTopicsCount());
  }

  @Test
  void assignmentsOutOfPartitionOrderAreInvalid() {
    threeBrokers();
    CreateTopic.Builder t = CreateTopic.newBuilder().setName("t").setTopicId("x").setReplicationFactor(1)
        .addAssignments(ReplicaAssignment.newBuilder().setPartition(1).addReplicas(1))
        .addAssignments(ReplicaAssignment.newBuilder().setPartition(0).addReplicas(2));
    assertStatus(MetadataStatus.METADATA_INVALID, apply(create(t, 1)));
  }

  @Test
  void createWithNoBrokersRegisteredIsInvalid() {
    assertStatus(MetadataStatus.METADATA_INVALID, apply(create(topic("t", "x", 1, List.of(List.of(1))), 1)));
  }

  @Test
  void deleteRemovesTheTopicAndTombstonesItsId() {
    threeBrokers();
    apply(create(topic("a", "id-a", 1, List.of(List.of(1))), 1));
    apply(create(topic("b", "id-b", 1, List.of(List.of(2))), 1));
    assertStatus(MetadataStatus.METADATA_OK, apply(delete("a")));
    MetadataImage image = state.image();
    assertEquals(List.of("b"), image.getTopicsList().stream().map(TopicRecord::getName).toList());
    assertEquals(List.of("id-a"), image.getDeletedTopicIdsList());
  }

  @Test
  void recreatingADeletedTopicGetsTheNewIdAndKeepsTheOldTombstone() {
    threeBrokers();
    apply(create(topic("a", "id-1", 1, List.of(List.of(1))), 1));
    apply(delete("a"));
    assertStatus(MetadataStatus.METADATA_OK, apply(create(topic("a", "id-2", 1, List.of(List.of(1))), 2)));
    assertEquals("id-2", state.image().getTopics(0).getTopicId());
    assertEquals(List.of("id-1"), state.image().getDeletedTopicIdsList());
    apply(delete("a"));
    assertEquals(List.of("id-1", "id-2"), state.image().getDeletedTopicIdsList());
  }

  @Test
  void deletingAnUnknownTopicIsUnknownTopic() {
    threeBrokers();
    assertStatus(MetadataStatus.METADATA_UNKNOWN_TOPIC, apply(delete("nope")));
    assertEquals(0, state.image().getDeletedTopicIdsCount());
  }

  @Test
  void producerIdsAreAllocatedInIncreasingOrderWithoutGaps() {
    for (long expected = 0; expected < 5; expected++) {
      MetadataReply r = apply(allocate());
      assertStatus(MetadataStatus.METADATA_OK, r);
      assertEquals(expected, r.getProducerId());
    }
    assertEquals(5, state.image().getNextProducerId());
  }

  @Test
  void producerIdAllocationContinuesAfterRestoreFromImage() throws Exception {
    apply(allocate());
    apply(allocate());
    MetadataState restored = new MetadataState(MetadataImage.parseFrom(state.image().toByteArray()));
    assertEquals(2, restored.apply(allocate().build(), 99).getProducerId());
  }

  @Test
  void emptyCommandIsInvalid() {
    assertStatus(MetadataStatus.METADATA_INVALID, apply(MetadataCommand.newBuilder().setTimestampMs(1)));
    assertEquals(1, state.image().getAppliedIndex());
  }

  @Test
  void everyCommandAdvancesTheAppliedIndexEvenWhenRejected() {
    state.apply(delete("missing").build(), 17);
    assertEquals(17, state.image().getAppliedIndex());
    state.apply(allocate().build(), 18);
    assertEquals(18, state.image().getAppliedIndex());
  }

  @Test
  void rejectedCommandLeavesTheImageUnchangedExceptTheIndex() {
    threeBrokers();
    apply(create(topic("a", "id-a", 1, List.of(List.of(1))), 1));
    MetadataImage before = state.image();
    apply(create(topic("a", "id-z", 1, List.of(List.of(1))), 1));
    apply(create(topic("b", "id-b", 2, List.of(List.of(1, 1))), 1));
    apply(delete("zzz"));
    apply(heartbeat(42, 5));
    assertEquals(before.toBuilder().setAppliedIndex(index).build(), state.image());
  }

  @Test
  void imagesAreImmutableSnapshots() {
    MetadataImage before = state.image();
    apply(register(1, "a", 1));
    assertEquals(0, before.getBrokersCount());
    assertSame(state.image(), state.image());
  }

  @Test
  void imageRoundTripRestoresTheSameStateAndBehaviour() throws Exception {
    threeBrokers();
    apply(create(topic("a", "id-a", 3, Placement.assign(3, 3, List.of(1, 2, 3), 0)).putConfig("k", "v"), 7));
    apply(create(topic("b", "id-b", 2, Placement.assign(2, 2, List.of(1, 2, 3), 1)), 8));
    apply(delete("b"));
    apply(allocate());
    apply(heartbeat(1, 77));

    MetadataState restored = new MetadataState(MetadataImage.parseFrom(state.image().toByteArray()));
    assertEquals(state.image(), restored.image());

    List<MetadataCommand> next = new ArrayList<>();
    next.add(create(topic("a", "id-x", 1, List.of(List.of(1))), 9).build()); // exists
    next.add(create(topic("b", "id-b2", 1, List.of(List.of(3))), 9).build()); // recreate
    next.add(alter("a", Map.of("retention.ms", "9"), List.of("k")).build()); // "k" is not a config key
    next.add(alter("a", Map.of("retention.ms", "9"), List.of()).build());
    next.add(allocate().build());
    next.add(heartbeat(4, 1).build()); // unknown
    next.add(delete("a").build());
    long i = index;
    for (MetadataCommand c : next) {
      i++;
      assertEquals(state.apply(c, i), restored.apply(c, i), c.toString());
    }
    assertEquals(state.image(), restored.image());
  }

  @Test
  void alterTopicConfigSetsReplacesAndRemovesOverrides() {
    threeBrokers();
    apply(create(topic("orders", "id-1", 1, List.of(List.of(1))).putConfig("retention.ms", "1000")
        .putConfig("segment.bytes", "4096"), 1));
    TopicRecord before = state.image().getTopics(0);

    MetadataReply reply = apply(alter("orders", Map.of("retention.ms", "2000", "max.message.bytes", "512"),
        List.of("segment.bytes")));
    assertStatus(MetadataStatus.METADATA_OK, reply);
    Map<String, String> expected = Map.of("retention.ms", "2000", "max.message.bytes", "512");
    assertEquals(expected, state.image().getTopics(0).getConfigMap());
    assertEquals(expected, reply.getTopicConfigMap(), "the reply carries the overrides after the change");
    // Everything but the config is untouched.
    assertEquals(before.toBuilder().clearConfig().putAllConfig(expected).build(), state.image().getTopics(0));

    // Removing a key that is not set is fine (it is at the default already).
    assertStatus(MetadataStatus.METADATA_OK, apply(alter("orders", Map.of(), List.of("cleanup.policy"))));
    assertEquals(expected, state.image().getTopics(0).getConfigMap());
  }

  @Test
  void alterTopicConfigOfUnknownTopicOrUnknownKeyChangesNothingButTheIndex() {
    threeBrokers();
    apply(create(topic("orders", "id-1", 1, List.of(List.of(1))).putConfig("retention.ms", "1000"), 1));
    MetadataImage before = state.image();
    assertStatus(MetadataStatus.METADATA_UNKNOWN_TOPIC, apply(alter("nope", Map.of("retention.ms", "5"), List.of())));
    MetadataReply unknownSet = apply(alter("orders", Map.of("retention.ms", "5", "flush.ms", "10"), List.of()));
    assertStatus(MetadataStatus.METADATA_INVALID, unknownSet);
    assertTrue(unknownSet.getMessage().contains("flush.ms"), unknownSet.getMessage());
    assertStatus(MetadataStatus.METADATA_INVALID, apply(alter("orders", Map.of(), List.of("retention.ms", "bogus"))));
    MetadataReply both = apply(alter("orders", Map.of("retention.ms", "5"), List.of("retention.ms")));
    assertStatus(MetadataStatus.METADATA_INVALID, both);
    assertTrue(both.getMessage().contains("both set and removed"), both.getMessage());
    assertEquals(before.toBuilder().setAppliedIndex(index).build(), state.image());
  }

  @Test
  void alterTopicConfigGivesTheSameImageWhateverTheOrderOfKeys() throws Exception {
    threeBrokers();
    apply(create(topic("t", "id-t", 1, List.of(List.of(1))), 1));
    MetadataState other = new MetadataState(MetadataImage.parseFrom(state.image().toByteArray()));
    java.util.LinkedHashMap<String, String> forward = new java.util.LinkedHashMap<>();
    forward.put("retention.ms", "1");
    forward.put("cleanup.policy", "delete");
    forward.put("max.message.bytes", "100");
    java.util.LinkedHashMap<String, String> backward = new java.util.LinkedHashMap<>();
    List<String> keys = new ArrayList<>(forward.keySet());
    java.util.Collections.reverse(keys);
    keys.forEach(k -> backward.put(k, forward.get(k)));
    state.apply(alter("t", forward, List.of()).build(), index + 1);
    other.apply(alter("t", backward, List.of()).build(), index + 1);
    assertEquals(state.image(), other.image());
    assertEquals(state.image().toByteString(), other.image().toByteString(),
        "byte for byte: snapshots of every replica agree");
  }

  // ---- CreatePartitions ------------------------------------------------------------------------

  private static MetadataCommand.Builder addPartitions(String name, String id, int first, List<List<Integer>> replicas) {
    CreatePartitions.Builder b = CreatePartitions.newBuilder().setName(name).setTopicId(id);
    for (int i = 0; i < replicas.size(); i++) {
      b.addAssignments(ReplicaAssignment.newBuilder().setPartition(first + i).addAllReplicas(replicas.get(i)));
    }
    return MetadataCommand.newBuilder().setTimestampMs(1).setCreatePartitions(b);
  }

  @Test
  void createPartitionsAppendsTheNewAssignmentsAndKeepsTheRest() {
    threeBrokers();
    apply(create(topic("orders", "id-1", 3, Placement.assign(2, 3, List.of(1, 2, 3), 0))
        .putConfig("retention.ms", "1000"), 42));
    TopicRecord before = state.image().getTopics(0);
    List<List<Integer>> added = Placement.assignAdded(List.of(List.of(1, 2, 3), List.of(2, 3, 1)), 4, 3,
        List.of(1, 2, 3));
    assertStatus(MetadataStatus.METADATA_OK, apply(addPartitions("orders", "id-1", 2, added)));
    TopicRecord after = state.image().getTopics(0);
    assertEquals(4, after.getAssignmentsCount());
    assertEquals(before.getAssignmentsList(), after.getAssignmentsList().subList(0, 2), "old partitions unchanged");
    assertEquals(List.of(2, 3), after.getAssignmentsList().subList(2, 4).stream().map(ReplicaAssignment::getPartition)
        .toList());
    assertEquals(added.get(0), after.getAssignments(2).getReplicasList());
    assertEquals(before.toBuilder().clearAssignments().addAllAssignments(after.getAssignmentsList()).build(), after,
        "name, id, replication factor, config and creation time unchanged");

    // And again, on from the new count.
    assertStatus(MetadataStatus.METADATA_OK, apply(addPartitions("orders", "id-1", 4, List.of(List.of(3, 1, 2)))));
    assertEquals(5, state.image().getTopics(0).getAssignmentsCount());
  }

  @Test
  void createPartitionsOfAnUnknownOrReCreatedTopicChangesNothingButTheIndex() {
    threeBrokers();
    apply(create(topic("orders", "id-2", 1, List.of(List.of(1))), 1));
    MetadataImage before = state.image();
    MetadataReply unknown = apply(addPartitions("nope", "id-x", 1, List.of(List.of(2))));
    assertStatus(MetadataStatus.METADATA_UNKNOWN_TOPIC, unknown);
    assertEquals("topic 'nope' does not exist", unknown.getMessage());
    // The broker saw an earlier incarnation of the topic (deleted and re-created since).
    MetadataReply recreated = apply(addPartitions("orders", "id-1", 1, List.of(List.of(2))));
    assertStatus(MetadataStatus.METADATA_INVALID, recreated);
    assertTrue(recreated.getMessage().contains("re-created"), recreated.getMessage());
    assertEquals(before.toBuilder().setAppliedIndex(index).build(), state.image());
  }

  @Test
  void createPartitionsMustContinueFromTheCurrentCount() {
    threeBrokers();
    apply(create(topic("t", "id-t", 1, List.of(List.of(1), List.of(2), List.of(3))), 1));
    MetadataImage before = state.image();
    // Two brokers computed partition 3 from the same view: the second finds the count moved on.
    assertStatus(MetadataStatus.METADATA_OK, apply(addPartitions("t", "id-t", 3, List.of(List.of(1)))));
    MetadataImage afterFirst = state.image();
    MetadataReply stale = apply(addPartitions("t", "id-t", 3, List.of(List.of(2))));
    assertStatus(MetadataStatus.METADATA_INVALID, stale);
    assertTrue(stale.getMessage().contains("has 4 partitions now, so new partitions start at 4, not 3"),
        stale.getMessage());
    assertStatus(MetadataStatus.METADATA_INVALID, apply(addPartitions("t", "id-t", 5, List.of(List.of(2)))));
    assertStatus(MetadataStatus.METADATA_INVALID, apply(addPartitions("t", "id-t", 2, List.of(List.of(2)))));
    // A gap or a disorder inside the new ones.
    MetadataCommand.Builder gap = addPartitions("t", "id-t", 4, List.of(List.of(1), List.of(2)));
    gap.getCreatePartitionsBuilder().getAssignmentsBuilder(1).setPartition(6);
    MetadataReply gapReply = apply(gap);
    assertStatus(MetadataStatus.METADATA_INVALID, gapReply);
    assertTrue(gapReply.getMessage().contains("assignment for partition 5 is missing"), gapReply.getMessage());
    assertStatus(MetadataStatus.METADATA_INVALID, apply(MetadataCommand.newBuilder().setTimestampMs(1)
        .setCreatePartitions(CreatePartitions.newBuilder().setName("t").setTopicId("id-t"))));
    assertEquals(afterFirst.toBuilder().setAppliedIndex(index).build(), state.image());
    assertEquals(before.getTopics(0).getAssignmentsCount() + 1, state.image().getTopics(0).getAssignmentsCount());
  }

  @Test
  void createPartitionsChecksReplicasLikeCreateTopic() {
    threeBrokers();
    apply(create(topic("t", "id-t", 2, List.of(List.of(1, 2))), 1));
    MetadataImage before = state.image();
    MetadataReply unknownBroker = apply(addPartitions("t", "id-t", 1, List.of(List.of(2, 7))));
    assertStatus(MetadataStatus.METADATA_INVALID, unknownBroker);
    assertTrue(unknownBroker.getMessage().contains("partition 1 names unknown broker 7"), unknownBroker.getMessage());
    MetadataReply duplicate = apply(addPartitions("t", "id-t", 1, List.of(List.of(2, 2))));
    assertStatus(MetadataStatus.METADATA_INVALID, duplicate);
    assertTrue(duplicate.getMessage().contains("partition 1 needs 2 distinct replicas"), duplicate.getMessage());
    // The topic's replication factor, not another.
    assertStatus(MetadataStatus.METADATA_INVALID, apply(addPartitions("t", "id-t", 1, List.of(List.of(3)))));
    assertStatus(MetadataStatus.METADATA_INVALID, apply(addPartitions("t", "id-t", 1, List.of(List.of(1, 2, 3)))));
    // The second new partition is the bad one: none is added.
    assertStatus(MetadataStatus.METADATA_INVALID,
        apply(addPartitions("t", "id-t", 1, List.of(List.of(2, 3), List.of(3, 3)))));
    assertEquals(before.toBuilder().setAppliedIndex(index).build(), state.image());
  }

  @Test
  void createPartitionsBeyondTheTopicRulesIsInvalid() {
    threeBrokers();
    apply(create(topic("t", "id-t", 1, List.of(List.of(1))), 1));
    List<List<Integer>> tooMany = new ArrayList<>();
    for (int i = 0; i < TopicRules.MAX_PARTITIONS; i++) {
      tooMany.add(List.of(1 + i % 3));
    }
    MetadataReply r = apply(addPartitions("t", "id-t", 1, tooMany));
    assertStatus(MetadataStatus.METADATA_INVALID, r);
    assertTrue(r.getMessage().contains("at most " + TopicRules.MAX_PARTITIONS + ", got " + (TopicRules.MAX_PARTITIONS + 1)),
        r.getMessage());
    assertEquals(1, state.image().getTopics(0).getAssignmentsCount());
    // Exactly at the bound is fine.
    assertStatus(MetadataStatus.METADATA_OK, apply(addPartitions("t", "id-t", 1, tooMany.subList(1, tooMany.size()))));
    assertEquals(TopicRules.MAX_PARTITIONS, state.image().getTopics(0).getAssignmentsCount());
  }

  @Test
  void addedPartitionsAreAssignedToConsumerGroups() {
    threeBrokers();
    apply(create(topic("t", "id-t", 1, List.of(List.of(1), List.of(2))), 1));
    MetadataReply joined = apply(MetadataCommand.newBuilder().setTimestampMs(5).setGroupJoin(GroupJoin.newBuilder()
        .setGroupId("g").setMemberId("m1").addSubscribedTopics("t").setSessionTimeoutMs(10_000)));
    assertStatus(MetadataStatus.METADATA_OK, joined);
    int epoch = state.groups().group("g").orElseThrow().getGroupEpoch();
    assertEquals(List.of(0, 1), targetOf("g", "m1", "t"));

    assertStatus(MetadataStatus.METADATA_OK, apply(addPartitions("t", "id-t", 2, List.of(List.of(3), List.of(1)))));
    assertEquals(epoch + 1, state.groups().group("g").orElseThrow().getGroupEpoch(), "the group epoch moved on");
    assertEquals(List.of(0, 1, 2, 3), targetOf("g", "m1", "t"), "the new partitions are in the member's target");
  }

  private List<Integer> targetOf(String group, String member, String topic) {
    return state.groups().group(group).orElseThrow().getTargetAssignmentList().stream()
        .filter(t -> t.getMemberId().equals(member)).flatMap(t -> t.getPartitionsList().stream())
        .filter(s -> s.getTopic().equals(topic)).flatMap(s -> s.getPartitionsList().stream()).toList();
  }

  @Test
  void createPartitionsReplaysTheSameOnARestoredState() throws Exception {
    threeBrokers();
    apply(create(topic("a", "id-a", 2, Placement.assign(2, 2, List.of(1, 2, 3), 0)), 7));
    MetadataState restored = new MetadataState(MetadataImage.parseFrom(state.snapshotImage().toByteArray()));
    List<MetadataCommand> next = List.of(
        addPartitions("a", "id-a", 2, List.of(List.of(3, 1))).build(),
        addPartitions("a", "id-a", 2, List.of(List.of(1, 2))).build(), // stale
        addPartitions("a", "id-a", 3, List.of(List.of(1, 2), List.of(2, 3))).build());
    long i = index;
    for (MetadataCommand c : next) {
      i++;
      assertEquals(state.apply(c, i), restored.apply(c, i), c.toString());
    }
    assertEquals(state.image().toByteString(), restored.image().toByteString());
    assertEquals(5, restored.image().getTopics(0).getAssignmentsCount());
  }
}
