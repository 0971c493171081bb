package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.AlterTopicConfigRequest;
import io.raftlog.api.v1.CreateTopicRequest;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.log.v1.TopicRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A metadata voter that lost its whole data directory while the others purged their metadata log
 * comes back: it copies the leader's latest metadata snapshot, follows the log from there, and
 * counts as a voter again (the group commits with it and one other voter).
 */
class MetadataVoterRejoinTest {

  private static final String BEFORE = "before-" + "x".repeat(200);

  @TempDir
  Path dir;

  @Test
  void aVoterThatLostItsDataCopiesTheLeadersSnapshotAndVotesAgain() throws IOException {
    // Small Raft log segments (Ratis purges whole closed segments only) and frequent snapshots.
    try (MiniCluster cluster = MiniCluster.start(3, dir, Map.of("raft.snapshot.threshold.entries", "100",
        "max.batch.bytes", "1024", "raft.log.segment.bytes", "65536"))) {
      cluster.createTopic(BEFORE, 1, 3);
      AdminServiceGrpc.AdminServiceStub admin = AdminServiceGrpc.newStub(cluster.channel(1));
      // ~600 entries of ~300 bytes (the long topic name): several closed segments, snapshots every 100.
      for (int window = 0; window < 20; window++) {
        List<CompletableFuture<?>> calls = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
          CompletableFuture<Object> done = new CompletableFuture<>();
          admin.withDeadlineAfter(30, TimeUnit.SECONDS).alterTopicConfig(AlterTopicConfigRequest.newBuilder()
              .setName(BEFORE).putSet("retention.ms", Long.toString(1_000_000L + window * 30 + i)).build(),
              new io.grpc.stub.StreamObserver<>() {
                @Override
                public void onNext(io.raftlog.api.v1.AlterTopicConfigResponse value) {}

                @Override
                public void onError(Throwable t) {
                  done.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                  done.complete(null);
                }
              });
          calls.add(done);
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
      }
      AdminServiceGrpc.AdminServiceBlockingStub blocking = AdminServiceGrpc.newBlockingStub(cluster.channel(1));
      blocking.alterTopicConfig(AlterTopicConfigRequest.newBuilder().setName(BEFORE)
          .putSet("retention.ms", "2000000").build());
      Wait.until("every voter purged its metadata log", Duration.ofSeconds(60), () -> cluster.runningIds().stream()
          .allMatch(id -> cluster.broker(id).metadataDivision().getRaftLog().getStartIndex() > 100));

      cluster.kill(3);
      deleteTree(cluster.config(3).dataDir);
      cluster.startBroker(3);
      Wait.until("broker 3 applied the metadata again", Duration.ofSeconds(90),
          () -> retentionOf(cluster.broker(3), BEFORE).equals(Optional.of("2000000")));
      RaftServer.Division division = cluster.broker(3).metadataDivision();
      assertTrue(division.getInfo().getLastAppliedIndex() > 600, "applied " + division.getInfo().getLastAppliedIndex());

      // Broker 3 votes again: without broker 1, brokers 2 and 3 still commit metadata.
      cluster.kill(1);
      AdminServiceGrpc.AdminServiceBlockingStub viaTwo = AdminServiceGrpc.newBlockingStub(cluster.channel(2));
      Wait.until("topic 'after' created with voters 2 and 3", Duration.ofSeconds(60), () -> {
        try {
          viaTwo.withDeadlineAfter(10, TimeUnit.SECONDS).createTopic(CreateTopicRequest.newBuilder().setName("after")
              .setPartitions(1).setReplicationFactor(1).build());
          return true;
        } catch (StatusRuntimeException e) {
          return e.getStatus().getCode() == io.grpc.Status.Code.ALREADY_EXISTS;
        }
      });
      Wait.until("broker 3 applied 'after'", Duration.ofSeconds(30),
          () -> cluster.broker(3).metadata().topic("after").isPresent());
      assertTrue(cluster.fatalErrors().isEmpty(), cluster.fatalErrors().toString());
    }
  }

  private static Optional<String> retentionOf(Broker broker, String topic) {
    return broker.metadata().topic(topic).map(TopicRecord::getConfigMap).map(c -> c.get("retention.ms"));
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
