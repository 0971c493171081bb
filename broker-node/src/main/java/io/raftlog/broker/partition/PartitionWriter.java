package io.raftlog.broker.partition;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.broker.BrokerException;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.raft.RaftHost;
import io.raftlog.log.v1.AppendBatch;
import io.raftlog.log.v1.AppendBatches;
import io.raftlog.log.v1.AppendBatchesReply;
import io.raftlog.log.v1.AppendReply;
import io.raftlog.log.v1.PartitionCommand;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.ratis.LeaderAppendListener;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proposes record batches to partition Raft groups and waits for the requested acks.
 *
 * <ul>
 *   <li>Local leader: the batch goes through the replica's {@link GroupCommitQueue} and is
 *       submitted to the in-process Raft server (no network hop), alone when the partition is
 *       idle, or with the batches that waited while earlier entries committed (group commit: one
 *       {@code AppendBatches} entry). acks=1 completes when the leader appended the entry to its log
 *       (see {@link PartitionStateMachine}), acks=all when it is committed and applied.
 *   <li>Otherwise: the broker's Ratis client forwards to the leader. acks=1 is then answered at
 *       commit, like acks=all, because the leader's append event is not visible remotely. The SDK
 *       sends to leaders, so this only concerns other clients.
 *   <li>acks=0: answered once the batch is handed to Raft; failures are only logged.
 * </ul>
 */
