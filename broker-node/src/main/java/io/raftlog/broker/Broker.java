package io.raftlog.broker;

import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.group.GroupCoordinator;
import io.raftlog.broker.group.GroupHost;
import io.raftlog.broker.metadata.BrokerRegistrar;
import io.raftlog.broker.metadata.MetadataClient;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.partition.CatchUpNudge;
import io.raftlog.broker.partition.LeadershipGuard;
import io.raftlog.broker.partition.LogCleaner;
import io.raftlog.broker.partition.LogStoreFactory;
import io.raftlog.broker.partition.PartitionManager;
import io.raftlog.broker.partition.PartitionReplica;
import io.raftlog.broker.partition.PartitionWriter;
import io.raftlog.broker.partition.Reassigner;
import io.raftlog.broker.partition.RetentionEnforcer;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.raft.LeaderGoneElections;
import io.raftlog.broker.raft.RaftHost;
import io.raftlog.broker.raft.LeaderAppenderWatch;
import io.raftlog.broker.rpc.AdminServiceImpl;
import io.raftlog.broker.rpc.PreferredLeaderElector;
import io.raftlog.broker.rpc.BrokerInternalServiceImpl;
import io.raftlog.broker.rpc.PeerWatcher;
import io.raftlog.broker.rpc.ByteRateLimiter;
import io.raftlog.broker.rpc.FetchServiceImpl;
import io.raftlog.broker.rpc.GroupServiceImpl;
import io.raftlog.broker.rpc.MalformedRequests;
import io.raftlog.broker.rpc.MetadataServiceImpl;
import io.raftlog.broker.rpc.PeerReplicaLogReader;
import io.raftlog.broker.rpc.ProduceServiceImpl;
import io.raftlog.broker.rpc.ReplicaStates;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.statemachine.group.ConsumerGroups;
import io.raftlog.statemachine.ratis.MetadataStateMachine;
import io.raftlog.statemachine.ratis.ReplicaRepairSource;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * One broker: a Ratis server hosting the metadata group (on voters) and the local partition
 * groups, plus the public gRPC server. This class only wires the parts together and owns their
 * lifecycle; the parts live in the config, raft, metadata, partition and rpc packages.
 */
