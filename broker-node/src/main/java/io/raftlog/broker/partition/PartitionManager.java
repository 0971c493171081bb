package io.raftlog.broker.partition;

import io.raftlog.broker.FileTrees;
import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.statemachine.metadata.TopicConfig;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.raft.RaftClients;
import io.raftlog.broker.raft.RaftHost;
import io.raftlog.broker.raft.RenewingRaftClient;
import io.raftlog.log.v1.BrokerRecord;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.metadata.ReplicaPlans;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.statemachine.StateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns this broker's partition replicas: builds a state machine for each local partition group
 * (the Ratis registry calls {@link #newStateMachine}), and reconciles the set of local groups with
 * applied metadata, creating groups for new assignments and removing those of deleted topics.
 *
 * <p>Reconciliation runs on its own thread, always on the newest image; adding or removing a
 * group is idempotent, so a broker that restarts simply converges again.
 */
public final class PartitionManager implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionManager.class);

  private final BrokerConfig config;
  private final Path partitionsDir;
  private final LogStoreFactory storeFactory;
  private final RepairSourceFactory repairSources;
  private final Consumer<Throwable> onFatalError;
  private final Map<RaftGroupId, PartitionReplica> replicas = new ConcurrentHashMap<>();
  private final Map<RaftGroupId, PeersAndClient> remoteClients = new ConcurrentHashMap<>();
  private final ExecutorService reconciler;
  private final AtomicReference<MetadataImage> pendingImage = new AtomicReference<>();
  /** The newest image received. */
  private volatile MetadataImage latestImage;
  private volatile RaftHost host;
  private volatile boolean closed;

  /**
   * @param repairSources how a replica whose segment files lost committed batches reaches the
   *     other replicas to copy them back
   */
  public PartitionManager(BrokerConfig config, LogStoreFactory storeFactory, RepairSourceFactory repairSources,
      Consumer<Throwable> onFatalError) {
    this.repairSources = repairSources;
    this.onFatalError = onFatalError;
    this.config = config;
    this.partitionsDir = config.dataDir.resolve("partitions");
    this.storeFactory = storeFactory;
    this.reconciler = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "broker-" + config.brokerId + "-reconciler");
      t.setDaemon(true);
      return t;
    });
  }

  public void attach(RaftHost host) {
    this.host = host;
  }

  /** Ratis registry callback for a partition group (at start for existing groups, or on add). */
  public StateMachine newStateMachine(RaftGroupId groupId) {
    Path dir = partitionDir(groupId);
    PartitionDescriptor descriptor;
    try {
      descriptor = PartitionDescriptor.read(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("group " + groupId + " has no readable " + dir.resolve(PartitionDescriptor.FILE), e);
    }
    String prefix = "broker-" + config.brokerId + " " + descriptor.topic() + "-" + descriptor.partition();
    Supplier<RaftServer.Division> division = () -> host == null ? null : host.division(groupId);
    PartitionStateMachine sm = new PartitionStateMachine(prefix, () -> storeFactory.open(dir.resolve("log")),
        repairSources.create(descriptor, division), config.snapshotThresholdEntries, onFatalError);
    sm.snapshotAlsoEveryBytes(config.snapshotThresholdBytes);
    PartitionReplica replica = new PartitionReplica(descriptor, sm, division, config.replicaLagTimeMaxMs);
    sm.onRemovedFromGroup(() -> onRemovedFromGroup(replica));
    replicas.put(groupId, replica);
    return sm;
  }

  /**
   * Ratis shut a replica down because it found itself outside its group's configuration (the
   * partition's leader removed it). Usually a completed reassignment follows in metadata and the
   * replica is removed as no longer assigned. But when this broker is being added back at once
   * (metadata images coalesce here, so the image in between may never be seen), the dead replica
   * stayed listed and the broker never joined: the reassignment stalled (seen in ReassignmentTest,
   * RF 3 to 2 to 4 in quick succession). Reconciliation now replaces such a replica (see
   * {@link #reconcile}).
   */
  private void onRemovedFromGroup(PartitionReplica replica) {
    replica.markShutDownAsNonMember();
    if (!closed) {
      reconciler.execute(() -> reconcile(latestImage));
    }
  }

  /**
   * Runs {@code task} on the reconciliation thread, after what is queued there. For tests, e.g. to
   * hold reconciliation while metadata images arrive and coalesce.
   */
  public void runOnReconciler(Runnable task) {
    reconciler.execute(task);
  }

  /** Schedules reconciliation with a newer metadata image; older pending images are skipped. */
  public void onMetadata(MetadataImage image) {
    latestImage = image;
    if (pendingImage.getAndSet(image) == null && !closed) {
      reconciler.execute(() -> reconcile(pendingImage.getAndSet(null)));
    }
  }

  private void reconcile(MetadataImage image) {
    if (image == null || closed || host == null) {
      return;
    }
    Map<Integer, BrokerRecord> brokers = new HashMap<>();
    image.getBrokersList().forEach(b -> brokers.put(b.getBrokerId(), b));
    Map<RaftGroupId, ReplicaAssignment> assigned = new HashMap<>();
    Map<String, TopicRecord> topicsById = new HashMap<>();
    for (TopicRecord topic : image.getTopicsList()) {
      topicsById.put(topic.getTopicId(), topic);
      for (ReplicaAssignment a : topic.getAssignmentsList()) {
        if (!ReplicaPlans.hosts(a, config.brokerId)) {
          continue;
        }
        RaftGroupId gid = GroupIds.partition(topic.getTopicId(), a.getPartition());
        assigned.put(gid, a);
        PartitionReplica existing = replicas.get(gid);
        if (existing != null && existing.shutDownAsNonMember()) {
          if (a.getReplicasList().contains(config.brokerId)) {
            // Metadata still counts this broker as a replica, so its data may be needed (the removal
            // it saw may have been undone by a new leader): left alone, like any stopped replica.
            if (existing.warnOnceShutDown()) {
              LOG.warn("[broker-{}] Ratis shut down the replica {} as not in its group's configuration, but"
                  + " metadata lists this broker among its replicas {}: it stays stopped until the broker"
                  + " restarts", config.brokerId, existing, a.getReplicasList());
            }
          } else {
            // Joining again as a target: a joining replica starts empty, so the old one goes first.
            try {
              removeReplica(existing, "Ratis shut it down as no longer in its group's configuration; this"
                  + " broker is joining the group again");
              existing = null;
            } catch (IOException | RuntimeException e) {
              LOG.error("[broker-{}] cannot remove replica {}: {}", config.brokerId, existing, e.toString(), e);
              continue;
            }
          }
        }
        if (existing != null) {
          // A changed segment.bytes or segment.ms applies from the replica's next append.
          applySegmentConfig(existing, topic);
          continue;
        }
        try {
          createReplica(topic, a, brokers, image.getAppliedIndex());
        } catch (IOException | RuntimeException e) {
          LOG.error("[broker-{}] cannot create replica of {}-{}: {}", config.brokerId, topic.getName(),
              a.getPartition(), e.toString(), e);
        }
      }
    }
    Set<String> deleted = new HashSet<>(image.getDeletedTopicIdsList());
    for (PartitionReplica r : List.copyOf(replicas.values())) {
      String reason = null;
      if (deleted.contains(r.topicId())) {
        reason = "of a deleted topic";
      } else if (topicsById.containsKey(r.topicId()) && !assigned.containsKey(r.groupId())
          && image.getAppliedIndex() > r.descriptor().createdAtMetadataIndex()) {
        // Moved away by a completed reassignment (or one cancelled before this broker joined).
        // An image older than the replica's creation may predate this broker joining: kept.
        reason = "no longer assigned to this broker";
      }
      if (reason != null) {
        try {
          removeReplica(r, reason);
        } catch (IOException | RuntimeException e) {
          LOG.error("[broker-{}] cannot remove replica {}: {}", config.brokerId, r, e.toString(), e);
        }
      }
    }
  }

  private void createReplica(TopicRecord topic, ReplicaAssignment a, Map<Integer, BrokerRecord> brokers,
      long metadataIndex) throws IOException {
    // A replica joining through a reassignment starts with no members: the partition's leader adds
    // it to the group (setConfiguration), then sends it the log or a snapshot. Listing the
    // members here would let it start elections with an empty log.
    boolean joining = !a.getReplicasList().contains(config.brokerId);
    RaftGroup group = joining ? RaftGroup.valueOf(GroupIds.partition(topic.getTopicId(), a.getPartition()))
        : groupOf(topic, a, brokers);
    if (group == null) {
      LOG.warn("[broker-{}] replicas of {}-{} name unregistered brokers; will retry", config.brokerId,
          topic.getName(), a.getPartition());
      return;
    }
    new PartitionDescriptor(topic.getName(), topic.getTopicId(), a.getPartition(), metadataIndex)
        .write(partitionDir(group.getGroupId()));
    boolean added;
    try {
      added = host.addGroup(group);
    } catch (IOException | RuntimeException e) {
      // Ratis may have built the state machine (registering the replica) before failing: unlist it
      // so that the next reconciliation tries again.
      replicas.remove(group.getGroupId());
      throw e;
    }
    PartitionReplica created = replicas.get(group.getGroupId());
    if (created != null) {
      applySegmentConfig(created, topic);
    }
    if (added) {
      LOG.info("[broker-{}] created replica of {}-{} (group {}, replicas {}{})", config.brokerId, topic.getName(),
          a.getPartition(), group.getGroupId().getUuid(), a.getReplicasList(),
          joining ? ", joining as a new replica of target " + a.getTargetReplicasList() : "");
    }
  }

  private void applySegmentConfig(PartitionReplica replica, TopicRecord topic) {
    TopicConfig resolved = TopicConfig.resolve(topic.getConfigMap(), config.topicDefaults());
    replica.stateMachine().setSegmentBytes(resolved.segmentBytes());
    replica.stateMachine().setSegmentMs(resolved.segmentMs());
  }

  /**
   * The Raft group of a partition with its current replicas as members; the preferred leader (first
   * replica of where the partition is heading) gets the highest priority
   * ({@link LeadershipGuard#basePriority}; the guard lowers a repairing replica's priority below all).
   */
  private RaftGroup groupOf(TopicRecord topic, ReplicaAssignment a, Map<Integer, BrokerRecord> brokers) {
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 0; i < a.getReplicasCount(); i++) {
      BrokerRecord b = brokers.get(a.getReplicas(i));
      if (b == null) {
        return null;
      }
      peers.add(peer(b, LeadershipGuard.basePriority(ReplicaPlans.effective(a), b.getBrokerId(),
          config.autoLeaderRebalanceEnable)));
    }
    return RaftGroup.valueOf(GroupIds.partition(topic.getTopicId(), a.getPartition()), peers);
  }

  /** A broker as a Raft peer of partition groups. */
  public static RaftPeer peer(BrokerRecord b, int priority) {
    return RaftPeer.newBuilder().setId(GroupIds.peerId(b.getBrokerId()))
        .setAddress(b.getHost() + ":" + b.getRaftPort()).setPriority(priority).build();
  }

  private void removeReplica(PartitionReplica r, String reason) throws IOException {
    closeClient(r.groupId());
    // Unlist first so that no fetch reaches a replica being closed.
    replicas.remove(r.groupId());
    host.removeGroup(r.groupId());
    r.stateMachine().deleteData();
    FileTrees.deleteRecursively(partitionDir(r.groupId()));
    LOG.info("[broker-{}] removed replica {} ({})", config.brokerId, r, reason);
  }

  private void closeClient(RaftGroupId gid) {
    PeersAndClient client = remoteClients.remove(gid);
    if (client != null) {
      try {
        client.client().close();
      } catch (IOException e) {
        LOG.debug("closing Ratis client", e);
      }
    }
  }

  /**
   * A Ratis client for a partition group, to reach its leader from any broker. Its peers are the
   * current and target replicas; a client built for other replicas (before a reassignment) is
   * replaced.
   */
  public RenewingRaftClient clientFor(TopicRecord topic, int partition, MetadataImage image) {
    RaftGroupId gid = GroupIds.partition(topic.getTopicId(), partition);
    ReplicaAssignment a = topic.getAssignments(partition);
    // The forwarded-produce path: no allocation while the assignment is unchanged.
    PeersAndClient cached = remoteClients.get(gid);
    if (cached != null && cached.isFor(a)) {
      return cached.client();
    }
    Set<Integer> members = new java.util.TreeSet<>(a.getReplicasList());
    members.addAll(a.getTargetReplicasList());
    Map<Integer, BrokerRecord> brokers = new HashMap<>();
    image.getBrokersList().forEach(b -> brokers.put(b.getBrokerId(), b));
    List<RaftPeer> peers = new ArrayList<>();
    for (int id : members) {
      BrokerRecord b = brokers.get(id);
      if (b == null) {
        throw new IllegalStateException("replicas of " + topic.getName() + "-" + partition + " are not registered");
      }
      peers.add(peer(b, 0));
    }
    RaftGroup group = RaftGroup.valueOf(gid, peers);
    AtomicReference<PeersAndClient> replaced = new AtomicReference<>();
    PeersAndClient current = remoteClients.compute(gid, (k, existing) -> {
      if (existing != null && existing.isFor(a)) {
        return existing; // another thread got there first
      }
      replaced.set(existing);
      return new PeersAndClient(List.copyOf(a.getReplicasList()), List.copyOf(a.getTargetReplicasList()),
          new RenewingRaftClient(
          "broker " + config.brokerId + " client of " + topic.getName() + "-" + partition,
          () -> RaftClients.create(group, 4 * config.maxBatchBytes + 1024 * 1024)));
    });
    if (replaced.get() != null) {
      try {
        replaced.get().client().close();
      } catch (IOException e) {
        LOG.debug("closing Ratis client", e);
      }
    }
    return current.client();
  }

  /** A client and the assignment (replicas and target) whose brokers it knows. */
  private record PeersAndClient(List<Integer> replicas, List<Integer> target, RenewingRaftClient client) {
    boolean isFor(ReplicaAssignment a) {
      return replicas.equals(a.getReplicasList()) && target.equals(a.getTargetReplicasList());
    }
  }

  public Optional<PartitionReplica> replica(String topicId, int partition) {
    return Optional.ofNullable(replicas.get(GroupIds.partition(topicId, partition)));
  }

  public Collection<PartitionReplica> replicas() {
    return replicas.values().stream().sorted(Comparator.comparing(PartitionReplica::topic)
        .thenComparingInt(PartitionReplica::partition)).toList();
  }

  private Path partitionDir(RaftGroupId gid) {
    return partitionsDir.resolve(gid.getUuid().toString());
  }

  @Override
  public void close() {
    closed = true;
    reconciler.shutdownNow();
    try {
      reconciler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (PeersAndClient c : remoteClients.values()) {
      try {
        c.client().close();
      } catch (IOException e) {
        LOG.debug("closing Ratis client", e);
      }
    }
    remoteClients.clear();
  }
}
