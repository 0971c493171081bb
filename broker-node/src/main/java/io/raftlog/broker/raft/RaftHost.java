package io.raftlog.broker.raft;

import io.raftlog.broker.FileTrees;
import io.raftlog.broker.config.BrokerConfig;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.raftlog.segmented.LogSegment;
import org.apache.ratis.server.raftlog.segmented.LogSegmentPath;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's single Ratis {@link RaftServer}, hosting the metadata group and every local
 * partition group (multi-raft). Owns the mapping of broker configuration onto Ratis properties.
 */
public final class RaftHost implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RaftHost.class);

  private final BrokerConfig config;
  private final RaftServer server;
  private final LeavingVoteGate voteGate;
  private final ClientId adminClientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();

  public RaftHost(BrokerConfig config, StateMachine.Registry registry) throws IOException {
    this.config = config;
    // Before Ratis loads the groups it finds on disk (when the server is built).
    for (RaftGroupId parked : parkGroupsWithoutMembers(raftDir(config), parkedDir(config))) {
      LOG.warn("[broker-{}] Raft group {} has no membership on disk (it never received an entry): set aside until"
          + " it is added again with its members from metadata, keeping its term and vote", config.brokerId,
          parked.getUuid());
    }
    this.voteGate = new LeavingVoteGate(config.brokerId);
    Parameters parameters = new Parameters();
    GrpcConfigKeys.Server.setServicesCustomizer(parameters, voteGate);
    this.server = RaftServer.newBuilder()
        .setServerId(GroupIds.peerId(config.brokerId))
        .setProperties(properties(config))
        .setParameters(parameters)
        .setStateMachineRegistry(registry)
        .build();
  }

  /** Ratis' log preallocation chunk: small entries share a chunk, large ones grow the file. */
  static final long RAFT_LOG_PREALLOCATED_BYTES = 64 * 1024;

  static RaftProperties properties(BrokerConfig config) {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(config.dataDir.resolve("raft").toFile()));
    GrpcConfigKeys.Server.setPort(p, config.raftPort);
    GrpcConfigKeys.Server.setHost(p, config.host);
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(config.electionTimeoutMinMs, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(config.electionTimeoutMaxMs, TimeUnit.MILLISECONDS));
    // Our state machines take their own snapshots every raft.snapshot.threshold.entries entries and
    // purge the Raft log safely afterwards (SnapshottingStateMachine explains why Ratis' trigger
    // and purge are not used). purge.gap 1 lets their purge requests through as asked.
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, false);
    RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, false);
    RaftServerConfigKeys.Log.setPurgeGap(p, 1);
    // Ratis' snapshot install would ship only our small snapshot file, not the segment files.
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, false);
    // Entries carry whole record batches: size the buffers for the largest batch plus headroom,
    // but well below Ratis' 8 MB default per group so many partitions fit in memory.
    int entryLimit = BrokerConfig.raftEntryLimitBytes(config.maxBatchBytes);
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(entryLimit + 64 * 1024L));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(entryLimit));
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(2L * entryLimit + 1024 * 1024));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(config.raftSegmentBytes));
    // Ratis caches up to 6 log segments (200 MB) in memory per group by default, which is more
    // than a whole broker heap once a few partitions are busy. Readers of committed data use our
    // segment files, and a lagging follower is served from disk, so a small cache suffices. Ratis
    // never evicts a group's open segment, so the segment size (default: the smallest that holds
    // one entry) bounds what every partition replica that takes writes keeps in the heap.
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    RaftServerConfigKeys.Log.setSegmentCacheSizeMax(p, SizeInBytes.valueOf(2L * config.raftSegmentBytes));
    // Ratis preallocates its log files by writing zeros at the end (IOUtils.preallocate), and
    // every fdatasync then also writes out the zeros not yet overwritten, where the next writes
    // land again: large entries sent the zeros to disk as well as the data, and in
    // bench/FsyncCost.java their write+fsync CPU tripled (docs/benchmarks.md). An entry larger
    // than this size gets exactly its own size in zeros, overwritten before the fsync; small ones
    // share a chunk, which spares most of their fdatasyncs a file size change (a journal commit).
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(RAFT_LOG_PREALLOCATED_BYTES));
    // Ratis would append a metadata entry (the commit index) after every commit: one extra entry
    // and fsync per produce. A restarted replica learns the commit index from the leader instead.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    // Keep fsync on (the default) for the Raft log: acks=all means durable on a majority.
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
    RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p, TimeDuration.valueOf(1, TimeUnit.SECONDS));
    // "append-entries compose" stays on (the default): off, Ratis 3.2.2 followers append from
    // several threads and fail ("Already running a method"), and a leader's appender can die. Its
    // hazards when on are handled by our state machines: a deposed leader's uncommitted entries
    // handed over for apply (CommittedEntryGuard), and appends lost, skipped or misordered after a
    // leader change (FollowerAppendOrder replaces Ratis' bookkeeping in each division).
    return p;
  }

  public void start() throws IOException {
    server.start();
    LOG.info("[broker-{}] Ratis server listening on {}:{}", config.brokerId, config.host, config.raftPort);
    if (!RaftLogChecksum.replacementActive()) {
      LOG.warn("[broker-{}] the Raft log is checksummed by Ratis' pure-Java CRC-32C from {}: correct but slower;"
          + " put the broker jar before the Ratis jars on the class path to use the CPU's CRC instruction",
          config.brokerId, RaftLogChecksum.loadedFrom());
    }
  }

  /**
   * The first step of an orderly shutdown: from now on this server casts no vote and starts no
   * election on request ({@link LeavingVoteGate}), so that the survivors' early elections succeed.
   */
  public void leave() {
    voteGate.leave();
  }

  public RaftServer server() {
    return server;
  }

  private static Path raftDir(BrokerConfig config) {
    return config.dataDir.resolve("raft");
  }

  private static Path parkedDir(BrokerConfig config) {
    return config.dataDir.resolve("raft-parked");
  }

  /**
   * Why: Ratis keeps a group's membership only in its Raft log (configuration entries) and in
   * {@code raft-meta.conf} (written when a configuration entry is applied or a snapshot installed).
   * A replica that restarts before it holds either (one rebuilt after losing its disk and not
   * caught up yet, or a new one) is loaded with no members at all: the first heartbeat makes it a
   * follower, and its first election timeout finds it "not in the configuration" and shuts the
   * division down for good, so it never catches up (fault suite, seed 505). Its directory holds the
   * term and vote in {@code raft-meta}, and possibly an open log segment with no entry: Ratis
   * creates the segment and preallocates it with zeros before the first entry's bytes reach it, so
   * a SIGKILL in between leaves zeros (Ratis deletes such a segment when it loads it). Such a group
   * directory is moved out of Ratis' sight here, and {@link #addGroup} moves it back and adds the
   * group with its members from metadata, keeping the term and vote, which Raft needs so that the
   * replica never votes twice in a term. A configuration entry in the log, once there, overrides
   * the members given.
   *
   * @return the groups set aside
   */
  static List<RaftGroupId> parkGroupsWithoutMembers(Path raftDir, Path parkedDir) throws IOException {
    List<RaftGroupId> parked = new ArrayList<>();
    if (!Files.isDirectory(raftDir)) {
      return parked;
    }
    try (DirectoryStream<Path> groups = Files.newDirectoryStream(raftDir)) {
      for (Path group : groups) {
        UUID uuid;
        try {
          uuid = UUID.fromString(group.getFileName().toString());
        } catch (IllegalArgumentException e) {
          continue;
        }
        Path current = group.resolve("current");
        if (!Files.isDirectory(current) || Files.exists(current.resolve("raft-meta.conf"))
            || logHasConfiguration(current)) {
          continue;
        }
        Files.createDirectories(parkedDir);
        Path target = parkedDir.resolve(uuid.toString());
        FileTrees.deleteRecursively(target); // an older one: the directory found now is the newer state
        Files.move(group, target, StandardCopyOption.ATOMIC_MOVE);
        parked.add(RaftGroupId.valueOf(uuid));
      }
    }
    return parked;
  }

  /**
   * Whether the group's Raft log segments hold a configuration entry, read with Ratis' own segment
   * reader and the corruption policy the server runs with (the default, EXCEPTION), so that a file
   * counts as empty exactly when Ratis will load it as empty. A segment that cannot be read counts
   * as holding one: the directory is then left to Ratis as it is, never set aside on a guess.
   */
  static boolean logHasConfiguration(Path current) throws IOException {
    try (DirectoryStream<Path> logs = Files.newDirectoryStream(current, "log_*")) {
      for (Path log : logs) {
        LogSegmentPath segment = LogSegmentPath.matchLogSegment(log);
        if (segment == null) {
          continue;
        }
        boolean[] found = {false};
        try {
          LogSegment.readSegmentFile(log.toFile(), segment.getStartEnd(), SizeInBytes.valueOf("1GB"),
              RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION, null,
              entry -> found[0] |= entry.hasConfigurationEntry());
        } catch (IOException | RuntimeException e) {
          LOG.warn("cannot read Raft log segment {} ({}): leaving its group to Ratis as it is", log, e.toString());
          return true;
        }
        if (found[0]) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Adds a group to this server; returns false when it already exists here. A group directory set
   * aside at start ({@link #parkGroupsWithoutMembers}) is put back and recovered with the members
   * given here; otherwise a new directory is formatted.
   */
  public boolean addGroup(RaftGroup group) throws IOException {
    Path parked = parkedDir(config).resolve(group.getGroupId().getUuid().toString());
    boolean recover = Files.isDirectory(parked);
    if (recover) {
      Path target = raftDir(config).resolve(group.getGroupId().getUuid().toString());
      if (Files.exists(target)) {
        FileTrees.deleteRecursively(parked); // Ratis already has a newer directory for it
        recover = false;
      } else {
        Files.move(parked, target, StandardCopyOption.ATOMIC_MOVE);
        // Ratis recovers the state machine's snapshot directory but creates it only when formatting.
        Files.createDirectories(target.resolve("sm"));
        LOG.info("[broker-{}] Raft group {} put back with members {}", config.brokerId,
            group.getGroupId().getUuid(), group.getPeers());
      }
    }
    GroupManagementRequest request = GroupManagementRequest.newAdd(adminClientId, server.getId(),
        callIds.incrementAndGet(), group, !recover);
    try {
      RaftClientReply reply = server.groupManagement(request);
      if (reply.isSuccess()) {
        return true;
      }
      throw new IOException("cannot add group " + group.getGroupId() + ": " + reply.getException(), reply.getException());
    } catch (IOException e) {
      if (causedBy(e, AlreadyExistsException.class)) {
        return false;
      }
      throw e;
    }
  }

  /** Removes a group and deletes its Raft directory; returns false when the group was not running here. */
  public boolean removeGroup(RaftGroupId groupId) throws IOException {
    FileTrees.deleteRecursively(parkedDir(config).resolve(groupId.getUuid().toString()));
    GroupManagementRequest request = GroupManagementRequest.newRemove(adminClientId, server.getId(),
        callIds.incrementAndGet(), groupId, true, false);
    try {
      RaftClientReply reply = server.groupManagement(request);
      if (reply.isSuccess()) {
        return true;
      }
      throw new IOException("cannot remove group " + groupId + ": " + reply.getException(), reply.getException());
    } catch (IOException e) {
      if (causedBy(e, GroupMismatchException.class)) {
        // Not running here, e.g. Ratis shut it down as not a member: its directory may remain.
        FileTrees.deleteRecursively(raftDir(config).resolve(groupId.getUuid().toString()));
        return false;
      }
      throw e;
    }
  }

  private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  /** The local division of a group, or null when this server does not host it. */
  public RaftServer.Division division(RaftGroupId groupId) {
    try {
      return server.getDivision(groupId);
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
