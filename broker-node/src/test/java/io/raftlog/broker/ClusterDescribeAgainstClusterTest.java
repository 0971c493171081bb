package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.BrokerLoad;
import io.raftlog.client.ClusterDescription;
import io.raftlog.client.UnderReplicatedPartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster describe} against real brokers: partition counts per broker, a broker down, and
 * leadership returning to the preferred replicas after a restart.
 */
class ClusterDescribeAgainstClusterTest {

  @TempDir
  Path dir;

  @Test
  void loadsAndUnderReplicatedPartitionsFollowTheCluster() {
    try (MiniCluster cluster = MiniCluster.start(3, dir);
        Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap())
            .requestTimeoutMs(10_000).build())) {
      cluster.createTopic("described", 3, 3);
      AtomicReference<ClusterDescription> last = new AtomicReference<>();
      Wait.until("every partition led, all replicas in sync", Duration.ofSeconds(60), () -> {
        ClusterDescription c = admin.blocking().describeCluster();
        last.set(c);
        return c.underReplicatedPartitions().isEmpty()
            && c.loads().stream().mapToInt(BrokerLoad::leaders).sum() == 3;
      });
      for (int id = 1; id <= 3; id++) {
        assertEquals(3, last.get().load(id).orElseThrow().replicas(), last.get().toString());
      }

      cluster.kill(3);
      Wait.until("broker 3's partitions reported under-replicated", Duration.ofSeconds(60), () -> {
        ClusterDescription c = admin.blocking().describeCluster();
        last.set(c);
        return c.underReplicatedPartitions().size() == 3
            && c.underReplicatedPartitions().stream().allMatch(u -> !u.offline() && !u.isr().contains(3))
            && c.loads().stream().mapToInt(BrokerLoad::leaders).sum() == 3;
      });
      ClusterDescription c = last.get();
      assertEquals(0, c.load(3).map(BrokerLoad::leaders).orElse(0), c.toString());
      for (UnderReplicatedPartition u : c.underReplicatedPartitions()) {
        assertEquals("described", u.topic());
        assertEquals(3, u.replicas().size());
        assertFalse(u.isr().isEmpty());
      }
    }
  }

  /**
   * The preferred leader of a partition is the first replica of its assignment; Raft priorities
   * (see LeadershipGuard) hand leadership back to it once it has caught up after a restart.
   */
  @Test
  void leadershipReturnsToThePreferredReplicasAfterABrokerRestarts() {
    try (MiniCluster cluster = MiniCluster.start(3, dir);
        Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap())
            .requestTimeoutMs(10_000).build())) {
      cluster.createTopic("balanced", 6, 3);
      Wait.until("each broker leads its 2 preferred partitions", Duration.ofSeconds(60),
          () -> leadersOnPreferredReplicas(admin, "balanced"));

      cluster.kill(1);
      Wait.until("brokers 2 and 3 lead all 6 partitions", Duration.ofSeconds(60), () -> {
        ClusterDescription c = admin.blocking().describeCluster();
        return c.load(2).orElseThrow().leaders() + c.load(3).orElseThrow().leaders() == 6;
      });

      cluster.startBroker(1);
      Wait.until("leadership back on the preferred replicas", Duration.ofSeconds(60),
          () -> leadersOnPreferredReplicas(admin, "balanced"));
      // describeCluster counts a broker that does not answer within 1.5 s as leading nothing (a
      // just-restarted broker under load): ask until every broker has answered, then check.
      AtomicReference<ClusterDescription> last = new AtomicReference<>();
      Wait.until("every broker reports its replicas", Duration.ofSeconds(30), () -> {
        ClusterDescription c = admin.blocking().describeCluster();
        last.set(c);
        return c.underReplicatedPartitions().stream().noneMatch(UnderReplicatedPartition::offline);
      });
      for (int id = 1; id <= 3; id++) {
        assertEquals(2, last.get().load(id).orElseThrow().leaders(), last.get().toString());
      }
    }
  }

  private static boolean leadersOnPreferredReplicas(Admin admin, String topic) {
    return admin.blocking().describeTopic(topic).partitions().stream()
        .allMatch(p -> !p.replicas().isEmpty() && p.leader() == p.replicas().get(0));
  }
}
