package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.broker.partition.PartitionReplica;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.server.impl.AppenderStopper;
import org.apache.ratis.server.impl.LeaderAppenders;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader whose Ratis log appender for a follower stopped (Ratis 3.2.2 does not restart a failed
 * one) steps down, so that the follower is sent entries again ({@code LeaderAppenderWatch}).
 * Without the watch the follower gets nothing until leadership moves for another reason.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class StoppedAppenderTest {

  private static final String TOPIC = "appender";

  @TempDir
  Path dir;

  @Test
  void aFollowerWhoseAppenderStoppedCatchesUpAgain() {
    try (MiniCluster cluster = MiniCluster.start(3, dir)) {
      cluster.createTopic(TOPIC, 1, 3);
      // The preferred replica leads, so that no handover to it starts a new term by itself.
      int preferred = cluster.broker(cluster.runningIds().get(0)).metadata().topic(TOPIC).orElseThrow()
          .getAssignments(0).getReplicas(0);
      Wait.until("broker " + preferred + " (preferred) leads", Duration.ofSeconds(60),
          () -> cluster.leaderOf(TOPIC, 0).orElse(-1) == preferred);
      int leader = preferred;
      assertEquals(ErrorCode.NONE, produce(cluster, leader, "before").getError().getCode());
      int follower = cluster.runningIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
      PartitionReplica leaderReplica = cluster.replica(leader, TOPIC, 0);
      assertTrue(AppenderStopper.stop(leaderReplica.division(), GroupIds.peerId(follower)));
      Wait.until("the leader's appender for broker " + follower + " stopped", Duration.ofSeconds(10),
          () -> LeaderAppenders.stopped(leaderReplica.division()).equals(List.of(GroupIds.peerId(follower))));

      // Writes go on with the leader and the other follower; this follower is sent none of them
      // until the leader has stepped down and a new term started fresh appenders.
      for (int i = 0; i < 5; i++) {
        PartitionProduceResult r = Wait.forValue("an acks=all write", Duration.ofSeconds(30), () -> {
          for (int id : cluster.runningIds()) {
            PartitionProduceResult attempt = produce(cluster, id, "during");
            if (attempt.getError().getCode() == ErrorCode.NONE) {
              return attempt;
            }
          }
          return null;
        });
        assertEquals(ErrorCode.NONE, r.getError().getCode());
      }
      Wait.until("broker " + follower + " applied every entry its leader has", Duration.ofSeconds(60),
          () -> caughtUp(cluster, follower));
    }
  }

  /** The follower has applied at least as far as the current leader. */
  private static boolean caughtUp(MiniCluster cluster, int follower) {
    int now = cluster.leaderOf(TOPIC, 0).orElse(-1);
    if (now < 0 || now == follower) {
      return now == follower;
    }
    TermIndex leaderApplied = cluster.replica(now, TOPIC, 0).stateMachine().getLastAppliedTermIndex();
    TermIndex followerApplied = cluster.replica(follower, TOPIC, 0).stateMachine().getLastAppliedTermIndex();
    return leaderApplied != null && followerApplied != null && followerApplied.getIndex() >= leaderApplied.getIndex();
  }

  private static PartitionProduceResult produce(MiniCluster c, int broker, String value) {
    return ProduceServiceGrpc.newBlockingStub(c.channel(broker)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(PartitionProduceData.newBuilder()
            .setTopic(TOPIC).setPartition(0).addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(value))))
            .build()).getResults(0);
  }
}