public final class PartitionWriter {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionWriter.class);
  /** How long a partition's queue waits for one entry before it proposes the next anyway. */
  private static final long STUCK_ENTRY_MS = 120_000;
  /**
   * Longest a just-elected leader's entries wait for it to be ready (it commits an entry of its
   * term first, usually within tens of milliseconds); then Ratis answers them, not ready or not.
   */
  static final long LEADER_READY_WAIT_MS = 1000;

  private final Clock clock;
  private final RaftHost host;
  private final PartitionManager partitions;
  private final MetadataView metadata;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final int maxInFlightEntries;
  private final int maxGroupBytes;
  /** Runs entry completions: answers, and proposing what waited (never on Ratis' own threads). */
  private final Executor completions;
  /** Polls a just-elected leader's readiness ({@link LeaderReadyGate}). */
  private final ScheduledExecutorService timers;

  /**
   * @param maxInFlightEntries Raft entries per partition proposed and not yet finished before
   *     further batches wait to be grouped
   * @param maxGroupBytes most record batch bytes one grouped entry carries
   */
  public PartitionWriter(RaftHost host, PartitionManager partitions, MetadataView metadata, Clock clock,
      int maxInFlightEntries, int maxGroupBytes, Executor completions, ScheduledExecutorService timers) {
    this.clock = clock;
    this.host = host;
    this.partitions = partitions;
    this.metadata = metadata;
    this.maxInFlightEntries = maxInFlightEntries;
    this.maxGroupBytes = maxGroupBytes;
    this.completions = completions;
    this.timers = timers;
  }

  /** A batch waiting in a partition's group commit queue, with the answer its produce waits for. */
  public record PendingAppend(AppendBatch batch, Acks acks, String what, CompletableFuture<Long> answer) {
    int size() {
      return batch.getRecordBatch().size();
    }
  }

  /**
   * Appends one record batch (v2, base offset 0) to a partition. {@code batch} is embedded in the
   * Raft entry as is (its bytes are copied once, when the entry is serialized).
   *
   * @param forward when this broker does not lead the partition: true forwards the batch to the
   *     leader through the broker's Ratis client; false answers NOT_LEADER at once. Ordered
   *     streams use false: a forwarded batch could otherwise be overtaken by a later batch of the
   *     same stream submitted locally after a leadership change.
   * @return the base offset assigned to the batch, or -1 for acks=0; fails with {@link BrokerException}
   */
  public CompletableFuture<Long> append(TopicRecord topic, int partition, ByteString batch, Acks acks, long timeoutMs,
      boolean forward) {
    String what = "produce to " + topic.getName() + "-" + partition;
    AppendBatch append = AppendBatch.newBuilder().setRecordBatch(batch).setProposedAtMs(clock.millis()).build();
    Optional<PartitionReplica> local = partitions.replica(topic.getTopicId(), partition);
    CompletableFuture<Long> result;
    try {
      if (local.isPresent() && local.get().isLeader()) {
        result = new CompletableFuture<>();
        PartitionReplica replica = local.get();
        replica.appendQueue(() -> new GroupCommitQueue<>(maxInFlightEntries, maxGroupBytes, PendingAppend::size,
                (group, finished) -> propose(replica, group, finished)))
            .offer(new PendingAppend(append, acks, what, result));
      } else if (!forward) {
        int leader = local.map(PartitionReplica::leaderId).orElse(-1);
        return CompletableFuture.failedFuture(new BrokerException(ErrorCode.NOT_LEADER, what
            + ": this broker does not lead the partition" + (leader >= 0 ? "; the leader is broker " + leader : ""),
            leader));
      } else {
        Message message = Message.valueOf(UnsafeByteOperations.unsafeWrap(
            PartitionCommand.newBuilder().setAppend(append).build().toByteArray()));
        result = partitions.clientFor(topic, partition, metadata.image()).send(message).thenApply(reply -> decode(reply, what));
      }
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(RaftErrors.fromThrowable(e, what));
    }
    if (acks == Acks.ACKS_NONE) {
      result.whenComplete((offset, error) -> {
        if (error != null) {
          LOG.debug("acks=0 {} failed: {}", what, error.toString());
        }
      });
      return CompletableFuture.completedFuture(-1L);
    }
    return result.orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .exceptionallyCompose(e -> CompletableFuture.failedFuture(RaftErrors.fromThrowable(e, what)));
  }

  /**
   * Submits one group (one batch, or several as AppendBatches) to the local Raft server; called by
   * the replica's queue under its lock, so it only hands the entry over (to Ratis, or to the
   * replica's {@link LeaderReadyGate} while a just-elected leader is not ready; the gate keeps the
   * queue's order). Every batch's answer is completed, and {@code finished} run, on {@link #completions}.
   */
  private void propose(PartitionReplica replica, List<PendingAppend> group, Runnable finished) {
    PartitionCommand.Builder command = PartitionCommand.newBuilder();
    if (group.size() == 1) {
      command.setAppend(group.get(0).batch());
    } else {
      AppendBatches.Builder batches = AppendBatches.newBuilder();
      group.forEach(p -> batches.addBatches(p.batch()));
      command.setAppendBatches(batches);
    }
    long callId = callIds.incrementAndGet();
    PartitionStateMachine sm = replica.stateMachine();
    List<LeaderAppendListener> listeners = new ArrayList<>(group.size());
    for (PendingAppend p : group) {
      listeners.add(p.acks() == Acks.ACKS_LEADER ? (base, last) -> p.answer().complete(base) : null);
    }
    Runnable submit = () -> {
      CompletableFuture<RaftClientReply> reply;
      try {
        RaftClientRequest request = RaftClientRequest.newBuilder()
            .setClientId(clientId)
            .setServerId(host.server().getId())
            .setGroupId(replica.groupId())
            .setCallId(callId)
            .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(command.build().toByteArray())))
            .setType(RaftClientRequest.writeRequestType())
            .build();
        sm.expectLeaderAppends(clientId, callId, listeners);
        reply = host.server().submitClientRequestAsync(request);
      } catch (IOException | RuntimeException e) {
        reply = CompletableFuture.failedFuture(e);
      }
      // Ratis completes every request (commit, step-down, close); should one never finish, the
      // partition's later batches must not wait behind it for ever (their answers time out anyway).
      reply.copy().orTimeout(STUCK_ENTRY_MS, TimeUnit.MILLISECONDS).whenCompleteAsync((r, e) -> {
        sm.forgetLeaderAppend(clientId, callId);
        try {
          answer(group, r, e);
        } finally {
          finished.run();
        }
      }, completions);
    };
    // Just elected: wait for the leader to be ready rather than have Ratis refuse the entry.
    replica.readyGate(() -> new LeaderReadyGate(replica.raftLeadership(),
        (task, delayNanos) -> timers.schedule(task, delayNanos, TimeUnit.NANOSECONDS), System::nanoTime,
        LEADER_READY_WAIT_MS)).submit(submit);
  }

  private static void answer(List<PendingAppend> group, RaftClientReply reply, Throwable error) {
    if (error == null && !reply.isSuccess()) {
      error = RaftErrors.fromReply(reply, group.get(0).what());
    }
    if (error != null) {
      for (PendingAppend p : group) {
        p.answer().completeExceptionally(error);
      }
      return;
    }
    List<AppendReply> replies;
    try {
      replies = group.size() == 1
          ? List.of(AppendReply.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer()))
          : AppendBatchesReply.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer()).getRepliesList();
    } catch (IOException e) {
      replies = List.of();
    }
    for (int i = 0; i < group.size(); i++) {
      PendingAppend p = group.get(i);
      if (i >= replies.size()) {
        p.answer().completeExceptionally(new BrokerException(ErrorCode.UNKNOWN_SERVER_ERROR, p.what()
            + ": unreadable state machine reply"));
        continue;
      }
      try {
        p.answer().complete(decode(replies.get(i), p.what()));
      } catch (BrokerException be) {
        p.answer().completeExceptionally(be);
      }
    }
  }

  static long decode(RaftClientReply reply, String what) {
    if (!reply.isSuccess()) {
      throw RaftErrors.fromReply(reply, what);
    }
    AppendReply r;
    try {
      r = AppendReply.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
    } catch (IOException e) {
      throw new BrokerException(ErrorCode.UNKNOWN_SERVER_ERROR, what + ": unreadable state machine reply");
    }
    return decode(r, what);
  }

  private static long decode(AppendReply r, String what) {
    return switch (r.getStatus()) {
      case APPEND_OK, APPEND_DUPLICATE -> r.getBaseOffset();
      case APPEND_OUT_OF_ORDER_SEQUENCE -> throw new BrokerException(ErrorCode.OUT_OF_ORDER_SEQUENCE, what + ": " + r.getMessage());
      case APPEND_INVALID_PRODUCER_EPOCH -> throw new BrokerException(ErrorCode.INVALID_PRODUCER_EPOCH, what + ": " + r.getMessage());
      case APPEND_INVALID_BATCH -> throw new BrokerException(ErrorCode.CORRUPT_RECORD, what + ": " + r.getMessage());
      case APPEND_UNKNOWN_PRODUCER_ID -> throw new BrokerException(ErrorCode.UNKNOWN_PRODUCER_ID, what + ": " + r.getMessage());
      default -> throw new BrokerException(ErrorCode.UNKNOWN_SERVER_ERROR, what + ": unknown append status " + r.getStatus());
    };
  }
}
