package io.raftlog.broker.partition;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.broker.BrokerException;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.raft.RaftHost;
import io.raftlog.log.v1.AppendBatch;
import io.raftlog.log.v1.AppendReply;
import io.raftlog.log.v1.PartitionCommand;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import java.io.IOException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
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
 *   <li>Local leader: the request is submitted to the in-process Raft server (no network hop);
 *       acks=1 completes when the leader appended the entry to its log (see
 *       {@link PartitionStateMachine}), acks=all when it is committed and applied.
 *   <li>Otherwise: the broker's Ratis client forwards to the leader. acks=1 is then answered at
 *       commit, like acks=all, because the leader's append event is not visible remotely. The SDK
 *       sends to leaders, so this only concerns other clients.
 *   <li>acks=0: answered once the batch is handed to Raft; failures are only logged.
 * </ul>
 */
public final class PartitionWriter {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionWriter.class);

  private final Clock clock;
  private final RaftHost host;
  private final PartitionManager partitions;
  private final MetadataView metadata;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();

  public PartitionWriter(RaftHost host, PartitionManager partitions, MetadataView metadata, Clock clock) {
    this.clock = clock;
    this.host = host;
    this.partitions = partitions;
    this.metadata = metadata;
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
    byte[] command = PartitionCommand.newBuilder()
        .setAppend(AppendBatch.newBuilder().setRecordBatch(batch)
            .setProposedAtMs(clock.millis())).build().toByteArray();
    Message message = Message.valueOf(UnsafeByteOperations.unsafeWrap(command));
    Optional<PartitionReplica> local = partitions.replica(topic.getTopicId(), partition);
    CompletableFuture<Long> result;
    try {
      if (local.isPresent() && local.get().isLeader()) {
        result = submitLocal(local.get(), message, acks, what);
      } else if (!forward) {
        int leader = local.map(PartitionReplica::leaderId).orElse(-1);
        return CompletableFuture.failedFuture(new BrokerException(ErrorCode.NOT_LEADER, what
            + ": this broker does not lead the partition" + (leader >= 0 ? "; the leader is broker " + leader : ""),
            leader));
      } else {
        result = partitions.clientFor(topic, partition, metadata.image()).send(message).thenApply(reply -> decode(reply, what));
      }
    } catch (IOException | RuntimeException e) {
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

  private CompletableFuture<Long> submitLocal(PartitionReplica replica, Message message, Acks acks, String what)
      throws IOException {
    long callId = callIds.incrementAndGet();
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(host.server().getId())
        .setGroupId(replica.groupId())
        .setCallId(callId)
        .setMessage(message)
        .setType(RaftClientRequest.writeRequestType())
        .build();
    PartitionStateMachine sm = replica.stateMachine();
    CompletableFuture<Long> answer = new CompletableFuture<>();
    if (acks == Acks.ACKS_LEADER) {
      sm.expectLeaderAppend(clientId, callId, (base, last) -> answer.complete(base));
    }
    CompletableFuture<RaftClientReply> reply;
    try {
      reply = host.server().submitClientRequestAsync(request);
    } catch (IOException | RuntimeException e) {
      sm.forgetLeaderAppend(clientId, callId);
      throw e;
    }
    reply.whenComplete((r, e) -> {
      sm.forgetLeaderAppend(clientId, callId);
      if (e != null) {
        answer.completeExceptionally(e);
        return;
      }
      try {
        answer.complete(decode(r, what));
      } catch (BrokerException be) {
        answer.completeExceptionally(be);
      }
    });
    return answer;
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
