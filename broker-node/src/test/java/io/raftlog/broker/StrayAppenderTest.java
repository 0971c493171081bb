package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.PartitionDescription;
import io.raftlog.api.v1.PartitionReplicas;
import io.raftlog.api.v1.ReassignPartitionsRequest;
import io.raftlog.broker.partition.PartitionReplica;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.impl.LeaderAppenders;
import org.apache.ratis.server.impl.StrayAppenderInjector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Ratis 3.2.2 leader elected over a joint configuration keeps a log appender for the replica that
 * left, for the whole term (seen in the fault suite). Adding that replica back in the same term then
 * fails, and so does every later membership change of the term: a reassignment stalled for 5 minutes.
 * The test gives a leader such a stray appender ({@link StrayAppenderInjector}) and checks that the
 * leader gives way to a clean term (LeaderAppenderWatch), and that a reassignment adding the stray's
 * broker completes (the Reassigner steps down too when Ratis fails a change internally). Without
 * both, each wait below times out.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class StrayAppenderTest {

  private static final String TOPIC = "strays";

  @TempDir
  Path dir;

  @Test
  void aLeaderWithAnAppenderForANonMemberGivesWayAndTheReplicaCanBeAddedBack() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir)) {
      cluster.createTopic(TOPIC, 1, 2);
      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(cluster.channel(1));
      List<Integer> replicas = describe(admin).getReplicasList();
      int outsider = cluster.runningIds().stream().filter(id -> !replicas.contains(id)).findFirst().orElseThrow();

      // 1. A stray appender alone: the leader steps down, and the next term has none.
      int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
      RaftServer.Division division = cluster.replica(leader, TOPIC, 0).division();
      long term = division.getInfo().getCurrentTerm();
      assertTrue(StrayAppenderInjector.add(division, peer(cluster, outsider)));
      assertEquals(List.of(GroupIds.peerId(outsider)), LeaderAppenders.strays(division));
      Wait.until("a leader of a later term without a stray appender", Duration.ofSeconds(60), () -> {
        int now = cluster.leaderOf(TOPIC, 0).orElse(-1);
        if (now < 0) {
          return false;
        }
        RaftServer.Division d = cluster.replica(now, TOPIC, 0).division();
        return d.getInfo().getCurrentTerm() > term && d.getInfo().isLeader() && LeaderAppenders.strays(d).isEmpty();
      });

      // 2. A stray appender for the broker a reassignment adds: the reassignment completes.
      int second = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
      PartitionReplica replica = cluster.replica(second, TOPIC, 0);
      assertTrue(StrayAppenderInjector.add(replica.division(), peer(cluster, outsider)));
      List<Integer> target = new ArrayList<>(replicas);
      target.add(outsider);
      admin.reassignPartitions(ReassignPartitionsRequest.newBuilder().setTopic(TOPIC)
          .addPartitions(PartitionReplicas.newBuilder().setPartition(0).addAllReplicas(target)).build());
      Wait.until("partition 0 reassigned to " + target + " with all in sync", Duration.ofSeconds(90), () -> {
        PartitionDescription p = describe(admin);
        return p.getReplicasList().equals(target) && p.getTargetReplicasCount() == 0 && p.getIsrCount() == 3;
      });
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  private static RaftPeer peer(MiniCluster cluster, int broker) {
    return RaftPeer.newBuilder().setId(GroupIds.peerId(broker))
        .setAddress(cluster.config(broker).host + ":" + cluster.config(broker).raftPort).build();
  }

  private static PartitionDescription describe(AdminServiceGrpc.AdminServiceBlockingStub admin) {
    return admin.withDeadlineAfter(10, TimeUnit.SECONDS)
        .describeTopic(DescribeTopicRequest.newBuilder().setName(TOPIC).build()).getPartitions(0);
  }
}
