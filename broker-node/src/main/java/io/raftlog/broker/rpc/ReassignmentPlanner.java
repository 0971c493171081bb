package io.raftlog.broker.rpc;

import io.raftlog.api.v1.PartitionReassignment;
import io.raftlog.api.v1.PartitionReplicas;
import io.raftlog.api.v1.ReassignPartitionsRequest;
import io.raftlog.log.v1.BrokerRecord;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.ReassignPartitions;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.metadata.ReplicaPlans;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns reassignment requests (explicit targets, a new replication factor, a broker to empty) into
 * {@link ReassignPartitions} commands, checking them against a metadata image: the admin side of
 * partition reassignment. The {@code Reassigner} on each partition's leader carries them out.
 *
 * <p>Problems are {@link IllegalArgumentException}s with a message for the operator.
 */
final class ReassignmentPlanner {

  private ReassignmentPlanner() {}

  /** A command for one topic and what it will record, per partition of the request. */
  record Plan(ReassignPartitions command, List<PartitionReassignment> reassignments) {}

  /**
   * An explicit request. New replicas (not already current or target replicas) must be on brokers in
   * {@code placeable} (live, not decommissioned); replicas staying may be anywhere registered.
   */
  static Plan reassign(TopicRecord topic, ReassignPartitionsRequest request, Collection<BrokerRecord> brokers,
      Collection<Integer> placeable) {
    List<PartitionReplicas> wanted = new ArrayList<>();
    if (request.getCancel()) {
      for (PartitionReplicas p : request.getPartitionsList()) {
        if (p.getReplicasCount() > 0) {
          throw new IllegalArgumentException("a cancel names partitions only, without replicas");
        }
      }
      List<Integer> partitions = request.getPartitionsCount() > 0
          ? request.getPartitionsList().stream().map(PartitionReplicas::getPartition).toList()
          : topic.getAssignmentsList().stream().filter(a -> a.getTargetReplicasCount() > 0)
              .map(ReplicaAssignment::getPartition).toList();
      for (int p : partitions) {
        requirePartition(topic, p);
        wanted.add(PartitionReplicas.newBuilder().setPartition(p)
            .addAllReplicas(topic.getAssignments(p).getReplicasList()).build());
      }
    } else {
      if (request.getPartitionsCount() == 0) {
        throw new IllegalArgumentException("name at least one partition and its new replicas");
      }
      wanted.addAll(request.getPartitionsList());
    }
    Set<Integer> registered = new HashSet<>();
    brokers.forEach(b -> registered.add(b.getBrokerId()));
    Set<Integer> seen = new HashSet<>();
    for (PartitionReplicas p : wanted) {
      requirePartition(topic, p.getPartition());
      if (!seen.add(p.getPartition())) {
        throw new IllegalArgumentException("partition " + p.getPartition() + " is named twice");
      }
      String problem = ReplicaPlans.checkReplicas(p.getReplicasList(), registered);
      if (problem != null) {
        throw new IllegalArgumentException("partition " + p.getPartition() + ": " + problem);
      }
      ReplicaAssignment a = topic.getAssignments(p.getPartition());
      for (int b : p.getReplicasList()) {
        if (!ReplicaPlans.hosts(a, b) && !placeable.contains(b)) {
          throw new IllegalArgumentException("partition " + p.getPartition() + ": broker " + b
              + " cannot take a new replica: it is " + (decommissioned(brokers, b) ? "decommissioned" : "not alive"));
        }
      }
    }
    return plan(topic, wanted);
  }

  /**
   * Every partition of the topic at a new replication factor (see
   * {@link ReplicaPlans#changeReplicationFactor}); partitions already there are left out.
   */
  static Plan replicationFactor(TopicRecord topic, int replicationFactor, MetadataImage image,
      List<Integer> placeable) {
    List<List<Integer>> current = topic.getAssignmentsList().stream().map(ReplicaPlans::effective).toList();
    Map<Integer, Integer> load = ReplicaPlans.load(image.getTopicsList(), placeable);
    List<List<Integer>> next = ReplicaPlans.changeReplicationFactor(current, replicationFactor, placeable, load);
    return plan(topic, changed(current, next));
  }

