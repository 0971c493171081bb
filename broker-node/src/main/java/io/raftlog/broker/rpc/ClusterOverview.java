package io.raftlog.broker.rpc;

import io.raftlog.api.v1.BrokerLoad;
import io.raftlog.api.v1.UnderReplicatedPartition;
import io.raftlog.broker.rpc.ReplicaStates.TopicPartitionKey;
import io.raftlog.internal.v1.LocalReplicaState;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code cluster describe} shows beyond the broker list: how many partitions each broker leads
 * and hosts, and which partitions are under-replicated. Pure: computed from the topics' assignments
 * and the replica states the brokers reported.
 */
final class ClusterOverview {

  private ClusterOverview() {}

  /** The result: loads in the order of {@code brokerIds}, under-replicated partitions by topic and partition. */
  record Result(List<BrokerLoad> loads, List<UnderReplicatedPartition> underReplicated) {}

  /**
   * @param brokerIds the registered brokers
   * @param states per partition, the best-informed replica state (see {@link ReplicaStates#collect}); a
   *     partition without one has no known leader
   */
  static Result compute(List<Integer> brokerIds, Collection<TopicRecord> topics,
      Map<TopicPartitionKey, LocalReplicaState> states) {
    Map<Integer, int[]> load = new LinkedHashMap<>(); // id -> {leaders, replicas}
    for (int id : brokerIds) {
      load.put(id, new int[2]);
    }
    List<UnderReplicatedPartition> under = new ArrayList<>();
    List<TopicRecord> sorted = topics.stream().sorted(Comparator.comparing(TopicRecord::getName)).toList();
    for (TopicRecord topic : sorted) {
      List<ReplicaAssignment> assignments = topic.getAssignmentsList().stream()
          .sorted(Comparator.comparingInt(ReplicaAssignment::getPartition)).toList();
      for (ReplicaAssignment a : assignments) {
        for (int replica : a.getReplicasList()) {
          load.computeIfAbsent(replica, k -> new int[2])[1]++;
        }
        LocalReplicaState s = states.get(new TopicPartitionKey(topic.getName(), a.getPartition()));
        int leader = s != null && s.getIsLeader() ? s.getLeaderId() : -1;
        if (leader >= 0) {
          load.computeIfAbsent(leader, k -> new int[2])[0]++;
        }
        List<Integer> isr = leader >= 0 ? s.getIsrList() : List.of();
        Set<Integer> inSync = new HashSet<>(isr);
        if (leader < 0 || !inSync.containsAll(a.getReplicasList())) {
          under.add(UnderReplicatedPartition.newBuilder().setTopic(topic.getName()).setPartition(a.getPartition())
              .setLeaderId(leader).addAllReplicas(a.getReplicasList()).addAllIsr(isr).build());
        }
      }
    }
    List<BrokerLoad> loads = new ArrayList<>();
    load.forEach((id, counts) -> loads.add(BrokerLoad.newBuilder().setBrokerId(id).setLeaders(counts[0])
        .setReplicas(counts[1]).build()));
    return new Result(loads, under);
  }
}
