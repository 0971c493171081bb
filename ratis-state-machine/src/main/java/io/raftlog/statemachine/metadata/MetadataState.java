package io.raftlog.statemachine.metadata;

import io.raftlog.log.v1.AlterTopicConfig;
import io.raftlog.log.v1.BrokerRecord;
import io.raftlog.log.v1.CompleteReassignment;
import io.raftlog.log.v1.CreatePartitions;
import io.raftlog.log.v1.CreateTopic;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.MetadataStatus;
import io.raftlog.log.v1.ReassignPartitions;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.group.ConsumerGroups;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Cluster metadata as a deterministic function of the metadata log: brokers, topics with their
 * replica placement, the producer id counter, and consumer groups.
 *
 * <p>Brokers and topics are an immutable {@link MetadataImage} replaced on every apply that
 * changes them, so readers on any thread get a consistent picture without locks. Consumer groups
 * live apart in {@link ConsumerGroups} (they change far more often; a group command leaves the
 * image alone). Time comes from the command (the proposer's clock), never from the local clock.
 */
public final class MetadataState {

  private volatile MetadataImage image;
  private final ConsumerGroups groups;

  public MetadataState() {
    this(MetadataImage.getDefaultInstance());
  }

  /** Restores from a snapshot image; its {@code groups} move to {@link #groups()}. */
  public MetadataState(MetadataImage snapshot) {
    this.groups = new ConsumerGroups(snapshot.getGroupsList());
    this.image = snapshot.toBuilder().clearGroups().build();
  }

  /** Brokers and topics (without groups). */
  public MetadataImage image() {
    return image;
  }

  public ConsumerGroups groups() {
    return groups;
  }

  /** The whole state for a snapshot: the image with the groups. Call on the apply thread. */
  public MetadataImage snapshotImage() {
    return image.toBuilder().addAllGroups(groups.all()).build();
  }

  /** Applies one command at Raft index {@code index}. Rejections are replies, not exceptions. */
  public MetadataReply apply(MetadataCommand cmd, long index) {
    if (ConsumerGroups.isGroupCommand(cmd)) {
      return groups.apply(cmd, image);
    }
    MetadataImage.Builder next = image.toBuilder().setAppliedIndex(index);
    MetadataReply reply;
    switch (cmd.getCommandCase()) {
      case REGISTER_BROKER -> {
        var reg = cmd.getRegisterBroker();
        int known = indexOfBroker(next, reg.getBrokerId());
        BrokerRecord record = BrokerRecord.newBuilder().setBrokerId(reg.getBrokerId()).setHost(reg.getHost())
            .setPort(reg.getPort()).setRaftPort(reg.getRaftPort())
            .setLastHeartbeatMs(cmd.getTimestampMs())
            // A decommissioned broker that restarts stays decommissioned until an operator says otherwise.
            .setDecommissioned(known >= 0 && next.getBrokers(known).getDecommissioned()).build();
        upsertBroker(next, record);
        reply = ok();
      }
      case BROKER_HEARTBEAT -> {
        int id = cmd.getBrokerHeartbeat().getBrokerId();
        int i = indexOfBroker(next, id);
        if (i < 0) {
          reply = error(MetadataStatus.METADATA_INVALID, "broker " + id + " is not registered");
        } else {
          next.setBrokers(i, next.getBrokers(i).toBuilder().setLastHeartbeatMs(cmd.getTimestampMs()));
          reply = ok();
        }
      }
      case CREATE_TOPIC -> reply = createTopic(next, cmd.getCreateTopic(), cmd.getTimestampMs());
      case DELETE_TOPIC -> {
        String name = cmd.getDeleteTopic().getName();
        int i = indexOfTopic(next, name);
        if (i < 0) {
          reply = error(MetadataStatus.METADATA_UNKNOWN_TOPIC, "topic '" + name + "' does not exist");
        } else {
          next.addDeletedTopicIds(next.getTopics(i).getTopicId());
          next.removeTopics(i);
          reply = ok();
        }
      }
      case ALTER_TOPIC_CONFIG -> reply = alterTopicConfig(next, cmd.getAlterTopicConfig());
      case SET_BROKER_DECOMMISSIONED -> {
        var mark = cmd.getSetBrokerDecommissioned();
        int i = indexOfBroker(next, mark.getBrokerId());
        if (i < 0) {
          reply = error(MetadataStatus.METADATA_INVALID, "broker " + mark.getBrokerId() + " is not registered");
        } else {
          next.setBrokers(i, next.getBrokers(i).toBuilder().setDecommissioned(mark.getDecommissioned()));
          reply = ok();
        }
      }
      case REASSIGN_PARTITIONS -> reply = reassignPartitions(next, cmd.getReassignPartitions());
      case COMPLETE_REASSIGNMENT -> reply = completeReassignment(next, cmd.getCompleteReassignment());
      case ALLOCATE_PRODUCER_ID -> {
        long id = next.getNextProducerId();
        next.setNextProducerId(id + 1);
        reply = MetadataReply.newBuilder().setStatus(MetadataStatus.METADATA_OK).setProducerId(id).build();
      }
      case CREATE_PARTITIONS -> reply = createPartitions(next, cmd.getCreatePartitions());
      default -> reply = error(MetadataStatus.METADATA_INVALID, "unknown metadata command " + cmd.getCommandCase());
    }
    image = next.build();
    if (reply.getStatus() == MetadataStatus.METADATA_OK
        && (cmd.hasCreateTopic() || cmd.hasDeleteTopic() || cmd.hasCreatePartitions())) {
      groups.onTopicsChanged(image);
    }
    return reply;
  }

  private static MetadataReply createTopic(MetadataImage.Builder next, CreateTopic create, long timestampMs) {
    if (indexOfTopic(next, create.getName()) >= 0) {
      return error(MetadataStatus.METADATA_TOPIC_ALREADY_EXISTS, "topic '" + create.getName() + "' already exists");
    }
    String problem = TopicRules.checkName(create.getName());
    if (problem == null) {
      problem = TopicRules.checkPartitions(create.getAssignmentsCount());
    }
    if (problem == null && create.getReplicationFactor() < 1) {
      // otherwise RF 0 with empty replica lists passes checkAssignments: partitions without replicas
      problem = "replication factor must be at least 1, got " + create.getReplicationFactor();
    }
    if (problem == null) {
      problem = checkAssignments(next, create);
    }
    if (problem != null) {
      return error(MetadataStatus.METADATA_INVALID, problem);
    }
    next.addTopics(TopicRecord.newBuilder().setName(create.getName()).setTopicId(create.getTopicId())
        .setReplicationFactor(create.getReplicationFactor()).addAllAssignments(create.getAssignmentsList())
        .putAllConfig(create.getConfigMap()).setCreatedMs(timestampMs));
    return ok();
  }

  /**
   * Sets and removes configuration overrides of a topic. Values were validated by the proposing
   * broker against its defaults (which may differ between brokers, so they cannot be checked
   * here); keys are checked so that no replica ever stores one that {@link TopicConfig} does not
   * know. The map is kept sorted so that every replica's image is byte for byte the same.
   */
  private static MetadataReply alterTopicConfig(MetadataImage.Builder next, AlterTopicConfig alter) {
    int i = indexOfTopic(next, alter.getName());
    if (i < 0) {
      return error(MetadataStatus.METADATA_UNKNOWN_TOPIC, "topic '" + alter.getName() + "' does not exist");
    }
    String problem = TopicConfig.checkRemovable(alter.getSetMap().keySet());
    if (problem == null) {
      problem = TopicConfig.checkRemovable(alter.getRemoveList());
    }
    if (problem == null) {
      for (String key : alter.getRemoveList()) {
        if (alter.getSetMap().containsKey(key)) {
          problem = "topic config '" + key + "' is both set and removed";
          break;
        }
      }
    }
    if (problem != null) {
      return error(MetadataStatus.METADATA_INVALID, problem);
    }
    TopicRecord topic = next.getTopics(i);
    Map<String, String> config = new TreeMap<>(topic.getConfigMap());
    config.putAll(alter.getSetMap());
    alter.getRemoveList().forEach(config::remove);
    next.setTopics(i, topic.toBuilder().clearConfig().putAllConfig(config));
    return MetadataReply.newBuilder().setStatus(MetadataStatus.METADATA_OK).putAllTopicConfig(config).build();
  }

  /**
   * Sets the target replicas of partitions (all or nothing). A target equal to the current replicas,
   * in the same order, clears the partition's target: that cancels a reassignment under way.
   */
  private static MetadataReply reassignPartitions(MetadataImage.Builder next, ReassignPartitions reassign) {
    int i = indexOfTopic(next, reassign.getName());
    if (i < 0 || (!reassign.getTopicId().isEmpty() && !next.getTopics(i).getTopicId().equals(reassign.getTopicId()))) {
      return error(MetadataStatus.METADATA_UNKNOWN_TOPIC, "topic '" + reassign.getName() + "' does not exist");
    }
    TopicRecord.Builder topic = next.getTopics(i).toBuilder();
    Set<Integer> known = new HashSet<>();
    next.getBrokersList().forEach(b -> known.add(b.getBrokerId()));
    Set<Integer> seen = new HashSet<>();
    for (ReplicaAssignment target : reassign.getAssignmentsList()) {
      int p = target.getPartition();
      String problem = p < 0 || p >= topic.getAssignmentsCount()
          ? "topic '" + reassign.getName() + "' has no partition " + p
          : !seen.add(p) ? "partition " + p + " is named twice"
          : ReplicaPlans.checkReplicas(target.getReplicasList(), known);
      if (problem != null) {
        return error(MetadataStatus.METADATA_INVALID, problem);
      }
      ReplicaAssignment.Builder a = topic.getAssignments(p).toBuilder().clearTargetReplicas();
      if (!a.getReplicasList().equals(target.getReplicasList())) {
        a.addAllTargetReplicas(target.getReplicasList());
      }
      topic.setAssignments(p, a);
    }
    next.setTopics(i, topic);
    return ok();
  }

  /** The partition's Raft group has exactly its target replicas as members: they become its replicas. */
  private static MetadataReply completeReassignment(MetadataImage.Builder next, CompleteReassignment complete) {
    int i = indexOfTopicId(next, complete.getTopicId());
    if (i < 0) {
      return error(MetadataStatus.METADATA_UNKNOWN_TOPIC, "topic id " + complete.getTopicId() + " does not exist");
    }
    TopicRecord.Builder topic = next.getTopics(i).toBuilder();
    int p = complete.getPartition();
    if (p < 0 || p >= topic.getAssignmentsCount()
        || !topic.getAssignments(p).getTargetReplicasList().equals(complete.getReplicasList())
        || complete.getReplicasCount() == 0) {
      // The target changed (or was cancelled) since the leader read it: its next pass decides again.
      return error(MetadataStatus.METADATA_INVALID, "partition " + p + " of '" + topic.getName()
          + "' no longer has target replicas " + complete.getReplicasList());
    }
    topic.setAssignments(p, topic.getAssignments(p).toBuilder().clearReplicas()
        .addAllReplicas(complete.getReplicasList()).clearTargetReplicas());
    // The replication factor a topic shows is its partitions' replica count, while they agree.
    Set<Integer> counts = new HashSet<>();
    topic.getAssignmentsList().forEach(a -> counts.add(a.getReplicasCount()));
    if (counts.size() == 1) {
      topic.setReplicationFactor(counts.iterator().next());
    }
    next.setTopics(i, topic);
    return ok();
  }

  private static String checkAssignments(MetadataImage.Builder next, CreateTopic create) {
    Set<Integer> known = new HashSet<>();
    next.getBrokersList().forEach(b -> known.add(b.getBrokerId()));
    for (int p = 0; p < create.getAssignmentsCount(); p++) {
      ReplicaAssignment a = create.getAssignments(p);
      if (a.getPartition() != p) {
        return "assignment for partition " + p + " is missing";
      }
      if (a.getReplicasCount() != create.getReplicationFactor()
          || new HashSet<>(a.getReplicasList()).size() != a.getReplicasCount()) {
        return "partition " + p + " needs " + create.getReplicationFactor() + " distinct replicas";
      }
      for (int broker : a.getReplicasList()) {
        if (!known.contains(broker)) {
          return "partition " + p + " names unknown broker " + broker;
        }
      }
    }
    return null;
  }

  /**
   * Appends new partitions to a topic. The proposing broker computed their placement from its view;
   * here every replica checks it against the applied state: the topic must still be the one the
   * broker saw (same id), the new partitions must continue from its current count (so two
   * concurrent requests cannot both add partition N), and each names the topic's replication
   * factor of distinct registered brokers.
   */
  private static MetadataReply createPartitions(MetadataImage.Builder next, CreatePartitions create) {
    int i = indexOfTopic(next, create.getName());
    if (i < 0) {
      return error(MetadataStatus.METADATA_UNKNOWN_TOPIC, "topic '" + create.getName() + "' does not exist");
    }
    TopicRecord topic = next.getTopics(i);
    if (!topic.getTopicId().equals(create.getTopicId())) {
      return error(MetadataStatus.METADATA_INVALID, "topic '" + create.getName() + "' was deleted and re-created"
          + " (id " + topic.getTopicId() + ", not " + create.getTopicId() + ") while partitions were being added;"
          + " nothing was changed");
    }
    int current = topic.getAssignmentsCount();
    if (create.getAssignmentsCount() == 0) {
      return error(MetadataStatus.METADATA_INVALID, "no partitions to add to topic '" + create.getName() + "'");
    }
    int first = create.getAssignments(0).getPartition();
    if (first != current) {
      return error(MetadataStatus.METADATA_INVALID, "topic '" + create.getName() + "' has " + current
          + " partitions now, so new partitions start at " + current + ", not " + first
          + " (was it changed concurrently?); nothing was changed");
    }
    String problem = TopicRules.checkPartitions(current + create.getAssignmentsCount());
    if (problem == null) {
      problem = checkNewAssignments(next, create.getAssignmentsList(), current, topic.getReplicationFactor());
    }
    if (problem != null) {
      return error(MetadataStatus.METADATA_INVALID, problem);
    }
    next.setTopics(i, topic.toBuilder().addAllAssignments(create.getAssignmentsList()));
    return ok();
  }

  /**
   * What is wrong with the assignments of added partitions, or null: they must be partitions
   * {@code first}, {@code first + 1}, ... in order, each with {@code replicationFactor} distinct
   * registered brokers (the rules {@link #checkAssignments} applies to a new topic).
   */
  private static String checkNewAssignments(MetadataImage.Builder next, List<ReplicaAssignment> assignments,
      int first, int replicationFactor) {
    Set<Integer> known = new HashSet<>();
    next.getBrokersList().forEach(b -> known.add(b.getBrokerId()));
    for (int i = 0; i < assignments.size(); i++) {
      int p = first + i;
      ReplicaAssignment a = assignments.get(i);
      if (a.getPartition() != p) {
        return "assignment for partition " + p + " is missing";
      }
      if (a.getReplicasCount() != replicationFactor
          || new HashSet<>(a.getReplicasList()).size() != a.getReplicasCount()) {
        return "partition " + p + " needs " + replicationFactor + " distinct replicas";
      }
      for (int broker : a.getReplicasList()) {
        if (!known.contains(broker)) {
          return "partition " + p + " names unknown broker " + broker;
        }
      }
    }
    return null;
  }

  private static void upsertBroker(MetadataImage.Builder next, BrokerRecord record) {
    int i = indexOfBroker(next, record.getBrokerId());
    if (i >= 0) {
      next.setBrokers(i, record);
      return;
    }
    List<BrokerRecord> brokers = new ArrayList<>(next.getBrokersList());
    brokers.add(record);
    brokers.sort((a, b) -> Integer.compare(a.getBrokerId(), b.getBrokerId()));
    next.clearBrokers().addAllBrokers(brokers);
  }

  private static int indexOfBroker(MetadataImage.Builder next, int id) {
    for (int i = 0; i < next.getBrokersCount(); i++) {
      if (next.getBrokers(i).getBrokerId() == id) {
        return i;
      }
    }
    return -1;
  }

  private static int indexOfTopic(MetadataImage.Builder next, String name) {
    for (int i = 0; i < next.getTopicsCount(); i++) {
      if (next.getTopics(i).getName().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  private static int indexOfTopicId(MetadataImage.Builder next, String topicId) {
    for (int i = 0; i < next.getTopicsCount(); i++) {
      if (next.getTopics(i).getTopicId().equals(topicId)) {
        return i;
      }
    }
    return -1;
  }

  private static MetadataReply ok() {
    return MetadataReply.newBuilder().setStatus(MetadataStatus.METADATA_OK).build();
  }

  private static MetadataReply error(MetadataStatus status, String message) {
    return MetadataReply.newBuilder().setStatus(status).setMessage(message).build();
  }
}
