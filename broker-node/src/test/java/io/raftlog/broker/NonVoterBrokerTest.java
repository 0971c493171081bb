package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.broker.testkit.MiniCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A fourth broker is not a metadata voter: it follows metadata by polling and hosts replicas. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class NonVoterBrokerTest {

  @TempDir
  Path dir;

  @Test
  void brokerOutsideTheMetadataQuorumHostsAndLeadsPartitions() {
    try (MiniCluster c = MiniCluster.start(4, dir)) {
      // Created through the non-voter: it forwards the write to the metadata group.
      c.createTopic(4, "four", 4, 3);
      // Replicas are created by each broker's reconciler; a leader only needs a majority of them.
      io.raftlog.broker.testkit.Wait.until("broker 4 hosts 3 of the 4 partitions", Duration.ofSeconds(30),
          () -> c.broker(4).partitions().replicas().size() == 3);
      for (int p = 0; p < 4; p++) {
        PartitionProduceResult r = ProduceServiceGrpc.newBlockingStub(c.channel(4)).withDeadlineAfter(30, TimeUnit.SECONDS)
            .produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(PartitionProduceData.newBuilder()
                .setTopic("four").setPartition(p).addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("x"))))
                .build()).getResults(0);
        assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
        assertEquals(0, r.getBaseOffset());
      }
    }
  }
}
