package io.raftlog.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerLogDigestTest {

  @TempDir
  Path dir;

  @Test
  void keepsOurTellingLinesAndTheLastOnesOnly() throws Exception {
    Path broker = Files.createDirectories(dir.resolve("broker-1"));
    Files.write(broker.resolve("broker.log"), List.of(
        "2026-11-27 18:40:02.943 INFO  [main] io.raftlog.broker.Broker - [broker-1]   raft.snapshot.threshold.entries = 100",
        "2026-11-27 18:40:11.196 INFO  [main] io.raftlog.broker.Broker - [broker-1] started: gRPC on 127.0.0.1:1",
        "2026-11-27 18:40:55.933 WARN  [grpc-6] o.a.r.g.s.GrpcServerProtocolService - 2: Failed APPEND_ENTRIES",
        "2026-11-27 18:40:56.599 INFO  [grpc-8] i.r.s.ratis.PartitionStateMachine - [broker-1 chaos-2] leader is now 3",
        "2026-11-27 18:40:57.000 DEBUG [tick] i.r.b.partition.CatchUpNudge - nothing to see",
        "2026-11-27 18:40:58.000 WARN  [tick] i.r.b.partition.RetentionEnforcer - [broker-1] retention check failed",
        "2026-11-27 18:40:59.000 INFO  [x] o.a.r.s.i.RaftServerImpl - 1: notifyInstallSnapshot to 2"));
    String digest = BrokerLogDigest.of(dir, 3);
    assertFalse(digest.contains("threshold.entries"), digest);
    assertFalse(digest.contains("Failed APPEND_ENTRIES"), digest);
    assertFalse(digest.contains("nothing to see"), digest);
    assertFalse(digest.contains("started:"), "only the last 3 telling lines: " + digest);
    assertTrue(digest.contains("leader is now 3"), digest);
    assertTrue(digest.contains("retention check failed"), digest);
    assertTrue(digest.contains("notifyInstallSnapshot"), digest);
    assertEquals(4, digest.lines().count(), digest);
  }
}