  /** Plans that move every replica off {@code brokerId}, one per topic that has some. */
  static List<Plan> decommission(MetadataImage image, int brokerId, List<Integer> placeable) {
    List<Integer> candidates = placeable.stream().filter(b -> b != brokerId).toList();
    Map<Integer, Integer> load = ReplicaPlans.load(image.getTopicsList(), candidates);
    List<Plan> plans = new ArrayList<>();
    for (TopicRecord topic : image.getTopicsList()) {
      List<List<Integer>> current = topic.getAssignmentsList().stream().map(ReplicaPlans::effective).toList();
      List<List<Integer>> next;
      try {
        next = ReplicaPlans.withoutBroker(current, brokerId, candidates, load);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("cannot decommission broker " + brokerId + ": topic '" + topic.getName()
            + "' " + e.getMessage(), e);
      }
      List<PartitionReplicas> moves = changed(current, next);
      if (!moves.isEmpty()) {
        plans.add(plan(topic, moves));
      }
    }
    return plans;
  }

  /** Partitions under reassignment, by topic (empty: all), then partition. */
  static List<PartitionReassignment> underWay(MetadataImage image, String topicName) {
    List<PartitionReassignment> result = new ArrayList<>();
    image.getTopicsList().stream().filter(t -> topicName.isEmpty() || t.getName().equals(topicName))
        .sorted((x, y) -> x.getName().compareTo(y.getName()))
        .forEach(t -> t.getAssignmentsList().stream().filter(a -> a.getTargetReplicasCount() > 0)
            .forEach(a -> result.add(describe(t.getName(), a.getPartition(), a.getReplicasList(),
                a.getTargetReplicasList()))));
    return result;
  }

  static PartitionReassignment describe(String topic, int partition, List<Integer> replicas, List<Integer> target) {
    PartitionReassignment.Builder b = PartitionReassignment.newBuilder().setTopic(topic).setPartition(partition)
        .addAllReplicas(replicas).addAllTargetReplicas(target);
    target.stream().filter(r -> !replicas.contains(r)).forEach(b::addAddingReplicas);
    if (!target.isEmpty()) {
      replicas.stream().filter(r -> !target.contains(r)).forEach(b::addRemovingReplicas);
    }
    return b.build();
  }

  private static Plan plan(TopicRecord topic, List<PartitionReplicas> wanted) {
    ReassignPartitions.Builder command = ReassignPartitions.newBuilder().setName(topic.getName())
        .setTopicId(topic.getTopicId());
    List<PartitionReassignment> recorded = new ArrayList<>();
    for (PartitionReplicas p : wanted) {
      command.addAssignments(ReplicaAssignment.newBuilder().setPartition(p.getPartition())
          .addAllReplicas(p.getReplicasList()));
      List<Integer> replicas = topic.getAssignments(p.getPartition()).getReplicasList();
      // The metadata state clears the target when it equals the replicas (a cancel).
      recorded.add(describe(topic.getName(), p.getPartition(), replicas,
          replicas.equals(p.getReplicasList()) ? List.of() : p.getReplicasList()));
    }
    return new Plan(command.build(), recorded);
  }

  private static List<PartitionReplicas> changed(List<List<Integer>> current, List<List<Integer>> next) {
    List<PartitionReplicas> moves = new ArrayList<>();
    for (int p = 0; p < current.size(); p++) {
      if (!current.get(p).equals(next.get(p))) {
        moves.add(PartitionReplicas.newBuilder().setPartition(p).addAllReplicas(next.get(p)).build());
      }
    }
    return moves;
  }

  private static void requirePartition(TopicRecord topic, int p) {
    if (p < 0 || p >= topic.getAssignmentsCount()) {
      throw new IllegalArgumentException("topic '" + topic.getName() + "' has partitions 0 to "
          + (topic.getAssignmentsCount() - 1) + "; got partition " + p);
    }
  }

  private static boolean decommissioned(Collection<BrokerRecord> brokers, int id) {
    return brokers.stream().anyMatch(b -> b.getBrokerId() == id && b.getDecommissioned());
  }
}
