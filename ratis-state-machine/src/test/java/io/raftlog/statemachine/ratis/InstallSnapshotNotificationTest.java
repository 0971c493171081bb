package io.raftlog.statemachine.ratis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.Test;

class InstallSnapshotNotificationTest {

  @Test
  void aReplicaThatCanReplayTheLeadersWholeLogAsksForNoSnapshot() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    ReplicaRepairSource peers = new ReplicaRepairSource() {
      @Override
      public ByteBuffer read(long fromOffset, long untilOffset, int maxBytes) throws IOException {
        asked.incrementAndGet();
        throw new IOException("no replica can serve it");
      }

      @Override
      public SnapshotCopy latestSnapshot(long minIndex) throws IOException {
        asked.incrementAndGet();
        throw new IOException("no replica has a snapshot yet");
      }
    };
    PartitionStateMachine sm = new PartitionStateMachine("test", () -> {
      throw new IOException("not opened in this test");
    }, peers, 100, e -> { });
    // A new replica (nothing applied) told by a leader whose log starts at 0, as Ratis tells a
    // joining replica whenever the leader has a snapshot: answered at once with "no snapshot".
    CompletableFuture<TermIndex> answer = sm.notifyInstallSnapshotFromLeader(null, TermIndex.valueOf(1, 0));
    assertTrue(answer.isDone());
    assertNull(answer.get());
    assertEquals(0, asked.get());
  }
}
