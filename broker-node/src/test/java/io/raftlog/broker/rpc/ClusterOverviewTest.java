package io.raftlog.broker.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftlog.api.v1.BrokerLoad;
import io.raftlog.api.v1.UnderReplicatedPartition;
import io.raftlog.broker.rpc.ReplicaStates.TopicPartitionKey;
import io.raftlog.internal.v1.LocalReplicaState;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterOverviewTest {

  private static TopicRecord topic(String name, List<List<Integer>> replicas) {
    TopicRecord.Builder t = TopicRecord.newBuilder().setName(name).setTopicId(name + "-id")
        .setReplicationFactor(replicas.get(0).size());
    for (int p = 0; p < replicas.size(); p++) {
      t.addAssignments(ReplicaAssignment.newBuilder().setPartition(p).addAllReplicas(replicas.get(p)));
    }
    return t.build();
  }

  private static LocalReplicaState leader(String topic, int partition, int leader, List<Integer> isr) {
    return LocalReplicaState.newBuilder().setTopic(topic).setPartition(partition).setLeaderId(leader)
        .setIsLeader(true).addAllIsr(isr).build();
  }

  private static BrokerLoad load(int id, int leaders, int replicas) {
    return BrokerLoad.newBuilder().setBrokerId(id).setLeaders(leaders).setReplicas(replicas).build();
  }

  @Test
  void countsLeadersAndReplicasPerBrokerAndListsNoHealthyPartition() {
    TopicRecord orders = topic("orders", List.of(List.of(1, 2, 3), List.of(2, 3, 1), List.of(3, 1, 2)));
    TopicRecord audit = topic("audit", List.of(List.of(1, 2)));
    Map<TopicPartitionKey, LocalReplicaState> states = new HashMap<>();
    states.put(new TopicPartitionKey("orders", 0), leader("orders", 0, 1, List.of(1, 2, 3)));
    states.put(new TopicPartitionKey("orders", 1), leader("orders", 1, 2, List.of(1, 2, 3)));
    states.put(new TopicPartitionKey("orders", 2), leader("orders", 2, 1, List.of(1, 2, 3)));
    states.put(new TopicPartitionKey("audit", 0), leader("audit", 0, 1, List.of(2, 1)));

    ClusterOverview.Result r = ClusterOverview.compute(List.of(1, 2, 3, 4), List.of(orders, audit), states);

    assertEquals(List.of(load(1, 3, 4), load(2, 1, 4), load(3, 0, 3), load(4, 0, 0)), r.loads());
    assertEquals(List.of(), r.underReplicated());
  }

  @Test
  void aMissingInSyncReplicaOrAMissingLeaderMakesAPartitionUnderReplicated() {
    TopicRecord orders = topic("orders", List.of(List.of(1, 2, 3), List.of(2, 3, 1), List.of(3, 1, 2)));
    Map<TopicPartitionKey, LocalReplicaState> states = new HashMap<>();
    states.put(new TopicPartitionKey("orders", 0), leader("orders", 0, 1, List.of(1, 3)));
    // Partition 1: only a follower answered, which knows no leader.
    states.put(new TopicPartitionKey("orders", 1), LocalReplicaState.newBuilder().setTopic("orders")
        .setPartition(1).setLeaderId(-1).setIsLeader(false).build());
    // Partition 2: nobody answered.

    ClusterOverview.Result r = ClusterOverview.compute(List.of(1, 2, 3), List.of(orders), states);

    assertEquals(List.of(
        UnderReplicatedPartition.newBuilder().setTopic("orders").setPartition(0).setLeaderId(1)
            .addAllReplicas(List.of(1, 2, 3)).addAllIsr(List.of(1, 3)).build(),
        UnderReplicatedPartition.newBuilder().setTopic("orders").setPartition(1).setLeaderId(-1)
            .addAllReplicas(List.of(2, 3, 1)).build(),
        UnderReplicatedPartition.newBuilder().setTopic("orders").setPartition(2).setLeaderId(-1)
            .addAllReplicas(List.of(3, 1, 2)).build()), r.underReplicated());
    assertEquals(List.of(load(1, 1, 3), load(2, 0, 3), load(3, 0, 3)), r.loads());
  }
}
