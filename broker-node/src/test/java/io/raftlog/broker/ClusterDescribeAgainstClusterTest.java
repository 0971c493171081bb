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

/** {@code cluster describe} against real brokers: partition counts per broker, then a broker down. */
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
}
