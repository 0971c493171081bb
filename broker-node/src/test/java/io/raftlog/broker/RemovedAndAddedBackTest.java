package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.PartitionDescription;
import io.raftlog.api.v1.PartitionReplicas;
import io.raftlog.api.v1.ReassignPartitionsRequest;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker removed from a partition and added back before its partition manager saw the image in
 * between (images coalesce there). Ratis shuts the removed replica down by itself (it finds itself
 * outside the configuration at its next election timeout); the broker must replace it with a fresh
 * joining replica, or the reassignment back never completes (seen in ReassignmentTest).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RemovedAndAddedBackTest {

  private static final String TOPIC = "back";

  @TempDir
  Path dir;

  @Test
  void aReplicaRemovedAndAddedBackBeforeItsBrokerReconciledJoinsAgain() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir)) {
      cluster.createTopic(TOPIC, 1, 3);
      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(cluster.channel(1));
      int leader = cluster.awaitLeader(TOPIC, 0, Duration.ofSeconds(60));
      List<Integer> all = describe(admin).getReplicasList();
      int moved = all.stream().filter(id -> id != leader).findFirst().orElseThrow();
      List<Integer> without = new ArrayList<>(all);
      without.remove(Integer.valueOf(moved));

      CountDownLatch release = new CountDownLatch(1);
      cluster.broker(moved).partitions().runOnReconciler(() -> {
        try {
          release.await(3, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      try {
        reassign(admin, without);
        Wait.until("partition 0 reassigned to " + without, Duration.ofSeconds(60), () -> {
          PartitionDescription p = describe(admin);
          return p.getReplicasList().equals(without) && p.getTargetReplicasCount() == 0;
        });
        // Its partition manager is held, so the replica is still listed; Ratis stops it by itself.
        Wait.until("Ratis stopped broker " + moved + "'s replica", Duration.ofSeconds(30),
            () -> cluster.localReplica(moved, TOPIC, 0)
                .map(r -> r.division() == null || !r.division().getInfo().isAlive()).orElse(false));
        reassign(admin, all);
        Wait.until("broker " + moved + " sees itself as a target", Duration.ofSeconds(30),
            () -> cluster.broker(moved).metadata().topic(TOPIC).orElseThrow().getAssignments(0)
                .getTargetReplicasList().contains(moved));
      } finally {
        release.countDown();
      }
      Wait.until("partition 0 back on " + all + " with all in sync", Duration.ofSeconds(90), () -> {
        PartitionDescription p = describe(admin);
        return p.getReplicasList().equals(all) && p.getTargetReplicasCount() == 0 && p.getIsrCount() == 3;
      });
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  private static void reassign(AdminServiceGrpc.AdminServiceBlockingStub admin, List<Integer> replicas) {
    admin.withDeadlineAfter(30, TimeUnit.SECONDS).reassignPartitions(ReassignPartitionsRequest.newBuilder()
        .setTopic(TOPIC).addPartitions(PartitionReplicas.newBuilder().setPartition(0).addAllReplicas(replicas)).build());
  }

  private static PartitionDescription describe(AdminServiceGrpc.AdminServiceBlockingStub admin) {
    return admin.withDeadlineAfter(10, TimeUnit.SECONDS)
        .describeTopic(DescribeTopicRequest.newBuilder().setName(TOPIC).build()).getPartitions(0);
  }
}
