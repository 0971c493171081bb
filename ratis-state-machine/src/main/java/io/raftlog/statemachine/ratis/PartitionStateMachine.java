package io.raftlog.statemachine.ratis;

import com.google.protobuf.MessageLite;
import io.raftlog.log.v1.AppendBatch;
import io.raftlog.log.v1.AppendBatchesReply;
import io.raftlog.log.v1.AppendReply;
import io.raftlog.log.v1.AppendStatus;
import io.raftlog.log.v1.DeleteRecords;
import io.raftlog.log.v1.DeleteRecordsReply;
import io.raftlog.log.v1.PartitionCommand;
import io.raftlog.log.v1.PartitionSnapshot;
import io.raftlog.statemachine.codec.ByteStringViews;
import io.raftlog.statemachine.codec.PartitionCodec;
import io.raftlog.statemachine.codec.RecordBatches;
import io.raftlog.statemachine.core.AppendOutcome;
import io.raftlog.statemachine.core.BatchHeader;
import io.raftlog.statemachine.core.PartitionCore;
import io.raftlog.statemachine.core.ProducerStateTable;
import io.raftlog.statemachine.store.Compaction;
import io.raftlog.statemachine.store.FileLogStore;
import io.raftlog.statemachine.store.LogStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis adapter of one partition replica: decodes Raft entries, delegates offset assignment to
 * {@link PartitionCore}, stores appended batches in the {@link LogStore} and answers with an
 * {@link AppendReply}.
 *
 * <p>Write path: Raft entry (holding one v2 record batch, or several in arrival order when the
 * leader coalesced the batches waiting for this partition: group commit) -> commit -> {@link
 * #applyTransaction} (in log order, on every replica) -> offsets assigned batch by batch -> batches
 * written to the segment files. So
 * the segment files hold only committed records and any replica can serve fetches. Every entry
 * passes the {@link CommittedEntryGuard} first (Ratis may hand over a deposed leader's entry).
 *
 * <p>Durability: the Raft log is fsynced before commit; segment files are fsynced before a
 * snapshot is written. After a crash, Ratis replays entries after the last snapshot; a replayed
 * batch whose offsets are already in the segment files is not written again.
 *
 * <p>Repair: when the segment files end at X below the snapshot's next offset N (a torn or corrupt
 * tail was cut off at open, or segment files were lost), the Raft entries that wrote [X, N) may be
 * purged, so replay cannot restore them. The replica then restores its state from the snapshot but
 * keeps its high watermark at X, and a {@link ReplicaRepair} copies [X, N) from another replica
 * through the {@link ReplicaRepairSource}, checks it and fsyncs it; only then is the high watermark
 * published. Reads never see the missing range before that: they are bounded by the high watermark.
 *
 * <p>Deferred applies: replayed and new entries committed meanwhile must land after the repaired
 * range, so while the repair runs they are not applied: {@link #applyTransaction} queues them (and
 * {@link #notifyTermIndexUpdated} the configuration entries) and returns at once, and a drainer
 * thread applies them in log order once the repair is stored, completing the futures Ratis waits
 * on. Not blocking Ratis' apply thread matters for leadership: a replica elected leader while
 * repairing still becomes leader-ready (Ratis applies its first configuration entry), so it can
 * change the group's configuration and transfer leadership, which Ratis refuses from a leader that
 * is not ready. While applies are deferred the replica refuses writes ({@link
 * ReplicaRepairingException}, retriable), and the broker's {@code LeadershipGuard} lowers its Raft
 * priority and hands leadership to a healthy replica. Queued entries are read back from the Raft
 * log when their turn comes (no snapshot, hence no purge, happens meanwhile), so a long repair does
 * not hold them in memory. Ratis' own applied index runs ahead of the state machine's meanwhile;
 * the state machine's ({@link #getLastAppliedTermIndex()}) is the truth.
 *
 * <p>Closing before the deferred entries are applied: they, and every committed entry Ratis hands
 * over after them, are left unapplied (one INFO line); Ratis is answered with an empty message for
 * them instead of one failure (and one ERROR with a stack trace) per entry. Nothing is applied or
 * snapshotted after that; the entries are replayed from the Raft log after a restart.
 *
 * <p>acks=1: on the leader, {@link #preAppendTransaction} runs in log order right before the entry
 * joins the local Raft log. There the leader predicts the entry's offsets from a speculative copy
 * of the offset/sequence state that includes not-yet-applied entries, and tells the waiting
 * producer. When the prediction is not possible (new leader with unapplied entries, a duplicate or
 * out-of-order batch) the producer is answered at apply instead.
 */
public final class PartitionStateMachine extends SnapshottingStateMachine {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionStateMachine.class);

  private final LogStoreOpener storeOpener;
  private final ReplicaRepairSource repairSource;
  private final Consumer<Throwable> onFatalError;
  /** Set after an apply failed: nothing more is applied, the broker is going down. */
  private volatile boolean failed;
  private volatile boolean closing;
  private final Map<AckKey, List<LeaderAppendListener>> ackListeners = new ConcurrentHashMap<>();

  private volatile LogStore store;
  /** The topic's segment.bytes once known (0: the store's own setting). */
  private volatile int segmentBytes;
  private volatile long segmentMs;
  private volatile PartitionCore core;
  /**
   * The offset below which records are applied and stored, published only after the segment store
   * has the batch (the core's next offset moves first, while the apply is still writing).
   */
  private volatile long highWatermark;
  private volatile long logStartOffset;
  /** Long-poll fetches waiting for the high watermark to move. */
  private final HighWatermarkWaiters waiters = new HighWatermarkWaiters();
  /** Non-null while the segment files miss committed batches below the core's next offset. */
  private volatile ReplicaRepair repair;
  /** The last repair started, kept for observation (tests, logs); null if none. */
  private volatile RepairRange lastRepair;
  /** Guards the deferral state below. */
  private final Object deferLock = new Object();
  /** Committed entries waiting for the repair, in log order. */
  private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();
  /** True from the first deferred entry until the drainer has applied (or abandoned) them all. */
  private boolean deferring;
  /** The thread applying the deferred entries, while {@link #deferring}. */
  private volatile Thread drainer;
  /**
   * Set when the replica closed before the deferred entries were applied: from then on no entry is
   * applied, even if the repair completes meanwhile, so entries are never applied out of order. The
   * replica is going away; the entries are replayed after a restart.
   */
  private volatile boolean leftUnapplied;

  /** Told when Ratis shuts this replica down as not in its group's configuration; may be null. */
  private volatile Runnable onRemovedFromGroup;

  /** Leader-side speculation for acks=1; touched only on the Raft append thread (under its lock). */
  private final Speculation speculation = new Speculation();

  /** A replica without a repair source: damage below the snapshot keeps it from starting. */
  public PartitionStateMachine(String logPrefix, LogStoreOpener storeOpener, long snapshotEveryEntries,
      Consumer<Throwable> onFatalError) {
    this(logPrefix, storeOpener, null, snapshotEveryEntries, onFatalError);
  }

  /**
   * @param repairSource where batches the segment files lost below the snapshot are copied from
   *     (another replica); null refuses to start such a replica (IOException at initialize)
   * @param snapshotEveryEntries see {@link SnapshottingStateMachine}
   * @param onFatalError called once when an entry cannot be applied (disk failure, corrupt state):
   *     the replica must not go on, since its state would silently diverge from the others. The
   *     broker process halts (like Kafka on a log directory failure).
   */
  public PartitionStateMachine(String logPrefix, LogStoreOpener storeOpener, ReplicaRepairSource repairSource,
      long snapshotEveryEntries, Consumer<Throwable> onFatalError) {
    super(logPrefix, snapshotEveryEntries);
    this.storeOpener = storeOpener;
    this.repairSource = repairSource;
    this.onFatalError = onFatalError;
  }

  @Override
  protected void open() throws IOException {
    LogStore s = storeOpener.open();
    int bytes = segmentBytes;
    if (bytes > 0) {
      s.setSegmentBytes(bytes);
    }
    long ms = segmentMs;
    if (ms > 0) {
      s.setSegmentMs(ms);
    }
    store = s;
  }

  /**
   * The topic's {@code segment.bytes}: the active segment rolls at this size from now on (also
   * when called before the replica opened its segment files).
   */
  public void setSegmentBytes(int bytes) {
    segmentBytes = bytes;
    LogStore s = store;
    if (s != null) {
      s.setSegmentBytes(bytes);
    }
  }

  /**
   * The topic's {@code segment.ms}: the active segment rolls once a batch's timestamp is this far
   * past its first batch's (also when called before the replica opened its segment files).
   */
  public void setSegmentMs(long ms) {
    segmentMs = ms;
    LogStore s = store;
    if (s != null) {
      s.setSegmentMs(ms);
    }
  }

  /** The segments of this replica, for retention decisions ({@link LogStore#segments()}). */
  /**
   * Log compaction of this replica's sealed segments (a topic with {@code cleanup.policy=compact});
   * call from the broker's cleaner thread. Each replica cleans on its own, as in Kafka; see
   * {@link Compaction}.
   *
   * @return what was done, or null when nothing was due
   */
  public Compaction.Result compact(Compaction.Policy policy, long nowMs) throws IOException {
    LogStore s = store;
    if (s == null || !isReady()) {
      return null;
    }
    if (!(s instanceof FileLogStore files)) {
      throw new UnsupportedOperationException(logPrefix + ": only segment files are compacted, not " + s.getClass());
    }
    return files.compact(policy, nowMs);
  }

  public List<LogStore.SegmentInfo> segments() throws IOException {
    LogStore s = store;
    if (s == null) {
      throw new IOException(logPrefix + ": the replica is still starting");
    }
    return s.segments();
  }

  @Override
  protected void restore(byte[] bytes, TermIndex at) throws IOException {
    synchronized (deferLock) {
      if (deferring) {
        // Only Ratis' snapshot installation reloads a running replica, and it is switched off.
        throw new IOException(logPrefix + ": cannot reload the state while deferred entries wait to be applied");
      }
    }
    stopRepair(); // reinitialize: a new snapshot replaces whatever was being repaired
    if (bytes == null) {
      core = new PartitionCore(store.logStartOffset(), store.logStartOffset(), new ProducerStateTable(),
          PartitionCore.DEFAULT_PRODUCER_EXPIRATION_MS);
      publishOffsets();
      LOG.info("[{}] starting without snapshot; log end offset on disk {}", logPrefix, store.logEndOffset());
      return;
    }
    PartitionSnapshot snapshot = PartitionSnapshot.parseFrom(bytes);
    long storeEnd = store.logEndOffset();
    long next = snapshot.getNextOffset();
    if (storeEnd < next) {
      if (repairSource == null) {
        throw new IOException(logPrefix + ": segment files end at offset " + storeEnd
            + " but the snapshot says " + next + "; the data directory is damaged and this replica has no"
            + " repair source");
      }
      if (storeEnd < snapshot.getLogStartOffset() || store.logStartOffset() > snapshot.getLogStartOffset()) {
        throw new IOException(logPrefix + ": segment files hold [" + store.logStartOffset() + ", " + storeEnd
            + ") but the snapshot's log starts at " + snapshot.getLogStartOffset() + " and ends at " + next
            + "; cannot repair a log whose start is missing");
      }
    }
    core = PartitionCodec.coreFromSnapshot(snapshot);
    // The store does not keep a start raised inside a segment: the snapshot does.
    if (store.logStartOffset() < core.logStartOffset()) {
      store.advanceLogStart(core.logStartOffset());
    }
    if (storeEnd < next) {
      LOG.warn("[{}] segment files end at {} but snapshot says {}; repairing [{}, {}) from peers. Until then"
          + " the high watermark stays at {}, entries after the snapshot wait and the replica takes no writes",
          logPrefix, storeEnd, next, storeEnd, next, storeEnd);
      ReplicaRepair[] self = new ReplicaRepair[1];
      ReplicaRepair r = new ReplicaRepair(logPrefix, store, storeEnd, next, repairSource, () -> onRepaired(self[0]));
      self[0] = r;
      repair = r;
      lastRepair = new RepairRange(storeEnd, next);
      publishOffsets(); // high watermark X, not N
      r.start(logPrefix.replace(' ', '-') + "-repair");
    } else {
      publishOffsets();
    }
    LOG.info("[{}] loaded snapshot at {}: next offset {}, {} producers", logPrefix, at,
        core.nextOffset(), core.producers().size());
  }

  /**
   * On the repair thread, once the repaired range is fsynced and before the waiting apply thread is
   * released (the apply thread is blocked, so the core does not move meanwhile).
   */
  private void onRepaired(ReplicaRepair r) {
    if (repair != r) {
      return;
    }
    // High watermark first, then clear the flag: a reader that sees isRepairing() false sees it.
    highWatermark = core.nextOffset();
    repair = null;
    waiters.wakeAll();
  }

  private void stopRepair() {
    ReplicaRepair r = repair;
    if (r != null) {
      r.abort(10_000);
      repair = null;
    }
  }

  @Override
  protected void onDiverged(IllegalStateException problem) {
    // Like a failed apply: nothing more is applied or snapshotted; the broker halts.
    failed = true;
    onFatalError.accept(problem);
  }

  @Override
  protected byte[] snapshotContent() throws IOException {
    if (repair != null) {
      throw new IOException(logPrefix + ": no snapshot while the segment files are being repaired");
    }
    if (leftUnapplied) {
      throw new IOException(logPrefix + ": no snapshot: closing with committed entries left unapplied");
    }
    if (failed) {
      throw new IOException(logPrefix + ": no snapshot: the replica failed");
    }
    Thread applying = drainer;
    if (applying != null && applying != Thread.currentThread()) {
      // Ratis' snapshot API on its apply thread while the drainer applies deferred entries.
      throw new IOException(logPrefix + ": no snapshot while deferred entries are being applied");
    }
    // The snapshot must never be ahead of what is durable in the segment files.
    store.flush();
    return PartitionCodec.snapshotOf(core).toByteArray();
  }

  /**
   * Registers the acks=1 listeners of an in-process request before it is submitted: one per batch
   * of the entry, in batch order, null for a batch that does not wait for the leader's append.
   */
  public void expectLeaderAppends(ClientId clientId, long callId, List<LeaderAppendListener> listeners) {
    ackListeners.put(new AckKey(clientId, callId), listeners);
  }

  /** Drops a listener whose request was never submitted or has finished. */
  public void forgetLeaderAppend(ClientId clientId, long callId) {
    ackListeners.remove(new AckKey(clientId, callId));
  }

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    if (isApplyDeferred()) {
      // Leader (ready, since applies no longer block Ratis) while repairing: the entry would be
      // committed but answered only after the repair, long after the client gave up and retried.
      // Refuse it retriably; the broker hands leadership to a healthy replica meanwhile.
      TransactionContext trx = TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request).build();
      trx.setException(new ReplicaRepairingException(logPrefix + ": this replica is repairing its segment files"
          + " and takes no writes; leadership is being handed to another replica"));
      return trx;
    }
    // Reject before the log: an entry that does not parse, or holds no command this version knows,
    // would be fatal at apply on every replica (the Raft port takes requests from any client).
    try {
      PartitionCommand cmd = RequestContent.parse(request.getMessage().getContent(), PartitionCommand.parser());
      if (cmd.getCommandCase() == PartitionCommand.CommandCase.DELETE_RECORDS) {
        if (cmd.getDeleteRecords().getBeforeOffset() < 0) {
          throw new IOException("delete_records.before_offset must not be negative, got "
              + cmd.getDeleteRecords().getBeforeOffset());
        }
        return TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request).build();
      }
      if (cmd.getCommandCase() == PartitionCommand.CommandCase.APPEND_BATCHES
          && cmd.getAppendBatches().getBatchesCount() == 0) {
        throw new IOException("append_batches holds no batch");
      }
      if (cmd.getCommandCase() != PartitionCommand.CommandCase.APPEND
          && cmd.getCommandCase() != PartitionCommand.CommandCase.APPEND_BATCHES) {
        throw new IOException("no partition command (" + cmd.getCommandCase() + "); partition groups take"
            + " PartitionCommand.append, append_batches and delete_records only");
      }
    } catch (IOException e) {
      return RequestContent.refused(this, request, logPrefix, e);
    }
    List<LeaderAppendListener> listeners = ackListeners.remove(new AckKey(request.getClientId(), request.getCallId()));
    return TransactionContext.newBuilder()
        .setStateMachine(this)
        .setClientRequest(request)
        .setStateMachineContext(new EntryContext(listeners == null ? List.of() : listeners))
        .build();
  }

  @Override
  public TransactionContext preAppendTransaction(TransactionContext trx) throws IOException {
    if (trx.getStateMachineContext() instanceof EntryContext ctx) {
      speculation.onLeaderAppend(trx, ctx);
    }
    return trx;
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId memberId, RaftPeerId newLeaderId) {
    speculation.invalidate();
    LOG.info("[{}] leader is now {}", logPrefix, newLeaderId);
  }

  /**
   * Configuration and no-op entries. While applies are deferred they are queued like the others,
   * so the applied index never passes an entry that is not applied yet.
   */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    TermIndex handed = TermIndex.valueOf(term, index);
    LogEntryProto replacement;
    try {
      replacement = committedEntries.replacement(handed);
    } catch (IOException e) {
      return; // closing
    }
    if (replacement != null && replacement.hasStateMachineLogEntry()) {
      // A deposed leader's configuration entry stood where the group committed a batch.
      if (!failed) {
        applyCommitted(replacement, null, null);
      }
      return;
    }
    notifyTermIndexUpdatedChecked(replacement == null ? handed : TermIndex.valueOf(replacement));
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto handed = trx.getLogEntry();
    if (failed) {
      return CompletableFuture.failedFuture(new IOException(logPrefix + ": replica failed, not applying"));
    }
    LogEntryProto replacement;
    try {
      replacement = committedEntries.replacement(TermIndex.valueOf(handed));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e); // closing
    }
    if (replacement == null) {
      return applyCommitted(handed, trx, trx.getStateMachineContext());
    }
    // Ratis records the result under the handed entry's client call: it must not look like that
    // call succeeded (a retry of it would be answered from Ratis' retry cache). The transaction
    // and its leader-side state belong to the entry not applied.
    IOException notCommitted = CommittedEntryGuard.replaced(logPrefix, TermIndex.valueOf(handed), replacement);
    if (!replacement.hasStateMachineLogEntry()) {
      notifyTermIndexUpdatedChecked(TermIndex.valueOf(replacement));
      return CompletableFuture.failedFuture(notCommitted);
    }
    return applyCommitted(replacement, null, null)
        .thenCompose(m -> CompletableFuture.failedFuture(notCommitted));
  }

  /** A configuration or no-op entry that is known to be the committed one. */
  private void notifyTermIndexUpdatedChecked(TermIndex entry) {
    synchronized (deferLock) {
      if (leftUnapplied) {
        return;
      }
      if (repair != null || deferring) {
        deferLocked(new Deferred(entry, false, null, null));
        return;
      }
    }
    super.notifyTermIndexUpdated(entry.getTerm(), entry.getIndex());
  }

  /**
   * Applies a state machine entry known to be the committed one, now or (while a repair runs)
   * deferred in log order.
   *
   * @param trx the transaction when it is the entry's own (kept for a deferred apply only when it
   *     carries leader-side state); null for an entry read from the log
   */
  private CompletableFuture<Message> applyCommitted(LogEntryProto entry, TransactionContext trx, Object context) {
    synchronized (deferLock) {
      if (leftUnapplied) {
        return trx != null ? notApplied(trx) : CompletableFuture.completedFuture(Message.EMPTY);
      }
      if (repair != null || deferring) {
        // Keep the transaction only when it carries leader-side state; otherwise the entry is read
        // back from the Raft log when its turn comes, so a long repair does not hold every entry
        // committed meanwhile in memory (the log is not purged: no snapshot is taken meanwhile).
        boolean keep = trx != null && (trx.getClientRequest() != null || trx.getStateMachineContext() != null);
        CompletableFuture<Message> future = new CompletableFuture<>();
        deferLocked(new Deferred(TermIndex.valueOf(entry), true, keep ? trx : null, future));
        return future;
      }
    }
    return applyNow(entry, context);
  }

  /** Applies one committed entry now; on the Ratis apply thread, or on the drainer for deferred ones. */
  private CompletableFuture<Message> applyNow(LogEntryProto entry, Object context) {
    MessageLite reply;
    try {
      // The batches alias the entry's bytes; applyAppend copies each before stamping it.
      PartitionCommand cmd = ByteStringViews.parseAliased(entry.getStateMachineLogEntry().getLogData(),
          PartitionCommand.parser());
      if (cmd.getCommandCase() == PartitionCommand.CommandCase.APPEND) {
        reply = applyAppend(cmd.getAppend(), context, 0);
      } else if (cmd.getCommandCase() == PartitionCommand.CommandCase.APPEND_BATCHES) {
        // Group commit: each batch exactly as if it were its own entry, in order.
        AppendBatchesReply.Builder replies = AppendBatchesReply.newBuilder();
        List<AppendBatch> batches = cmd.getAppendBatches().getBatchesList();
        for (int i = 0; i < batches.size(); i++) {
          replies.addReplies(applyAppend(batches.get(i), context, i));
        }
        reply = replies.build();
      } else if (cmd.getCommandCase() == PartitionCommand.CommandCase.DELETE_RECORDS) {
        reply = applyDeleteRecords(cmd.getDeleteRecords());
      } else {
        // Written by a newer version: refusing silently would fork the replicas' state.
        throw new IllegalStateException("unknown partition command " + cmd.getCommandCase()
            + " at index " + entry.getIndex());
      }
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      publishOffsets();
      waiters.wakeAll();
    } catch (Exception e) {
      if (closing) {
        return CompletableFuture.failedFuture(e);
      }
      // Apply must be deterministic; a failure here means disk or state trouble. Ratis would just
      // go on with the next entry, so stop this replica for good.
      failed = true;
      LOG.error("[{}] FATAL: cannot apply entry {}; stopping: {}", logPrefix, TermIndex.valueOf(entry), e.toString(), e);
      onFatalError.accept(e);
      return CompletableFuture.failedFuture(e);
    }
    try {
      afterApply(TermIndex.valueOf(entry), entry.getSerializedSize());
    } catch (IOException | RuntimeException e) {
      // The entry is applied; a failed snapshot is retried at the next interval.
      LOG.error("[{}] snapshot after entry {} failed: {}", logPrefix, TermIndex.valueOf(entry), e.toString(), e);
    }
    return CompletableFuture.completedFuture(
        Message.valueOf(UnsafeByteOperations.unsafeWrap(reply.toByteString().asReadOnlyByteBuffer())));
  }

  // ---- applies deferred while the segment files are repaired ----

  /**
   * A committed entry whose apply waits for the repair: a state machine entry (with the future
   * Ratis waits on, and the transaction when it carries leader-side state) or the term-index of a
   * configuration or no-op entry, which only moves the applied index.
   */
  private record Deferred(TermIndex termIndex, boolean stateMachineEntry, TransactionContext trx,
      CompletableFuture<Message> future) {}

  /** Queues an entry and starts the drainer with the first one. Holding {@link #deferLock}. */
  private void deferLocked(Deferred d) {
    deferred.add(d);
    if (!deferring) {
      deferring = true;
      ReplicaRepair r = repair;
      LOG.info("[{}] entries from {} on are applied once {} is repaired from peers, in log order; until"
          + " then this replica takes no writes", logPrefix, d.termIndex(),
          r == null ? "the segment file range" : "[" + r.from() + ", " + r.until() + ")");
      Thread t = new Thread(this::drain, logPrefix.replace(' ', '-') + "-deferred-applies");
      t.setDaemon(true);
      drainer = t;
      t.start();
    }
  }

  /**
   * The drainer: waits for the repair, then applies the deferred entries in log order, completing
   * the futures Ratis waits on; gives up (quietly) when the replica closes. While it runs, new
   * entries keep being queued behind, so nothing is applied out of order; it ends when the queue is
   * empty, and applies are done on Ratis' apply thread again.
   */
  private void drain() {
    ReplicaRepair r = repair;
    if (r != null) {
      Throwable problem = awaitRepair(r);
      if (problem == CLOSING) {
        abandon(r);
        return;
      }
      if (problem != null) {
        failDeferred(problem);
        return;
      }
    }
    long applied = 0;
    while (true) {
      if (closing || divisionClosing()) {
        abandon(null);
        return;
      }
      Deferred next;
      synchronized (deferLock) {
        next = deferred.poll();
        if (next == null) {
          deferring = false;
          drainer = null;
          if (applied > 0) {
            LOG.info("[{}] applied the {} entries deferred by the repair", logPrefix, applied);
          }
          return;
        }
      }
      if (!next.stateMachineEntry()) {
        updateLastAppliedTermIndex(next.termIndex());
        continue;
      }
      CompletableFuture<Message> result;
      try {
        LogEntryProto entry = next.trx() != null ? next.trx().getLogEntry() : readCommitted(next.termIndex());
        result = applyNow(entry, next.trx() == null ? null : next.trx().getStateMachineContext());
      } catch (IOException | RuntimeException e) {
        failed = true;
        LOG.error("[{}] FATAL: cannot read deferred entry {} back from the Raft log; stopping: {}", logPrefix,
            next.termIndex(), e.toString(), e);
        onFatalError.accept(e);
        result = CompletableFuture.failedFuture(e);
      }
      applied++;
      result.whenComplete((m, e) -> {
        if (e != null) {
          next.future().completeExceptionally(e);
        } else {
          next.future().complete(m);
        }
      });
      if (failed) {
        failDeferred(new IOException(logPrefix + ": replica failed, not applying"));
        return;
      }
    }
  }

  private LogEntryProto readCommitted(TermIndex at) throws IOException {
    RaftServer.Division division = divisionOrNull();
    if (division == null) {
      throw new IOException("no Raft division for this group");
    }
    LogEntryProto entry = division.getRaftLog().get(at.getIndex());
    if (entry == null || entry.getTerm() != at.getTerm()) {
      throw new IOException("the Raft log holds " + (entry == null ? "nothing" : TermIndex.valueOf(entry))
          + " at index " + at.getIndex() + ", expected " + at);
    }
    return entry;
  }

  /**
   * The replica is closing before the deferred entries could be applied: they are left unapplied
   * (replayed from the Raft log after a restart), and so is every entry Ratis hands over after this.
   */
  private void abandon(ReplicaRepair r) {
    List<Deferred> left;
    synchronized (deferLock) {
      leftUnapplied = true;
      left = List.copyOf(deferred);
      deferred.clear();
      deferring = false;
      drainer = null;
    }
    long count = 0;
    TermIndex first = null;
    TermIndex last = null;
    for (Deferred d : left) {
      if (d.stateMachineEntry()) {
        count++;
        first = first == null ? d.termIndex() : first;
        last = d.termIndex();
        if (d.trx() != null && d.trx().getClientRequest() != null) {
          d.future().completeExceptionally(new IOException("the replica closed before applying this entry"));
        } else {
          d.future().complete(Message.EMPTY);
        }
      }
    }
    LOG.info("[{}] closing {}: {} committed entries{} are left unapplied; they are replayed after a restart",
        logPrefix, r == null ? "while applying the entries deferred by the repair"
            : "before [" + r.from() + ", " + r.until() + ") was repaired",
        count, count == 0 ? "" : " (" + first + " to " + last + ")");
  }

  /** The repair or an apply failed (fatal, already reported): the deferred entries fail too. */
  private void failDeferred(Throwable problem) {
    List<Deferred> left;
    synchronized (deferLock) {
      left = List.copyOf(deferred);
      deferred.clear();
      deferring = false;
      drainer = null;
    }
    for (Deferred d : left) {
      if (d.stateMachineEntry()) {
        d.future().completeExceptionally(problem);
      }
    }
  }

  /**
   * What Ratis gets for an entry left unapplied because the replica closed mid-repair. Ratis logs
   * an ERROR with a stack trace for every failed apply, and on close it goes through every
   * committed entry (up to a snapshot interval's worth), so these are answered with an empty
   * message instead: nobody waits for it (the reply of an entry goes to a client only on the leader
   * that took the request), the division is closing, its retry cache and applied index die with it,
   * and nothing is persisted from them (Ratis takes no snapshot on stop here, and {@link
   * #snapshotContent} refuses). An entry a client does wait for on this leader (impossible while
   * repairing: the replica refuses writes then) is failed, so that no client mistakes the empty
   * message (which would decode as a default AppendReply) for a success.
   */
  private static CompletableFuture<Message> notApplied(TransactionContext trx) {
    if (trx.getClientRequest() != null) {
      return CompletableFuture.failedFuture(new IOException("the replica closed before applying this entry"));
    }
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /** Returned by {@link #awaitRepair} when the replica closes before the repair is done. */
  private static final Throwable CLOSING = new IOException("closing") {
    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  };

  /**
   * Waits (on the drainer) until the repair is stored. Gives up when the division is closing (Ratis
   * then waits for the deferred entries' futures, so the wait polls for that) or the state machine
   * is closed.
   *
   * @return null when the repair is done; {@link #CLOSING} when the replica is closing; otherwise
   *     why the repair failed, which is fatal like a failed apply (already reported)
   */
  private Throwable awaitRepair(ReplicaRepair r) {
    while (true) {
      if (closing || divisionClosing()) {
        return CLOSING;
      }
      try {
        r.done().get(200, TimeUnit.MILLISECONDS);
        return null;
      } catch (TimeoutException e) {
        // still repairing; check for close again
      } catch (CancellationException e) {
        // aborted: only close does that; the loop sees the closing flag next
        if (!closing && !divisionClosing()) {
          return fatal(new IOException(logPrefix + ": the repair of [" + r.from() + ", " + r.until()
              + ") was aborted while the replica runs"));
        }
      } catch (ExecutionException e) {
        if (closing || divisionClosing()) {
          continue;
        }
        return fatal(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        if (closing || divisionClosing()) {
          continue;
        }
        return fatal(new IOException(logPrefix + ": interrupted while waiting for the repair of ["
            + r.from() + ", " + r.until() + ")", e));
      }
    }
  }

  private Throwable fatal(Throwable e) {
    failed = true;
    LOG.error("[{}] FATAL: the repair of the segment files failed; no entry is applied; stopping: {}",
        logPrefix, e.toString(), e);
    onFatalError.accept(e);
    return e;
  }

  /** True when this replica's Raft division is closing or gone. */
  private boolean divisionClosing() {
    RaftServer server = getServer().getNow(null);
    if (server == null) {
      return false;
    }
    try {
      return !server.getDivision(getGroupId()).getInfo().isAlive();
    } catch (IOException e) {
      return true; // removed from the server
    }
  }

  /** @param index the batch's position in its entry (0 for a single-batch entry) */
  private AppendReply applyAppend(AppendBatch append, Object context, int index) throws IOException {
    ByteBuffer batch = ByteBuffer.allocate(append.getRecordBatch().size());
    append.getRecordBatch().copyTo(batch);
    batch.flip();
    BatchHeader header;
    long timestamp;
    try {
      header = RecordBatches.parseHeader(batch);
      timestamp = append.getProposedAtMs() > 0 ? append.getProposedAtMs()
          : RecordBatches.maxTimestamp(batch);
    } catch (IllegalArgumentException e) {
      return AppendReply.newBuilder().setStatus(AppendStatus.APPEND_INVALID_BATCH)
          .setBaseOffset(-1).setLastOffset(-1).setMessage(e.getMessage()).build();
    }
    core.expireProducers(timestamp);
    AppendOutcome outcome = core.append(header, timestamp);
    if (outcome.isAppended()) {
      if (outcome.baseOffset() >= store.logEndOffset()) {
        RecordBatches.stampForStorage(batch, outcome.baseOffset());
        store.append(batch);
      } else {
        // Replay after a restart: this batch reached the segment files before the crash.
        LOG.debug("[{}] batch at offset {} is already stored", logPrefix, outcome.baseOffset());
      }
    }
    if (context instanceof EntryContext ctx) {
      speculation.checkPrediction(ctx, index, outcome);
    } else {
      speculation.onForeignApply(outcome);
    }
    return PartitionCodec.reply(outcome);
  }

  /**
   * Retention: the leader decided from its own segments; every replica moves its log start to the
   * same offset (never past what it has applied, so uncommitted records are never removed).
   */
  private DeleteRecordsReply applyDeleteRecords(DeleteRecords delete) throws IOException {
    long target = Math.min(delete.getBeforeOffset(), core.nextOffset());
    if (target > core.logStartOffset()) {
      long before = core.logStartOffset();
      core.advanceLogStart(target);
      store.advanceLogStart(core.logStartOffset());
      LOG.info("[{}] log start offset {} -> {} ({})", logPrefix, before, core.logStartOffset(), delete.getReason());
    }
    return DeleteRecordsReply.newBuilder().setLogStartOffset(core.logStartOffset()).build();
  }

  // ---- read side (any thread) ----

  private void publishOffsets() {
    logStartOffset = core.logStartOffset();
    ReplicaRepair r = repair;
    highWatermark = r == null ? core.nextOffset() : r.from();
  }

  /**
   * The high watermark: offset of the next committed record on this replica. While the replica is
   * {@link #isRepairing() repairing}, the start of the missing range (nothing at or beyond it is
   * readable yet).
   */
  public long highWatermark() {
    return highWatermark;
  }

  /**
   * True while the segment files miss committed batches that are being copied from another replica.
   * Read it before {@link #highWatermark()}: once this is false, the high watermark read after it
   * covers the repaired range.
   */
  public boolean isRepairing() {
    return repair != null;
  }

  /**
   * True while committed entries are not applied as they come: the replica {@link #isRepairing()
   * is repairing}, or it is applying the entries that were deferred meanwhile. It takes no writes
   * then (they are refused with a {@link ReplicaRepairingException}).
   */
  public boolean isApplyDeferred() {
    synchronized (deferLock) {
      return repair != null || deferring;
    }
  }

  /** The range the last repair of this replica copied (or is copying) from peers; null if none. */
  public RepairRange lastRepair() {
    return lastRepair;
  }

  /** Offsets {@code [fromOffset, untilOffset)} copied from another replica. */
  public record RepairRange(long fromOffset, long untilOffset) {}

  public long logStartOffset() {
    return logStartOffset;
  }

  /**
   * Committed batches from {@code offset}, up to {@code maxBytes} (at least one batch). Callers
   * must drop records at or beyond {@link #highWatermark()} read before this call.
   */
  public ByteBuffer read(long offset, int maxBytes) throws IOException {
    LogStore s = store;
    if (s == null) {
      throw new IOException(logPrefix + ": the replica is still starting");
    }
    return s.read(offset, maxBytes);
  }

  /** True once the segment files are open and the snapshot is loaded. */
  public boolean isReady() {
    return store != null && core != null;
  }

  /**
   * Completes when the high watermark moves past {@code offset} (at once if it already has). A
   * caller that stops waiting must call {@link #cancelWait} so the waiter does not linger.
   */
  public CompletableFuture<Void> awaitBeyond(long offset) {
    return waiters.await(() -> highWatermark() > offset);
  }

  public void cancelWait(CompletableFuture<Void> waiter) {
    waiters.remove(waiter);
  }

  /** Long polls waiting on this replica right now (for metrics and tests). */
  public int waitingFetches() {
    return waiters.size();
  }

  /**
   * The leader's Raft log no longer holds the entries this replica needs next (it is new, or lost
   * its data directory after the others purged their logs; the purge never passes a known
   * replica's commit index, see {@link SnapshottingStateMachine}). Instead of replaying entries, the
   * replica starts from another replica's snapshot (the leader's first): it stores that snapshot
   * as its own, makes its segment files fit it (kept when they are a prefix reaching the snapshot's
   * log start, otherwise emptied and restarted at that log start), and answers Ratis with the
   * snapshot's term-index. Ratis then pauses and reloads this state machine ({@link #reinitialize}),
   * whose restore sees segment files ending below the snapshot's next offset and copies the
   * missing records from the peers ({@link ReplicaRepair}, the same path as a damaged replica);
   * the replica serves nothing from that range and takes no writes until it is stored.
   *
   * <p>Runs on its own thread and retries (1 s apart) until a peer has a snapshot recent enough or
   * the replica closes; Ratis asks again meanwhile and gets the same attempt.
   */
  @Override
  public synchronized CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(RoleInfoProto roleInfo,
      TermIndex firstTermIndexInLog) {
    if (repairSource == null) {
      return super.notifyInstallSnapshotFromLeader(roleInfo, firstTermIndexInLog);
    }
    TermIndex applied = getLastAppliedTermIndex();
    long nextNeeded = applied == null ? 0 : applied.getIndex() + 1;
    if (firstTermIndexInLog != null && firstTermIndexInLog.getIndex() <= nextNeeded) {
      // Ratis also asks a replica joining in a reassignment to install the leader's snapshot when
      // the leader has one, even with its whole log still there. No snapshot is needed then, and
      // there may be none to copy (peers snapshot every raft.snapshot.threshold.entries): waiting
      // for one left the joining replica stuck. Null answers "no snapshot", and the leader sends
      // the log from the start.
      LOG.info("[{}] the leader's Raft log starts at {} and this replica needs it from index {}: replaying the"
          + " log, no snapshot needed", logPrefix, firstTermIndexInLog, nextNeeded);
      return CompletableFuture.completedFuture(null);
    }
    long minIndex = firstTermIndexInLog == null ? 0 : firstTermIndexInLog.getIndex() - 1;
    return copyStateInBackground(() -> {
      LOG.warn("[{}] the leader's Raft log starts at {}, past what this replica holds (applied {}): copying the"
          + " state from another replica", logPrefix, firstTermIndexInLog, getLastAppliedTermIndex());
      return installFromPeers(minIndex);
    });
  }

  private TermIndex installFromPeers(long minIndex) throws IOException, InterruptedException {
    while (true) {
      if (closing) {
        throw new IOException(logPrefix + ": closing while copying the state from another replica");
      }
      ReplicaRepairSource.SnapshotCopy copy;
      try {
        copy = repairSource.latestSnapshot(minIndex);
      } catch (IOException e) {
        LOG.info("[{}] no snapshot to start from yet ({}); retrying in 1 s", logPrefix, e.getMessage());
        Thread.sleep(1000);
        continue;
      }
      PartitionSnapshot snapshot = PartitionSnapshot.parseFrom(copy.content());
      LogStore s = store;
      if (s.logEndOffset() < snapshot.getLogStartOffset() || s.logStartOffset() > snapshot.getLogStartOffset()
          || s.logEndOffset() > snapshot.getNextOffset()) {
        LOG.info("[{}] segment files [{}, {}) do not fit the copied snapshot (log [{}, {})): starting them afresh"
            + " at {}", logPrefix, s.logStartOffset(), s.logEndOffset(), snapshot.getLogStartOffset(),
            snapshot.getNextOffset(), snapshot.getLogStartOffset());
        s.resetTo(snapshot.getLogStartOffset());
      }
      storeSnapshotCopy(copy);
      LOG.info("[{}] starting from the snapshot at {} copied from a peer (log [{}, {})); the records follow",
          logPrefix, copy.at(), snapshot.getLogStartOffset(), snapshot.getNextOffset());
      return copy.at();
    }
  }

  /** Sets who is told when Ratis shuts this replica down as not a member (see notifyServerShutdown). */
  public void onRemovedFromGroup(Runnable listener) {
    this.onRemovedFromGroup = listener;
  }

  /**
   * Ratis 3.2.2 calls this with {@code allServer} false only when the replica shut itself down
   * because an election found it in neither side of its group's configuration: it was removed from
   * the group (a reassignment moved the partition away). Its broker may still have to host the
   * partition, e.g. when it is being added back: it must then start a new replica.
   */
  @Override
  public void notifyServerShutdown(RoleInfoProto roleInfo, boolean allServer) {
    Runnable listener = onRemovedFromGroup;
    if (!allServer && listener != null) {
      LOG.info("[{}] Ratis shut this replica down: it is not in its group's configuration", logPrefix);
      listener.run();
    }
  }

  @Override
  public void close() throws IOException {
    closing = true;
    stopRepair(); // after this the repair thread no longer writes the store
    LogStore s = store;
    if (s != null) {
      s.flush();
      s.close();
    }
    waiters.wakeAll();
    super.close();
  }

  /** Closes and deletes this replica's segment files (the topic was deleted). */
  public void deleteData() throws IOException {
    LogStore s = store;
    if (s != null) {
      s.deleteAll();
    }
  }

  private record AckKey(ClientId clientId, long callId) {}

  /** Per-entry state carried from startTransaction to apply on the leader. */
  private static final class EntryContext {
    /** acks=1 listeners by batch position (null or missing: the batch does not wait for one). */
    final List<LeaderAppendListener> listeners;
    /** Predicted base offset by batch position, -1 when no prediction was made; set at append. */
    long[] predictedBase = new long[0];

    EntryContext(List<LeaderAppendListener> listeners) {
      this.listeners = listeners;
    }

    LeaderAppendListener listener(int index) {
      return index < listeners.size() ? listeners.get(index) : null;
    }

    long predicted(int index) {
      return index < predictedBase.length ? predictedBase[index] : -1;
    }
  }

  /**
   * The leader's view of offsets and producer sequences including entries appended but not yet
   * applied. Valid only once every earlier entry is accounted for; any surprise invalidates it
   * until the apply thread catches up with the log again.
   */
  private final class Speculation {
    /** Bounds the memory of a leader that stays valid for long; a resync starts afresh. */
    private static final int MAX_TRACKED_PRODUCERS = 10_000;
    private volatile boolean valid;
    private long nextOffset;
    private final Map<Long, long[]> producers = new ConcurrentHashMap<>(); // id -> {epoch, lastSeq}

    void invalidate() {
      valid = false;
    }

    void onLeaderAppend(TransactionContext trx, EntryContext ctx) {
      List<BatchHeader> headers = new ArrayList<>();
      try {
        PartitionCommand cmd = ByteStringViews.parseAliased(trx.getStateMachineLogEntry().getLogData(),
            PartitionCommand.parser());
        List<AppendBatch> batches = cmd.getCommandCase() == PartitionCommand.CommandCase.APPEND_BATCHES
            ? cmd.getAppendBatches().getBatchesList() : List.of(cmd.getAppend());
        for (AppendBatch b : batches) {
          // The batch was validated when the broker accepted it; apply checks the CRC again.
          headers.add(RecordBatches.readValidatedHeader(ByteStringViews.readView(b.getRecordBatch())));
        }
      } catch (Exception e) {
        invalidate();
        return;
      }
      ctx.predictedBase = new long[headers.size()];
      java.util.Arrays.fill(ctx.predictedBase, -1);
      if (!valid) {
        resyncIfDrained();
        if (!valid) {
          return;
        }
      }
      // Predict batch by batch, as apply will decide them; stop at the first surprise.
      for (int i = 0; i < headers.size(); i++) {
        BatchHeader header = headers.get(i);
        if (!wouldAppend(header)) {
          // A duplicate, gap or unknown producer: apply will decide. Stop predicting until the apply
          // thread catches up, so a surprise there cannot shift offsets already promised.
          invalidate();
          return;
        }
        if (producers.size() >= MAX_TRACKED_PRODUCERS) {
          invalidate();
          return;
        }
        long base = nextOffset;
        long last = base + header.recordCount() - 1;
        nextOffset = last + 1;
        if (header.isIdempotent()) {
          producers.put(header.producerId(), new long[] {header.producerEpoch(), header.lastSequence()});
        }
        ctx.predictedBase[i] = base;
        LeaderAppendListener listener = ctx.listener(i);
        if (listener != null) {
          listener.appended(base, last);
        }
      }
    }

    /** Safe only when nothing is left to apply: then the applied state is the whole log. */
    private void resyncIfDrained() {
      try {
        RaftServer.Division division = getServer().join().getDivision(getGroupId());
        long lastLogIndex = division.getRaftLog().getLastEntryTermIndex() == null ? -1
            : division.getRaftLog().getLastEntryTermIndex().getIndex();
        TermIndex applied = getLastAppliedTermIndex();
        if (applied != null && applied.getIndex() == lastLogIndex) {
          nextOffset = core.nextOffset();
          producers.clear();
          valid = true;
        }
      } catch (IOException e) {
        invalidate();
      }
    }

    private boolean wouldAppend(BatchHeader h) {
      if (!h.isIdempotent()) {
        return true;
      }
      long[] spec = producers.get(h.producerId());
      long epoch;
      long lastSeq;
      if (spec != null) {
        epoch = spec[0];
        lastSeq = spec[1];
      } else {
        ProducerStateTable.ProducerEntry e = core.producers().get(h.producerId());
        if (e == null) {
          return h.baseSequence() == 0;
        }
        epoch = e.epoch();
        lastSeq = e.batches().isEmpty() ? -1 : e.batches().get(e.batches().size() - 1).lastSequence();
      }
      if (h.producerEpoch() > epoch) {
        return h.baseSequence() == 0;
      }
      return h.producerEpoch() == epoch && lastSeq >= 0
          && h.baseSequence() == (lastSeq == Integer.MAX_VALUE ? 0 : lastSeq + 1);
    }

    void checkPrediction(EntryContext ctx, int index, AppendOutcome outcome) {
      long predictedBase = ctx.predicted(index);
      boolean predicted = predictedBase >= 0;
      if (predicted != outcome.isAppended() || (predicted && predictedBase != outcome.baseOffset())) {
        if (predicted) {
          LOG.warn("[{}] acks=1 offset prediction {} differed from the applied outcome {}", logPrefix,
              predictedBase, outcome);
        }
        invalidate();
      }
    }

    void onForeignApply(AppendOutcome outcome) {
      // Entries from another leader's term, or replayed: speculation has not seen them.
      if (outcome.isAppended()) {
        invalidate();
      }
    }
  }
}
