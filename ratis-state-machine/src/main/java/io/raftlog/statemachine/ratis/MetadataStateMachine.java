package io.raftlog.statemachine.ratis;

import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataQuery;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.MetadataSnapshotCopy;
import io.raftlog.statemachine.group.ConsumerGroups;
import io.raftlog.statemachine.metadata.MetadataState;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
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
 * The Ratis adapter of the metadata group (the "controller", like Kafka's KRaft quorum): applies
 * {@link MetadataCommand}s to a {@link MetadataState} and tells listeners about each new image.
 * A read-only query returns the whole image (for brokers that are not voters), or the latest
 * snapshot (for a voter that lost its data).
 */
public final class MetadataStateMachine extends SnapshottingStateMachine {

  private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);

  private final List<Consumer<MetadataImage>> listeners = new CopyOnWriteArrayList<>();
  private volatile MetadataState state = new MetadataState();
  private final Consumer<Throwable> onFatalError;
  /** Set when the applied state was found diverged: nothing more is applied or snapshotted. */
  private volatile boolean diverged;
  private final ReplicaRepairSource peerSnapshots;
  private volatile boolean closed;

  /**
   * @param snapshotEveryEntries see {@link SnapshottingStateMachine}
   * @param onFatalError called once when the applied state is found diverged from the other
   *     voters (see {@link #truncate}); the broker halts
   */
  public MetadataStateMachine(String logPrefix, long snapshotEveryEntries, Consumer<Throwable> onFatalError) {
    this(logPrefix, snapshotEveryEntries, onFatalError, null);
  }

  /**
   * @param peerSnapshots where a voter that is behind the leader's log start copies the leader's
   *     latest snapshot from ({@code latestSnapshot} only); null: such a voter cannot catch up
   */
  public MetadataStateMachine(String logPrefix, long snapshotEveryEntries, Consumer<Throwable> onFatalError,
      ReplicaRepairSource peerSnapshots) {
    super(logPrefix, snapshotEveryEntries);
    this.peerSnapshots = peerSnapshots;
    this.onFatalError = onFatalError;
  }

  @Override
  protected void onDiverged(IllegalStateException problem) {
    diverged = true;
    onFatalError.accept(problem);
  }

  /** Listeners run on the apply thread after each applied command; keep them short. */
  public void addListener(Consumer<MetadataImage> listener) {
    listeners.add(listener);
  }

  public MetadataImage image() {
    return state.image();
  }

  @Override
  protected void open() {
    // The metadata image lives only in the snapshot and the Raft log.
  }

  @Override
  protected void restore(byte[] bytes, TermIndex at) throws IOException {
    if (bytes == null) {
      state = new MetadataState();
      return;
    }
    state = new MetadataState(MetadataImage.parseFrom(bytes));
    LOG.info("[{}] loaded metadata snapshot at index {}: {} brokers, {} topics", logPrefix,
        state.image().getAppliedIndex(), state.image().getBrokersCount(), state.image().getTopicsCount());
    fire();
  }

  @Override
  protected byte[] snapshotContent() throws IOException {
    if (diverged) {
      throw new IOException(logPrefix + ": no snapshot: the applied state diverged from the other voters");
    }
    return state.snapshotImage().toByteArray();
  }

  /** Consumer groups as applied by this replica (current on the metadata leader). */
  public ConsumerGroups groups() {
    return state.groups();
  }

  /**
   * Rejects, before the log, a request that is not a metadata command: apply could not parse it.
   * (An unknown command case is left to apply, which answers METADATA_INVALID on every voter.)
   */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    try {
      MetadataCommand cmd = RequestContent.parse(request.getMessage().getContent(), MetadataCommand.parser());
      if (cmd.getCommandCase() == MetadataCommand.CommandCase.COMMAND_NOT_SET) {
        throw new IOException("no metadata command");
      }
    } catch (IOException e) {
      return RequestContent.refused(this, request, logPrefix, e);
    }
    return super.startTransaction(request);
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto handed = trx.getLogEntry();
    if (diverged) {
      return CompletableFuture.failedFuture(new IOException(logPrefix + ": the applied state diverged; not applying"));
    }
    LogEntryProto replacement;
    try {
      replacement = committedEntries.replacement(TermIndex.valueOf(handed));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e); // closing
    }
    if (replacement == null) {
      return apply(handed);
    }
    // Ratis records this under the handed (never committed) entry's call: not a success.
    IOException notCommitted = CommittedEntryGuard.replaced(logPrefix, TermIndex.valueOf(handed), replacement);
    if (replacement.hasStateMachineLogEntry()) {
      return apply(replacement).thenCompose(m -> CompletableFuture.failedFuture(notCommitted));
    }
    super.notifyTermIndexUpdated(replacement.getTerm(), replacement.getIndex());
    return CompletableFuture.failedFuture(notCommitted);
  }

  /** Configuration and no-op entries: checked like the others (see {@link CommittedEntryGuard}). */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    LogEntryProto replacement;
    try {
      replacement = committedEntries.replacement(TermIndex.valueOf(term, index));
    } catch (IOException e) {
      return; // closing
    }
    if (replacement == null) {
      super.notifyTermIndexUpdated(term, index);
    } else if (replacement.hasStateMachineLogEntry()) {
      if (!diverged) {
        apply(replacement);
      }
    } else {
      super.notifyTermIndexUpdated(replacement.getTerm(), replacement.getIndex());
    }
  }

  private CompletableFuture<Message> apply(LogEntryProto entry) {
    try {
      MetadataCommand cmd = MetadataCommand.parseFrom(
          entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
      MetadataImage before = state.image();
      MetadataReply reply = state.apply(cmd, entry.getIndex());
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      afterApply(TermIndex.valueOf(entry));
      logApplied(cmd, entry.getIndex(), reply);
      if (state.image() != before) {
        fire();
      }
      return CompletableFuture.completedFuture(
          Message.valueOf(UnsafeByteOperations.unsafeWrap(reply.toByteString().asReadOnlyByteBuffer())));
    } catch (Exception e) {
      LOG.error("[{}] FATAL: cannot apply metadata entry {}", logPrefix, TermIndex.valueOf(entry), e);
      return CompletableFuture.failedFuture(e);
    }
  }


  private void logApplied(MetadataCommand cmd, long index, MetadataReply reply) {
    switch (cmd.getCommandCase()) {
      case BROKER_HEARTBEAT, GROUP_COMMIT_OFFSETS -> LOG.debug("[{}] applied {} at index {}: {}", logPrefix,
          cmd.getCommandCase(), index, reply.getStatus());
      case GROUP_JOIN, GROUP_LEAVE, GROUP_MEMBER_UPDATE -> LOG.info("[{}] applied {} at index {}: {}{}", logPrefix,
          cmd.getCommandCase(), index, reply.getStatus(), reply.hasGroup()
              ? " (group " + reply.getGroup().getGroupId() + " epoch " + reply.getGroup().getGroupEpoch() + ", "
                  + reply.getGroup().getMembersCount() + " members)" : "");
      default -> LOG.info("[{}] applied {} at index {}: {}", logPrefix, cmd.getCommandCase(), index,
          reply.getStatus());
    }
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    MetadataQuery q;
    try {
      q = MetadataQuery.parseFrom(request.getContent().asReadOnlyByteBuffer());
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new IOException(logPrefix + ": unreadable metadata query", e));
    }
    if (!q.getLatestSnapshot()) {
      return CompletableFuture.completedFuture(
          Message.valueOf(UnsafeByteOperations.unsafeWrap(state.image().toByteString().asReadOnlyByteBuffer())));
    }
    try {
      ReplicaRepairSource.SnapshotCopy copy = latestSnapshotCopy()
          .orElseThrow(() -> new IOException(logPrefix + ": no metadata snapshot taken yet"));
      return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(
          MetadataSnapshotCopy.newBuilder().setTerm(copy.at().getTerm()).setIndex(copy.at().getIndex())
              .setContent(com.google.protobuf.ByteString.copyFrom(copy.content()))
              .build().toByteArray())));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * This voter is behind the leader's log start (it lost its data directory, or the leader purged
   * past it while it was down): it copies the leader's latest snapshot ({@link #peerSnapshots}),
   * stores it as its own, and Ratis reloads the state machine from it; the entries after follow
   * from the leader's log.
   */
  @Override
  public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(RoleInfoProto roleInfo,
      TermIndex firstTermIndexInLog) {
    if (peerSnapshots == null) {
      return super.notifyInstallSnapshotFromLeader(roleInfo, firstTermIndexInLog);
    }
    long minIndex = firstTermIndexInLog == null ? 0 : firstTermIndexInLog.getIndex() - 1;
    return copyStateInBackground(() -> {
      LOG.warn("[{}] the leader's metadata log starts at {}, past what this voter holds (applied {}): copying the"
          + " leader's latest metadata snapshot", logPrefix, firstTermIndexInLog, getLastAppliedTermIndex());
      return copyFromLeader(minIndex);
    });
  }

  private TermIndex copyFromLeader(long minIndex) throws IOException, InterruptedException {
    while (true) {
      if (closed) {
        throw new IOException(logPrefix + ": closing while copying the leader's metadata snapshot");
      }
      ReplicaRepairSource.SnapshotCopy copy;
      try {
        copy = peerSnapshots.latestSnapshot(minIndex);
        MetadataImage.parseFrom(copy.content()); // checked before it becomes this voter's state
      } catch (IOException e) {
        LOG.info("[{}] no metadata snapshot at index {} or later to copy yet ({}); retrying in 1 s", logPrefix,
            minIndex, e.getMessage());
        Thread.sleep(1000); // waiting for the leader to have one, not synchronizing threads
        continue;
      }
      if (copy.at().getIndex() < minIndex) {
        LOG.info("[{}] the leader's metadata snapshot at {} is older than {}; retrying in 1 s", logPrefix,
            copy.at(), minIndex);
        Thread.sleep(1000);
        continue;
      }
      storeSnapshotCopy(copy);
      LOG.info("[{}] copied the leader's metadata snapshot at {}; the log follows", logPrefix, copy.at());
      return copy.at();
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    super.close();
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId memberId, RaftPeerId newLeaderId) {
    LOG.info("[{}] metadata leader is now {}", logPrefix, newLeaderId);
  }

  private void fire() {
    MetadataImage image = state.image();
    for (Consumer<MetadataImage> l : listeners) {
      try {
        l.accept(image);
      } catch (RuntimeException e) {
        LOG.error("[{}] metadata listener failed", logPrefix, e);
      }
    }
  }
}
