package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.DescribeTopicResponse;
import io.raftlog.api.v1.ElectPreferredLeadersRequest;
import io.raftlog.api.v1.ElectPreferredLeadersResponse;
import io.raftlog.api.v1.PartitionDescription;
import io.raftlog.api.v1.PreferredLeaderOutcome;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Preferred leader election on demand, with automatic leader balancing switched off
 * ({@code auto.leader.rebalance.enable=false}): leaders stay where elections put them until the
 * ElectPreferredLeaders RPC moves them to the first replica of each assignment.
 */
class PreferredLeaderElectionTest {

  private static final String TOPIC = "elect";

  @TempDir
  Path dir;

  @Test
  void leadersMoveToThePreferredReplicasOnlyWhenAsked() {
    try (MiniCluster cluster = MiniCluster.start(3, dir, Map.of("auto.leader.rebalance.enable", "false"))) {
      cluster.createTopic(TOPIC, 3, 3);
      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(cluster.channel(1));
      electUntilAllPreferred(admin, ElectPreferredLeadersRequest.newBuilder().setTopic(TOPIC).build());
      assertLeadersPreferred(admin, true);

      // Broker 2 prefers partition 1 (placement spreads the first replicas); it goes away and comes back.
      int preferredOf1 = describe(admin).getPartitions(1).getReplicas(0);
      cluster.kill(preferredOf1);
      Wait.until("another broker leads partition 1", Duration.ofSeconds(60), () -> {
        int leader = describe(AdminServiceGrpc.newBlockingStub(cluster.channel(preferredOf1 % 3 + 1)))
            .getPartitions(1).getLeaderId();
        return leader >= 0 && leader != preferredOf1;
      });
      cluster.startBroker(preferredOf1);
      admin = AdminServiceGrpc.newBlockingStub(cluster.channel(1));
      AdminServiceGrpc.AdminServiceBlockingStub stub = admin;
      Wait.until("broker " + preferredOf1 + " back in sync for partition 1", Duration.ofSeconds(60),
          () -> describe(stub).getPartitions(1).getIsrList().contains(preferredOf1));
      // Nothing moves leadership back by itself with the switch off.
      assertNotEquals(preferredOf1, describe(admin).getPartitions(1).getLeaderId());

      ElectPreferredLeadersResponse r = electUntilAllPreferred(admin,
          ElectPreferredLeadersRequest.newBuilder().setTopic(TOPIC).addPartitions(1).build());
      assertEquals(1, r.getResultsCount());
      assertEquals(PreferredLeaderOutcome.ELECTED, r.getResults(0).getOutcome(), r.toString());
      assertEquals(preferredOf1, r.getResults(0).getLeader());
      Wait.until("describe shows the preferred leader of partition 1", Duration.ofSeconds(30),
          () -> describe(stub).getPartitions(1).getLeaderId() == preferredOf1);

      AdminServiceGrpc.AdminServiceBlockingStub quick = admin;
      assertStatus(Status.Code.INVALID_ARGUMENT, () -> quick.electPreferredLeaders(
          ElectPreferredLeadersRequest.newBuilder().addPartitions(0).build()));
      assertStatus(Status.Code.INVALID_ARGUMENT, () -> quick.electPreferredLeaders(
          ElectPreferredLeadersRequest.newBuilder().setTopic(TOPIC).addPartitions(3).build()));
      assertStatus(Status.Code.NOT_FOUND, () -> quick.electPreferredLeaders(
          ElectPreferredLeadersRequest.newBuilder().setTopic("no-such-topic").build()));
    }
  }

  /**
   * Right after creation or a restart a preferred replica may not be in sync yet (FAILED with a
   * reason); ask again until every partition is led by its preferred replica.
   */
  private static ElectPreferredLeadersResponse electUntilAllPreferred(AdminServiceGrpc.AdminServiceBlockingStub admin,
      ElectPreferredLeadersRequest request) {
    AtomicReference<ElectPreferredLeadersResponse> last = new AtomicReference<>();
    AtomicReference<ElectPreferredLeadersResponse> firstSuccess = new AtomicReference<>();
    Wait.until("every partition led by its preferred replica", Duration.ofSeconds(60), () -> {
      ElectPreferredLeadersResponse r = admin.withDeadlineAfter(30, TimeUnit.SECONDS).electPreferredLeaders(request);
      last.set(r);
      boolean done = r.getResultsList().stream().allMatch(e -> e.getOutcome() != PreferredLeaderOutcome.FAILED);
      if (done && r.getResultsList().stream().anyMatch(e -> e.getOutcome() == PreferredLeaderOutcome.ELECTED)) {
        firstSuccess.compareAndSet(null, r);
      }
      return done;
    });
    return firstSuccess.get() != null ? firstSuccess.get() : last.get();
  }

  private static void assertLeadersPreferred(AdminServiceGrpc.AdminServiceBlockingStub admin, boolean expected) {
    Wait.until("describe shows the preferred leaders", Duration.ofSeconds(30), () -> {
      for (PartitionDescription p : describe(admin).getPartitionsList()) {
        if ((p.getLeaderId() == p.getReplicas(0)) != expected) {
          return false;
        }
      }
      return true;
    });
  }

  private static DescribeTopicResponse describe(AdminServiceGrpc.AdminServiceBlockingStub admin) {
    return admin.withDeadlineAfter(10, TimeUnit.SECONDS).describeTopic(DescribeTopicRequest.newBuilder().setName(TOPIC).build());
  }

  private static void assertStatus(Status.Code code, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
  }
}
