package io.raftlog.statemachine.ratis;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.impl.FollowerAppendOrder;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of our state machines: single-file snapshots that the state machine takes itself, on its
 * apply thread, every {@code snapshotEveryEntries} entries, followed by a purge of the Raft log
 * that keeps every entry some replica may still need.
 *
 * <p>Why not Ratis' own snapshot trigger and purge (both are switched off in the broker's Ratis
 * properties): Ratis purges up to the lowest commit index C of the replicas, but a replica at C
 * asks next for entry C+1, and the leader needs the term of entry C to send it: in Ratis 3.2.2 a
 * leader whose log starts exactly at a follower's next index (the previous entry purged, and not
 * the snapshot's) fails its log appender for that follower for good ("Previous TermIndex not found
 * for firstIndex"; our fault suite hit it, seed 505, when this purge was allowed past lagging
 * replicas). So the purge here stops at C - 1, and does not happen at all while any replica's
 * progress is unknown (e.g. right after a restart). A replica that is down keeps the log from its
 * commit index on, so it catches up from the log on return; the log of a group with a dead replica
 * grows until it is back. (A replica that lost its data starts from a peer's snapshot instead:
 * {@code PartitionStateMachine#notifyInstallSnapshotFromLeader}.)
 *
 * <p>Threading: {@link #afterApply} runs on the apply thread; snapshots are therefore consistent
 * with the applied state without locks.
 */
abstract class SnapshottingStateMachine extends BaseStateMachine {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshottingStateMachine.class);
  private static final SnapshotRetentionPolicy KEEP_TWO = new SnapshotRetentionPolicy() {
    @Override
    public int getNumSnapshotsRetained() {
      return 2;
    }
  };

  protected final String logPrefix;
  /** Every apply goes through it: see {@link CommittedEntryGuard}. */
  protected final CommittedEntryGuard committedEntries;
  private final long snapshotEveryEntries;
  private volatile RaftServer.Division cachedDivision;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private volatile long lastSnapshotIndex = -1;
  /** 0: snapshots by entries only. */
  private volatile long snapshotEveryBytes;
  /** Bytes of the entries applied since the last snapshot; apply thread only. */
  private long bytesSinceSnapshot;

  /** @param snapshotEveryEntries take a snapshot (and purge) every this many applied entries; 0 = never */
  SnapshottingStateMachine(String logPrefix, long snapshotEveryEntries) {
    this.logPrefix = logPrefix;
    this.snapshotEveryEntries = snapshotEveryEntries;
    this.committedEntries = new CommittedEntryGuard(logPrefix, this::divisionOrNull);
  }

  /**
   * This replica's Raft division; null before the server is up or when the group is not (or no
   * longer) on it. Looked up once: every apply asks for it (the division of a state machine never
   * changes; a closed one says so itself).
   */
  protected final RaftServer.Division divisionOrNull() {
    RaftServer.Division d = cachedDivision;
    if (d != null) {
      return d;
    }
    RaftServer server = getServer().getNow(null);
    if (server == null || getGroupId() == null) {
      return null;
    }
    try {
      d = server.getDivision(getGroupId());
    } catch (IOException e) {
      return null;
    }
    cachedDivision = d;
    return d;
  }

  /**
   * The leader no longer has the log entries this replica needs (its data directory was lost, or
   * it is a new replica). Partition and metadata replicas override this and copy a peer's state;
   * one without a source to copy from refuses loudly so an operator sees it, instead of pretending.
   */
  @Override
  public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(RoleInfoProto roleInfo,
      TermIndex firstTermIndexInLog) {
    LOG.error("[{}] this replica is behind the leader's log start {}: it needs a full copy of the state from"
        + " the leader, which is not supported yet, so it cannot catch up (was its data directory lost?)",
        logPrefix, firstTermIndexInLog);
    return CompletableFuture.failedFuture(new UnsupportedOperationException(
        "full replica copy from the leader is not supported yet"));
  }

  /**
   * Ratis cuts the Raft log from {@code index} on (a new leader's entries replace uncommitted ones).
   * Only uncommitted entries may be cut, and only committed entries are applied; so an index at or
   * below the applied one means this replica applied an entry the group never committed: its state
   * has diverged from the other replicas and must not be served or snapshotted. Raft guarantees
   * this cannot happen; it is checked because a Ratis defect once made a replica do it (see
   * {@link CommittedEntryGuard}, which now keeps that from happening).
   */
  @Override
  public CompletableFuture<Void> truncate(long index) {
    TermIndex applied = getLastAppliedTermIndex();
    if (applied != null && index <= applied.getIndex()) {
      IllegalStateException problem = new IllegalStateException(logPrefix + ": the Raft log is cut at index "
          + index + " but entries up to " + applied + " are already applied: this replica applied entries"
          + " that were never committed and has diverged from the others");
      LOG.error("FATAL: {}; stopping", problem.getMessage());
      onDiverged(problem);
    }
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Called (on a Ratis thread, holding its log lock: do not block) when {@link #truncate} finds
   * the applied state diverged. The replica must stop applying and serving.
   */
  protected abstract void onDiverged(IllegalStateException problem);

  /** Opens whatever the state lives in besides the snapshot (before the snapshot is loaded). */
  protected abstract void open() throws IOException;

  /** Resets the in-memory state from a snapshot's content, or to empty when {@code snapshot} is null. */
  protected abstract void restore(byte[] snapshot, TermIndex at) throws IOException;

  /** The content of a snapshot of the applied state; called on the apply thread. */
  protected abstract byte[] snapshotContent() throws IOException;

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    // Before this division takes entries as a follower: Ratis' own ordering of follower appends
    // can lose or misplace a request after a leader change (see FollowerAppendOrder).
    RaftServer.Division division = divisionOrNull();
    if (division != null) {
      FollowerAppendOrder.install(division);
    }
    storage.init(raftStorage);
    open();
    loadLatestSnapshot();
  }

  /**
   * Ratis pauses the state machine before it reloads it from a snapshot a follower installed
   * ({@link #reinitialize}), and checks that it is paused.
   */
  @Override
  public void pause() {
    LifeCycle life = getLifeCycle();
    if (life.getCurrentState() == LifeCycle.State.NEW) {
      life.transition(LifeCycle.State.STARTING);
      life.transition(LifeCycle.State.RUNNING);
    }
    if (life.getCurrentState() == LifeCycle.State.RUNNING) {
      life.transition(LifeCycle.State.PAUSING);
      life.transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    loadLatestSnapshot();
    LifeCycle life = getLifeCycle();
    if (life.getCurrentState() == LifeCycle.State.PAUSED) {
      life.transition(LifeCycle.State.STARTING);
      life.transition(LifeCycle.State.RUNNING);
    }
  }

  /** The latest snapshot of this replica and where it was taken, for a peer that starts from it. */
  public final Optional<ReplicaRepairSource.SnapshotCopy> latestSnapshotCopy() throws IOException {
    TermIndex at = SnapshotFiles.latestTermIndex(storage);
    byte[] content = SnapshotFiles.readLatest(storage);
    if (at == null || content == null) {
      return Optional.empty();
    }
    // A newer snapshot may have replaced the one at "at" between the two reads: check again.
    if (!at.equals(SnapshotFiles.latestTermIndex(storage))) {
      throw new IOException(logPrefix + ": a new snapshot was taken while the latest one was read");
    }
    return Optional.of(new ReplicaRepairSource.SnapshotCopy(at, content));
  }

  /** Copies a peer's state; see {@link #copyStateInBackground}. */
  @FunctionalInterface
  protected interface StateCopy {
    /** Copies the state and stores it ({@link #storeSnapshotCopy}); returns where it was taken. */
    TermIndex run() throws Exception;
  }

  /** The running copy of a peer's state, or null; guarded by this. */
  private CompletableFuture<TermIndex> installing;

  /**
   * Runs {@code copy} on a thread of its own and answers Ratis' install-snapshot notification with
   * its future; a notification that comes while a copy runs gets the same future (Ratis repeats
   * them while the follower answers "in progress").
   */
  protected final synchronized CompletableFuture<TermIndex> copyStateInBackground(StateCopy copy) {
    if (installing != null && !installing.isDone()) {
      return installing;
    }
    CompletableFuture<TermIndex> attempt = new CompletableFuture<>();
    installing = attempt;
    Thread t = new Thread(() -> {
      try {
        attempt.complete(copy.run());
      } catch (Throwable e) {
        attempt.completeExceptionally(e);
      }
    }, logPrefix.replace(' ', '-') + "-install");
    t.setDaemon(true);
    t.start();
    return attempt;
  }

  /** Stores a snapshot copied from a peer as this replica's latest; {@link #reinitialize} loads it. */
  protected final void storeSnapshotCopy(ReplicaRepairSource.SnapshotCopy copy) throws IOException {
    SnapshotFiles.write(storage, copy.at(), copy.content());
  }

  private void loadLatestSnapshot() throws IOException {
    byte[] bytes = SnapshotFiles.readLatest(storage);
    TermIndex at = bytes == null ? null : SnapshotFiles.latestTermIndex(storage);
    restore(bytes, at);
    if (at != null) {
      setLastAppliedTermIndex(at);
      lastSnapshotIndex = at.getIndex();
    }
  }

  @Override
  public SimpleStateMachineStorage getStateMachineStorage() {
    return storage;
  }

  /** Ratis may still ask (snapshot management API); same as the self-triggered snapshot. */
  @Override
  public long takeSnapshot() throws IOException {
    TermIndex last = getLastAppliedTermIndex();
    if (last == null || last.getIndex() < 0) {
      return -1;
    }
    writeSnapshot(last);
    return last.getIndex();
  }

  /**
   * Also take a snapshot (and purge) once the entries applied since the last one reach this many
   * bytes (0 = only by entries): large entries would otherwise let the Raft log hold up to
   * {@code snapshotEveryEntries} times the largest entry between snapshots. Set before the
   * replica starts applying.
   */
  public final void snapshotAlsoEveryBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must not be negative, got " + bytes);
    }
    this.snapshotEveryBytes = bytes;
  }

  /** Call at the end of every apply, after the applied index was updated. */
  protected final void afterApply(TermIndex applied) throws IOException {
    afterApply(applied, 0);
  }

  /**
   * Call at the end of every apply, after the applied index was updated.
   *
   * @param entryBytes the size of the applied Raft entry
   */
  protected final void afterApply(TermIndex applied, long entryBytes) throws IOException {
    bytesSinceSnapshot += entryBytes;
    boolean byEntries = snapshotEveryEntries > 0 && applied.getIndex() - lastSnapshotIndex >= snapshotEveryEntries;
    boolean byBytes = snapshotEveryBytes > 0 && bytesSinceSnapshot >= snapshotEveryBytes;
    if (byEntries || byBytes) {
      writeSnapshot(applied);
      purgeRaftLog(applied.getIndex());
    }
  }

  private void writeSnapshot(TermIndex at) throws IOException {
    SnapshotFiles.write(storage, at, snapshotContent());
    bytesSinceSnapshot = 0;
    lastSnapshotIndex = at.getIndex();
    storage.cleanupOldSnapshots(KEEP_TWO);
    LOG.debug("[{}] snapshot at {}", logPrefix, at);
  }

  private void purgeRaftLog(long snapshotIndex) {
    RaftServer.Division division = divisionOrNull();
    if (division == null) {
      return;
    }
    try {
      Map<RaftPeerId, Long> commits = new HashMap<>();
      for (CommitInfoProto info : division.getCommitInfos()) {
        commits.put(RaftPeerId.valueOf(info.getServer().getId()), info.getCommitIndex());
      }
      long lowest = snapshotIndex;
      for (RaftPeer peer : division.getGroup().getPeers()) {
        Long commit = commits.get(peer.getId());
        if (commit == null) {
          return; // this replica's progress is unknown: keep everything
        }
        lowest = Math.min(lowest, commit);
      }
      long purgeUpTo = lowest - 1;
      if (purgeUpTo <= division.getRaftLog().getStartIndex()) {
        return;
      }
      division.getRaftLog().purge(purgeUpTo).whenComplete((purged, e) -> {
        if (e != null) {
          LOG.warn("[{}] purging the Raft log up to {} failed: {}", logPrefix, purgeUpTo, e.toString());
        }
      });
    } catch (RuntimeException e) {
      LOG.warn("[{}] cannot purge the Raft log: {}", logPrefix, e.toString());
    }
  }
}
