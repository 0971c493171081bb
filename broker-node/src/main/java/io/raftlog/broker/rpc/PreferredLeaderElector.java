package io.raftlog.broker.rpc;

import io.raftlog.api.v1.PreferredLeaderElection;
import io.raftlog.api.v1.PreferredLeaderOutcome;
import io.raftlog.broker.partition.LeadershipGuard;
import io.raftlog.broker.partition.PartitionManager;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.rpc.ReplicaStates.TopicPartitionKey;
import io.raftlog.internal.v1.LocalReplicaState;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.TopicRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.protocol.RaftClientReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Preferred leader election on demand: moves the leadership of partitions to their preferred
 * replica (the first of the assignment), like Kafka's {@code kafka-leader-election --election-type
 * preferred}. Works from any broker: the transfer goes to each partition's Raft leader through the
 * broker's Ratis client of that group ({@code transferLeadership}), which waits until the preferred
 * replica has caught up and won its election.
 *
 * <p>Refused per partition, without asking Raft: a partition without a leader, and a preferred
 * replica that is not in sync (it would have to catch up first; Ratis would wait for it until the
 * timeout). Ratis itself refuses a transfer to a replica with a lower Raft priority than another
 * (a replica that is repairing its segment files, see {@link LeadershipGuard}).
 */
public final class PreferredLeaderElector {

  private static final Logger LOG = LoggerFactory.getLogger(PreferredLeaderElector.class);
  static final long TRANSFER_TIMEOUT_MS = 10_000;

  /** Moves one partition's leadership to {@code toBroker}; returns null when done, else why not. */
  @FunctionalInterface
  public interface Transfer {
    String transfer(TopicRecord topic, int partition, int toBroker) throws Exception;
  }

  /** One partition to elect for. */
  public record Target(TopicRecord topic, int partition) {
  }

  private final Transfer transfer;
  /** Transfers block while Ratis elects: a few at a time, on threads that go away when idle. */
  private final ThreadPoolExecutor executor;

  /** Transfers through {@code partitions}' Ratis clients, with peers' addresses from {@code image}. */
  public static PreferredLeaderElector through(int brokerId, PartitionManager partitions,
      java.util.function.Supplier<MetadataImage> image) {
    return new PreferredLeaderElector(brokerId, (topic, partition, toBroker) -> {
      RaftClientReply reply = partitions.clientFor(topic, partition, image.get())
          .transferLeadership(GroupIds.peerId(toBroker), TRANSFER_TIMEOUT_MS);
      if (reply.isSuccess()) {
        return null;
      }
      return reply.getException() == null ? "the Raft leader refused the transfer" : reply.getException().getMessage();
    });
  }

  public PreferredLeaderElector(int brokerId, Transfer transfer) {
    this.transfer = transfer;
    AtomicInteger threads = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "broker-" + brokerId + "-leader-election-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    executor.allowCoreThreadTimeOut(true);
  }

  /**
   * @param states each partition's state as its replicas report it (the leader's entry names the
   *     leader and the in-sync replicas); a partition missing from it has no known leader
   * @return one outcome per target, in the targets' order
   */
  public CompletableFuture<List<PreferredLeaderElection>> elect(List<Target> targets,
      Map<TopicPartitionKey, LocalReplicaState> states) {
    List<CompletableFuture<PreferredLeaderElection>> results = new ArrayList<>();
    for (Target t : targets) {
      results.add(electOne(t, states.get(new TopicPartitionKey(t.topic().getName(), t.partition()))));
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
        .thenApply(done -> results.stream().map(CompletableFuture::join).toList());
  }

  private CompletableFuture<PreferredLeaderElection> electOne(Target t, LocalReplicaState state) {
    List<Integer> replicas = t.topic().getAssignments(t.partition()).getReplicasList();
    int preferred = replicas.get(0);
    int leader = state != null && state.getIsLeader() ? state.getLeaderId() : -1;
    PreferredLeaderElection.Builder out = PreferredLeaderElection.newBuilder().setTopic(t.topic().getName())
        .setPartition(t.partition()).setPreferredLeader(preferred).setLeader(leader);
    if (leader == preferred) {
      return CompletableFuture.completedFuture(out.setOutcome(PreferredLeaderOutcome.ALREADY_PREFERRED).build());
    }
    if (leader < 0) {
      return CompletableFuture.completedFuture(failed(out, "the partition has no leader right now; retry once it has one"));
    }
    if (!state.getIsrList().contains(preferred)) {
      return CompletableFuture.completedFuture(failed(out, "preferred replica " + preferred
          + " is not in sync (in-sync replicas " + state.getIsrList() + "); it must catch up first"));
    }
    return CompletableFuture.supplyAsync(() -> {
      try {
        String refused = transfer.transfer(t.topic(), t.partition(), preferred);
        if (refused == null) {
          LOG.info("leadership of {}-{} moved from broker {} to its preferred replica {} on request",
              t.topic().getName(), t.partition(), leader, preferred);
          return out.setLeader(preferred).setOutcome(PreferredLeaderOutcome.ELECTED).build();
        }
        return failed(out, refused);
      } catch (Exception e) {
        return failed(out, "moving the leadership failed: " + e.getMessage());
      }
    }, executor);
  }

  private static PreferredLeaderElection failed(PreferredLeaderElection.Builder out, String why) {
    return out.setOutcome(PreferredLeaderOutcome.FAILED).setMessage(why).build();
  }
}