public final class Broker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
  /** Deadline of one ReadReplicaLog call of a replica repair. */
  private static final long REPAIR_CALL_TIMEOUT_MS = 15_000;

  private final BrokerConfig config;
  private final LogStoreFactory storeFactory;
  private final Clock clock;
  private final Consumer<Throwable> onFatalError;
  private final UnaryOperator<ReplicaRepairSource> repairSourceWrapper;
  private final String prefix;

  private ScheduledExecutorService scheduler;
  private ExecutorService readers;
  /** Answers produce requests when their Raft entries finish, and proposes the batches that waited. */
  private ExecutorService completions;
  private MetadataStateMachine metadataStateMachine;
  private PartitionManager partitions;
  private LeadershipGuard leadershipGuard;
  private ScheduledExecutorService retentionTimer;
  private ScheduledExecutorService cleanerTimer;
  private CatchUpNudge catchUpNudge;
  private Reassigner reassigner;
  private LeaderAppenderWatch appenderWatch;
  private RaftHost raft;
  private MetadataView metadataView;
  private volatile MetadataClient metadataClient;
  private BrokerRegistrar registrar;
  private ReplicaStates replicaStates;
  private PeerReplicaLogReader peerLogReader;
  private GroupCoordinator groupCoordinator;
  private HealthStatusManager health;
  private Server grpcServer;
  private BrokerInternalServiceImpl internalService;
  private PeerWatcher peerWatcher;

  /** A broker whose process halts when a partition replica cannot apply an entry. */
  public Broker(BrokerConfig config, LogStoreFactory storeFactory, Clock clock) {
    this(config, storeFactory, clock, Broker::haltOnFatalError);
  }

  /**
   * @param onFatalError called when a replica cannot apply a committed entry (disk failure, corrupt
   *     state); that replica stops applying. Production halts the process so the partition fails
   *     over; the in-process test kit records the error instead.
   */
  public Broker(BrokerConfig config, LogStoreFactory storeFactory, Clock clock, Consumer<Throwable> onFatalError) {
    this(config, storeFactory, clock, onFatalError, UnaryOperator.identity());
  }

  /**
   * @param repairSourceWrapper wraps the source each replica repairs damaged segment files from
   *     (the test kit uses it to hold repairs back); identity in production
   */
  public Broker(BrokerConfig config, LogStoreFactory storeFactory, Clock clock, Consumer<Throwable> onFatalError,
      UnaryOperator<ReplicaRepairSource> repairSourceWrapper) {
    this.repairSourceWrapper = repairSourceWrapper;
    this.config = config;
    this.storeFactory = storeFactory;
    this.clock = clock;
    this.onFatalError = onFatalError;
    this.prefix = "broker-" + config.brokerId;
  }

  private static void haltOnFatalError(Throwable error) {
    LOG.error("FATAL: a partition replica cannot apply committed entries; halting the broker so that its"
        + " partitions fail over. Check the data directory and the disk. Cause: {}", error.toString(), error);
    // halt, not exit: shutdown hooks would try to flush and close the failed store.
    Runtime.getRuntime().halt(70);
  }

  public synchronized void start() throws IOException {
    routeJavaUtilLogging();
    LOG.info("[{}] starting with configuration:", prefix);
    config.effectiveValues().forEach((k, v) -> LOG.info("[{}]   {} = {}", prefix, k, v));
    Files.createDirectories(config.dataDir);
    // Fail before joining any Raft group when a port is taken (a half-started broker would take
    // part in elections and then die).
    requireFreePort(config.host, config.port, "port");
    requireFreePort(config.host, config.raftPort, "raft.port");
    AtomicInteger threads = new AtomicInteger();
    ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(2,
        r -> daemon(r, prefix + "-scheduler-" + threads.incrementAndGet()));
    // Long-poll timers are cancelled far more often than they fire: do not keep them queued.
    timers.setRemoveOnCancelPolicy(true);
    scheduler = timers;
    readers = Executors.newFixedThreadPool(4, r -> daemon(r, prefix + "-fetch-" + threads.incrementAndGet()));

    metadataView = new MetadataView(config.brokerId, clock, config.sessionTimeoutMs);
    peerLogReader = new PeerReplicaLogReader(config.brokerId, metadataView, REPAIR_CALL_TIMEOUT_MS, config.maxBatchBytes,
        ByteRateLimiter.realTime(config.replicaCopyMaxBytesPerSecond));
    partitions = new PartitionManager(config, storeFactory,
        (partition, division) -> repairSourceWrapper.apply(peerLogReader.sourceFor(partition, division)), onFatalError);
    // Replicas are created and removed from a caught-up view only: replayed old images could
    // recreate a replica with members it no longer has (a parked joining replica, say).
    metadataView.addCaughtUpListener(partitions::onMetadata);
    if (config.isMetadataVoter()) {
      metadataStateMachine = new MetadataStateMachine(prefix + " metadata", config.snapshotThresholdEntries,
          onFatalError, new LeaderMetadataSnapshots());
      metadataStateMachine.addListener(metadataView::update);
    }
    raft = new RaftHost(config, groupId -> groupId.equals(GroupIds.METADATA)
        ? requireVoter(metadataStateMachine) : partitions.newStateMachine(groupId));
    partitions.attach(raft);
    raft.start();
    metadataClient = new MetadataClient(config, clock);
    if (config.isMetadataVoter()) {
      raft.addGroup(RaftGroup.valueOf(GroupIds.METADATA, config.metadataVoters.stream()
          .map(v -> RaftPeer.newBuilder().setId(GroupIds.peerId(v.brokerId())).setAddress(v.host() + ":" + v.raftPort()).build())
          .toList()));
    } else {
      scheduler.scheduleWithFixedDelay(guarded("metadata poll", this::pollMetadata), 0, 500, TimeUnit.MILLISECONDS);
    }
    registrar = new BrokerRegistrar(config, metadataClient, metadataView, scheduler);
    registrar.start();

    replicaStates = new ReplicaStates(config.brokerId, partitions, metadataView, clock);
    completions = Executors.newFixedThreadPool(2, r -> daemon(r, prefix + "-produce-completion-" + threads.incrementAndGet()));
    PartitionWriter writer = new PartitionWriter(raft, partitions, metadataView, clock, config.groupCommitMaxInFlight,
        config.maxBatchBytes, completions, scheduler);
    health = new HealthStatusManager();
    String clusterId = UUID.nameUUIDFromBytes(config.metadataVoters.toString().getBytes(StandardCharsets.UTF_8)).toString();
    groupCoordinator = new GroupCoordinator(prefix, new LocalGroupHost(), clock, config.groupSessionTimeoutMs,
        config.groupMinSessionTimeoutMs, config.groupMaxSessionTimeoutMs, config.groupHeartbeatIntervalMs);
    MalformedRequests malformed = new MalformedRequests(prefix, clock);
    internalService = new BrokerInternalServiceImpl(config.brokerId, replicaStates, partitions, metadataView,
        group -> LeaderGoneElections.lastEntry(raft.server(), group));
    grpcServer = NettyServerBuilder.forAddress(new InetSocketAddress(config.host, config.port))
        // A larger request is refused (RESOURCE_EXHAUSTED) from its length prefix, before it is read.
        .maxInboundMessageSize(config.socketRequestMaxBytes)
        .addService(malformed.guard(new ProduceServiceImpl(config, metadataView, metadataClient, writer, clock).bindService()))
        .addService(malformed.guard(new FetchServiceImpl(config, metadataView, partitions, scheduler, readers).bindService()))
        .addService(malformed.guard(new AdminServiceImpl(clusterId, config, metadataView, metadataClient, replicaStates,
            this::metadataLeaderId, PreferredLeaderElector.through(config.brokerId, partitions, metadataView::image))
            .bindService()))
        .addService(malformed.guard(new MetadataServiceImpl(metadataView, replicaStates).bindService()))
        .addService(malformed.guard(new GroupServiceImpl(groupCoordinator, metadataView, this::metadataLeaderId)
            .bindService()))
        .addService(malformed.guard(internalService.bindService()))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build()
        .start();
    health.setStatus("", ServingStatus.SERVING);
    leadershipGuard = new LeadershipGuard(config.brokerId, raft.server(), metadataView, clock,
        config.autoLeaderRebalanceEnable);
    catchUpNudge = new CatchUpNudge(config.brokerId, partitions, metadataView, config.electionTimeoutMaxMs);
    reassigner = new Reassigner(config.brokerId, raft.server(), metadataView, metadataClient,
        config.autoLeaderRebalanceEnable, clock, replicaStates::hostsReplica);
    appenderWatch = new LeaderAppenderWatch(config.brokerId, raft.server());
    if (config.electionOnPeerExitEnable) {
      // The survivors ask each other for their logs over the watcher's channels (assigned next).
      LeaderGoneElections elections = new LeaderGoneElections(config.brokerId, raft.server(),
          (peer, groups, timeoutMs) -> peerWatcher.lastLogEntries(peer, groups, timeoutMs));
      peerWatcher = new PeerWatcher(config.brokerId, metadataView, scheduler, elections::onBrokerGone);
      scheduler.scheduleWithFixedDelay(guarded("peer watch", peerWatcher::refresh), 0, 500, TimeUnit.MILLISECONDS);
    }
    scheduler.scheduleAtFixedRate(guarded("replica tick", this::tickReplicas), 200, 200, TimeUnit.MILLISECONDS);
    scheduler.scheduleWithFixedDelay(guarded("appender watch",
        () -> appenderWatch.checkAll(divisions(partitions.replicas()), clock.millis())), 1000, 1000, TimeUnit.MILLISECONDS);
    scheduler.scheduleWithFixedDelay(guarded("group tick", this::tickGroups), 200, 200, TimeUnit.MILLISECONDS);
    // Its own thread: a pass waits for its proposals to commit, which must not hold up ISR ticks.
    RetentionEnforcer retention = new RetentionEnforcer(config.brokerId, raft, partitions, metadataView,
        config.topicDefaults(), clock);
    retentionTimer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, prefix + "-retention"));
    retentionTimer.scheduleWithFixedDelay(guarded("retention pass", retention::checkAll), config.retentionCheckIntervalMs,
        config.retentionCheckIntervalMs, TimeUnit.MILLISECONDS);
    // Its own thread too: cleaning a large segment takes seconds.
    LogCleaner cleaner = new LogCleaner(config.brokerId, partitions, metadataView, config.topicDefaults(),
        config.cleanerMaxKeys, clock);
    cleanerTimer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, prefix + "-log-cleaner"));
    cleanerTimer.scheduleWithFixedDelay(guarded("log cleaning pass", cleaner::cleanAll), config.cleanerBackoffMs,
        config.cleanerBackoffMs, TimeUnit.MILLISECONDS);
    LOG.info("[{}] started: gRPC on {}:{}, Raft on {}:{}, data in {}", prefix, config.host, grpcServer.getPort(),
        config.host, config.raftPort, config.dataDir);
  }

  /**
   * gRPC logs through java.util.logging, which bypasses logback: without this its output ignores
   * the configured levels, e.g. a stack trace at INFO on stderr for every connection that sends
   * something other than HTTP/2 (a port scanner, an HTTP/1 client), which lets bad peers flood
   * the log. Process-wide and idempotent.
   */
  private static synchronized void routeJavaUtilLogging() {
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger();
      SLF4JBridgeHandler.install();
    }
  }

  private static void requireFreePort(String host, int port, String key) throws IOException {
    if (port == 0) {
      return;
    }
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new IOException(key + " " + host + ":" + port + " is not available (" + e.getMessage()
          + "); is another broker running with the same configuration?", e);
    }
  }

  private static MetadataStateMachine requireVoter(MetadataStateMachine sm) {
    if (sm == null) {
      throw new IllegalStateException("this broker is not a metadata voter but has a metadata group directory");
    }
    return sm;
  }

  /**
   * A periodic task that survives its own failures: a scheduled executor silently stops running a
   * task once it throws, and a broker whose replica tick stopped would never again nudge, guard
   * or reassign anything.
   */
  private Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.warn("[{}] {} failed; it runs again at its next period", prefix, what, e);
      }
    };
  }

  private void pollMetadata() {
    metadataClient.fetchImage().thenAccept(metadataView::update).exceptionally(e -> {
      LOG.debug("[{}] metadata poll failed: {}", prefix, e.toString());
      return null;
    });
  }

  /** Every 200 ms: ISR sampling, and keeping repairing replicas out of leadership. */
  private void tickReplicas() {
    long now = clock.millis();
    var replicas = partitions.replicas();
    replicas.forEach(r -> {
      try {
        r.sampleIsr(now);
      } catch (RuntimeException e) {
        LOG.debug("[{}] ISR sample of {} failed: {}", prefix, r, e.toString());
      }
    });
    // Each on its own: one failing must not keep the others from running.
    guarded("leadership guard", () -> leadershipGuard.checkAll(replicas, now)).run();
    guarded("catch-up nudge", () -> catchUpNudge.checkAll(replicas, now)).run();
    guarded("reassignment step", () -> reassigner.checkAll(replicas)).run();
  }

  /** This broker's divisions by name: its partition replicas and, on a voter, the metadata group. */
  private Map<String, RaftServer.Division> divisions(Collection<PartitionReplica> replicas) {
    Map<String, RaftServer.Division> divisions = new LinkedHashMap<>();
    // A broker that is not a metadata voter has no division for it (asking Ratis costs an exception).
    RaftServer.Division metadata = config.isMetadataVoter() ? metadataDivision() : null;
    if (metadata != null) {
      divisions.put("metadata", metadata);
    }
    for (PartitionReplica r : replicas) {
      if (r.division() != null) {
        divisions.put(r.toString(), r.division());
      }
    }
    return divisions;
  }

  private void tickGroups() {
    try {
      groupCoordinator.tick();
    } catch (RuntimeException e) {
      LOG.warn("[{}] group session check failed", prefix, e);
    }
  }

  /** Where this voter copies the metadata state from when it is behind the leader's log start. */
  private final class LeaderMetadataSnapshots implements ReplicaRepairSource {
    @Override
    public java.nio.ByteBuffer read(long fromOffset, long untilOffset, int maxBytes) throws IOException {
      throw new IOException("the metadata group has no record batches");
    }

    @Override
    public SnapshotCopy latestSnapshot(long minIndex) throws IOException {
      MetadataClient client = metadataClient;
      if (client == null) {
        throw new IOException("the metadata client is not started yet");
      }
      return client.fetchLatestSnapshot();
    }
  }

  /** The coordinator's view of this broker: metadata leadership, the applied group state, proposals. */
  private final class LocalGroupHost implements GroupHost {
    @Override
    public boolean isCoordinator() {
      RaftServer.Division d = raft.division(GroupIds.METADATA);
      return d != null && d.getInfo().isLeader() && d.getInfo().isLeaderReady();
    }

    @Override
    public int coordinatorId() {
      return metadataLeaderId();
    }

    @Override
    public ConsumerGroups groups() {
      return metadataStateMachine == null ? null : metadataStateMachine.groups();
    }

    @Override
    public MetadataImage topics() {
      return metadataView.image();
    }

    @Override
    public CompletableFuture<MetadataReply> submit(MetadataCommand.Builder command) {
      return metadataClient.submit(command);
    }

    @Override
    public CompletableFuture<Map<Integer, PartitionOffsets>> partitionOffsets(String topic) {
      return replicaStates.collect(topic).thenApply(states -> {
        Map<Integer, PartitionOffsets> out = new HashMap<>();
        states.forEach((key, state) -> {
          if (state.getIsLeader()) {
            out.put(key.partition(), new PartitionOffsets(state.getLogStartOffset(), state.getLogEndOffset()));
          }
        });
        return out;
      });
    }
  }

  /** This broker's division of the metadata group (for diagnostics and tests), or null if not a voter. */
  public RaftServer.Division metadataDivision() {
    return raft == null ? null : raft.division(GroupIds.METADATA);
  }

  /** The metadata group's leader as this broker knows it, or -1. */
  public int metadataLeaderId() {
    RaftServer.Division d = raft == null ? null : raft.division(GroupIds.METADATA);
    if (d != null) {
      return GroupIds.brokerId(d.getInfo().getLeaderId());
    }
    return metadataClient == null ? -1 : GroupIds.brokerId(metadataClient.leaderHint());
  }

  public BrokerConfig config() {
    return config;
  }

  public PartitionManager partitions() {
    return partitions;
  }

  /** Keeps repairing replicas out of leadership (null before {@link #start}). */
  public LeadershipGuard leadershipGuard() {
    return leadershipGuard;
  }

  public MetadataView metadata() {
    return metadataView;
  }

  public boolean isRegistered() {
    return registrar != null && registrar.isRegistered();
  }

  /** This broker's Ratis server and the groups it hosts. */
  public RaftHost raftHost() {
    return raft;
  }

  /** The watch on the other brokers' processes, or null when {@code raft.election.on.peer.exit.enable} is off. */
  public PeerWatcher peerWatcher() {
    return peerWatcher;
  }

  /** The bound public port (differs from the configured one when that was 0). */
  public int port() {
    return grpcServer.getPort();
  }

  /** Clean shutdown: in-flight gRPC calls get up to 5 seconds to finish. */
  @Override
  public void close() {
    close(java.time.Duration.ofSeconds(5));
  }

  /**
   * Shuts down, giving in-flight gRPC calls {@code grace} to finish ({@code Duration.ZERO} cuts them
   * off at once, which is what the in-process test kit uses to imitate a crash).
   */
  public synchronized void close(java.time.Duration grace) {
    LOG.info("[{}] shutting down", prefix);
    if (health != null) {
      health.enterTerminalState();
    }
    if (raft != null) {
      // Before the others learn that it leaves: a leaving broker that answered their votes would
      // refuse them for its higher priority, and their early elections would fail.
      raft.leave();
    }
    if (internalService != null) {
      // First: the other brokers start elections for this broker's groups while it leaves.
      internalService.completeWatches();
    }
    closeQuietly(peerWatcher);
    if (grpcServer != null) {
      grpcServer.shutdown();
      try {
        if (!grpcServer.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          grpcServer.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        grpcServer.shutdownNow();
      }
    }
    if (registrar != null) {
      registrar.stop();
    }
    if (cleanerTimer != null) {
      cleanerTimer.shutdownNow();
      try {
        // Before the stores close: a cleaning part-way is dropped, its copy deleted on the next open.
        cleanerTimer.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (retentionTimer != null) {
      retentionTimer.shutdownNow();
    }
    if (replicaStates != null) {
      replicaStates.close();
    }
    closeQuietly(leadershipGuard);
    if (partitions != null) {
      partitions.close();
    }
    closeQuietly(metadataClient);
    closeQuietly(raft);
    closeQuietly(peerLogReader);
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
    if (readers != null) {
      readers.shutdownNow();
    }
    if (completions != null) {
      completions.shutdownNow();
    }
    LOG.info("[{}] stopped", prefix);
  }

  private void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("[{}] error while closing {}: {}", prefix, c.getClass().getSimpleName(), e.toString());
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
