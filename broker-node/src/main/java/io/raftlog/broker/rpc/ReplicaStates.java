package io.raftlog.broker.rpc;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.partition.PartitionManager;
import io.raftlog.broker.partition.PartitionReplica;
import io.raftlog.internal.v1.BrokerInternalServiceGrpc;
import io.raftlog.internal.v1.DescribeLocalReplicasRequest;
import io.raftlog.internal.v1.DescribeLocalReplicasResponse;
import io.raftlog.internal.v1.LocalReplicaState;
import io.raftlog.log.v1.BrokerRecord;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects the live state of partition replicas (leader, term, ISR, offsets) from this broker and,
 * over the internal gRPC API, from every other live broker. Leadership is decided by each
 * partition's Raft group, so the brokers hosting it are the ones that know.
 */
public final class ReplicaStates implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaStates.class);
  private static final long PEER_DEADLINE_MS = 1500;

  /** Key of a partition in the collected map. */
  public record TopicPartitionKey(String topic, int partition) {}

  private final int brokerId;
  private final PartitionManager partitions;
  private final MetadataView metadata;
  private final Clock clock;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  public ReplicaStates(int brokerId, PartitionManager partitions, MetadataView metadata, Clock clock) {
    this.brokerId = brokerId;
    this.partitions = partitions;
    this.metadata = metadata;
    this.clock = clock;
  }

  /** The state of local replicas, optionally of one topic only. */
  public List<LocalReplicaState> local(String topic) {
    long now = clock.millis();
    List<LocalReplicaState> out = new ArrayList<>();
    for (PartitionReplica r : partitions.replicas()) {
      RaftServer.Division d = r.division();
      if ((!topic.isEmpty() && !topic.equals(r.topic())) || !started(d)) {
        continue; // another topic, or Ratis is still starting the group, or it shut it down
      }
      LocalReplicaState.Builder b = LocalReplicaState.newBuilder().setTopic(r.topic()).setPartition(r.partition())
          .setLeaderId(r.leaderId()).setTerm(r.term()).setIsLeader(r.isLeader())
          .setLogStartOffset(r.stateMachine().logStartOffset())
          .setLogEndOffset(r.stateMachine().highWatermark());
      // The state machine's applied index: Ratis' own runs ahead of it while applies are deferred.
      TermIndex applied = r.stateMachine().getLastAppliedTermIndex();
      if (applied != null) {
        b.setLastAppliedIndex(applied.getIndex());
      }
      if (r.isLeader()) {
        b.addAllIsr(r.inSyncReplicas(now));
      }
      out.add(b.build());
    }
    return out;
  }

  /**
   * Whether Ratis runs the division with its log open. A joining replica stays STARTING until its
   * leader first reaches it. Why the log: a leader's snapshot notice that reaches a division whose
   * log is not open yet fails ("log is uninitialized") after Ratis marked the install in progress,
   * and every later notice of the term is answered "in progress": the joining replica never catches
   * up (seen with StrayAppenderTest). So a broker reports a replica only once it can take requests.
   */
  static boolean started(RaftServer.Division d) {
    if (d == null) {
      return false;
    }
    LifeCycle.State state = d.getInfo().getLifeCycleState();
    if (state != LifeCycle.State.STARTING && state != LifeCycle.State.RUNNING) {
      return false;
    }
    try {
      return d.getRaftLog().isOpened();
    } catch (IllegalStateException e) {
      return false; // "log is uninitialized"
    }
  }

  /**
   * For each partition (of one topic, or all when empty), the best-informed replica state: the one
   * reporting itself leader with the highest term, else the highest-term report. Brokers that do
   * not answer in time are skipped.
   */
  public CompletableFuture<Map<TopicPartitionKey, LocalReplicaState>> collect(String topic) {
    List<CompletableFuture<List<LocalReplicaState>>> calls = new ArrayList<>();
    calls.add(CompletableFuture.completedFuture(local(topic)));
    for (BrokerRecord b : metadata.image().getBrokersList()) {
      if (b.getBrokerId() == brokerId || !metadata.isAlive(b)) {
        continue;
      }
      calls.add(remote(b, topic));
    }
    return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(v -> {
      Map<TopicPartitionKey, LocalReplicaState> best = new HashMap<>();
      for (CompletableFuture<List<LocalReplicaState>> c : calls) {
        for (LocalReplicaState s : c.join()) {
          best.merge(new TopicPartitionKey(s.getTopic(), s.getPartition()), s, ReplicaStates::better);
        }
      }
      return best;
    });
  }

  /**
   * Whether a broker hosts a running replica of the partition (its Raft group is added), as the
   * broker itself reports; false when it does not answer in time.
   */
  public CompletableFuture<Boolean> hostsReplica(int broker, String topic, int partition) {
    if (broker == brokerId) {
      return CompletableFuture.completedFuture(local(topic).stream().anyMatch(s -> s.getPartition() == partition));
    }
    return metadata.broker(broker)
        .map(b -> remote(b, topic).thenApply(states -> states.stream().anyMatch(s -> s.getPartition() == partition)))
        .orElse(CompletableFuture.completedFuture(false));
  }

  private static LocalReplicaState better(LocalReplicaState a, LocalReplicaState b) {
    if (a.getIsLeader() != b.getIsLeader()) {
      return a.getIsLeader() ? a : b;
    }
    return b.getTerm() > a.getTerm() ? b : a;
  }

  private CompletableFuture<List<LocalReplicaState>> remote(BrokerRecord broker, String topic) {
    ManagedChannel channel = channels.computeIfAbsent(broker.getHost() + ":" + broker.getPort(),
        addr -> NettyChannelBuilder.forAddress(broker.getHost(), broker.getPort()).usePlaintext().build());
    CompletableFuture<List<LocalReplicaState>> f = new CompletableFuture<>();
    BrokerInternalServiceGrpc.newStub(channel).withDeadlineAfter(PEER_DEADLINE_MS, TimeUnit.MILLISECONDS)
        .describeLocalReplicas(DescribeLocalReplicasRequest.newBuilder().setTopic(topic).build(),
            new io.grpc.stub.StreamObserver<>() {
              @Override
              public void onNext(DescribeLocalReplicasResponse value) {
                f.complete(value.getReplicasList());
              }

              @Override
              public void onError(Throwable t) {
                LOG.debug("broker {} did not describe its replicas: {}", broker.getBrokerId(), t.toString());
                f.complete(List.of());
              }

              @Override
              public void onCompleted() {
                f.complete(List.of());
              }
            });
    return f;
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
