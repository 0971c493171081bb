package io.raftlog.broker.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.PreferredLeaderElection;
import io.raftlog.api.v1.PreferredLeaderOutcome;
import io.raftlog.broker.rpc.ReplicaStates.TopicPartitionKey;
import io.raftlog.internal.v1.LocalReplicaState;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PreferredLeaderElectorTest {

  /** Six partitions; partition p prefers broker p % 3 + 1. */
  private static final TopicRecord TOPIC = topic();

  private final List<String> transfers = new ArrayList<>();

  @Test
  void eachPartitionGetsTheOutcomeItsStateAllows() throws Exception {
    Map<TopicPartitionKey, LocalReplicaState> states = new HashMap<>();
    states.put(key(0), leader(1, 1, 2, 3));          // already the preferred
    states.put(key(1), leader(3, 1, 2, 3));          // moved
    states.put(key(2), leader(1, 1, 2));             // preferred 3 is not in sync
    // partition 3: no report (no leader known)
    states.put(key(4), leader(1, 1, 2, 3));          // preferred 2: the transfer is refused
    states.put(key(5), leader(1, 1, 2, 3));          // preferred 3: the transfer fails
    PreferredLeaderElector elector = new PreferredLeaderElector(1, (topic, partition, to) -> {
      synchronized (transfers) {
        transfers.add(partition + "->" + to);
      }
      return switch (partition) {
        case 4 -> "refused to transfer leadership to peer 2";
        case 5 -> throw new IOException("timed out");
        default -> null;
      };
    });
    List<PreferredLeaderElector.Target> targets = new ArrayList<>();
    for (int p = 0; p < 6; p++) {
      targets.add(new PreferredLeaderElector.Target(TOPIC, p));
    }
    List<PreferredLeaderElection> r = elector.elect(targets, states).get(10, TimeUnit.SECONDS);

    assertEquals(6, r.size());
    assertOutcome(r.get(0), PreferredLeaderOutcome.ALREADY_PREFERRED, 1);
    assertOutcome(r.get(1), PreferredLeaderOutcome.ELECTED, 2);
    assertOutcome(r.get(2), PreferredLeaderOutcome.FAILED, 1);
    assertTrue(r.get(2).getMessage().contains("not in sync"), r.get(2).getMessage());
    assertOutcome(r.get(3), PreferredLeaderOutcome.FAILED, -1);
    assertTrue(r.get(3).getMessage().contains("no leader"), r.get(3).getMessage());
    assertOutcome(r.get(4), PreferredLeaderOutcome.FAILED, 1);
    assertTrue(r.get(4).getMessage().contains("refused"), r.get(4).getMessage());
    assertOutcome(r.get(5), PreferredLeaderOutcome.FAILED, 1);
    assertTrue(r.get(5).getMessage().contains("timed out"), r.get(5).getMessage());
    synchronized (transfers) {
      assertEquals(List.of("1->2", "4->2", "5->3"), transfers.stream().sorted().toList(),
          "only partitions whose preferred replica is in sync are asked to move");
    }
  }

  private static void assertOutcome(PreferredLeaderElection e, PreferredLeaderOutcome outcome, int leader) {
    assertEquals(outcome, e.getOutcome(), e.toString());
    assertEquals(leader, e.getLeader(), e.toString());
  }

  private static TopicPartitionKey key(int partition) {
    return new TopicPartitionKey(TOPIC.getName(), partition);
  }

  private static LocalReplicaState leader(int leader, Integer... isr) {
    return LocalReplicaState.newBuilder().setTopic(TOPIC.getName()).setLeaderId(leader).setIsLeader(true)
        .addAllIsr(List.of(isr)).build();
  }

  private static TopicRecord topic() {
    TopicRecord.Builder t = TopicRecord.newBuilder().setName("t").setTopicId("id").setReplicationFactor(3);
    for (int p = 0; p < 6; p++) {
      int first = p % 3 + 1;
      t.addAssignments(ReplicaAssignment.newBuilder().setPartition(p)
          .addReplicas(first).addReplicas(first % 3 + 1).addReplicas((first + 1) % 3 + 1));
    }
    return t.build();
  }
}
