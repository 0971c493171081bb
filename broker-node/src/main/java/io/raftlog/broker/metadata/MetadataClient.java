package io.raftlog.broker.metadata;

import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.raft.RaftClients;
import io.raftlog.broker.raft.RenewingRaftClient;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataQuery;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.MetadataSnapshotCopy;
import io.raftlog.statemachine.ratis.ReplicaRepairSource;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/** Proposes commands to the metadata Raft group and queries its image, from any broker. */
public final class MetadataClient implements AutoCloseable {

  private final Clock clock;
  private final RenewingRaftClient client;

  public MetadataClient(BrokerConfig config, Clock clock) {
    this.clock = clock;
    List<RaftPeer> peers = config.metadataVoters.stream()
        .map(v -> RaftPeer.newBuilder().setId(GroupIds.peerId(v.brokerId())).setAddress(v.host() + ":" + v.raftPort()).build())
        .toList();
    RaftGroup group = RaftGroup.valueOf(GroupIds.METADATA, peers);
    this.client = new RenewingRaftClient("metadata client of broker " + config.brokerId,
        () -> RaftClients.create(group, 16 * 1024 * 1024));
  }

  /** A reply and the metadata log index of the command. */
  public record Applied(MetadataReply reply, long logIndex) {}

  /** Stamps the command with this broker's clock and proposes it; completes after commit and apply. */
  public CompletableFuture<MetadataReply> submit(MetadataCommand.Builder command) {
    return submitWithIndex(command).thenApply(Applied::reply);
  }

  /** Like {@link #submit}, also telling at which log index the command was committed. */
  public CompletableFuture<Applied> submitWithIndex(MetadataCommand.Builder command) {
    MetadataCommand cmd = command.setTimestampMs(clock.millis()).build();
    return client.send(Message.valueOf(UnsafeByteOperations.unsafeWrap(cmd.toByteArray())))
        .thenApply(reply -> {
          if (!reply.isSuccess()) {
            throw new MetadataUnavailableException("metadata group: " + reply.getException(), reply.getException());
          }
          try {
            return new Applied(MetadataReply.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer()),
                reply.getLogIndex());
          } catch (IOException e) {
            throw new MetadataUnavailableException("unreadable metadata reply", e);
          }
        });
  }

  /** Reads the current image from the metadata leader (linearizable read). */
  public CompletableFuture<MetadataImage> fetchImage() {
    return client.sendReadOnly(Message.valueOf(UnsafeByteOperations.unsafeWrap(
            MetadataQuery.getDefaultInstance().toByteArray())))
        .thenApply(reply -> {
          try {
            return MetadataImage.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
          } catch (IOException e) {
            throw new MetadataUnavailableException("unreadable metadata image", e);
          }
        });
  }

  /**
   * The metadata leader's latest snapshot, for a voter that lost its data ({@code
   * MetadataStateMachine}); blocks the calling thread.
   */
  public ReplicaRepairSource.SnapshotCopy fetchLatestSnapshot() throws IOException {
    try {
      var reply = client.sendReadOnly(Message.valueOf(UnsafeByteOperations.unsafeWrap(
          MetadataQuery.newBuilder().setLatestSnapshot(true).build().toByteArray()))).get();
      if (!reply.isSuccess()) {
        throw new IOException("metadata leader: " + reply.getException(), reply.getException());
      }
      MetadataSnapshotCopy copy = MetadataSnapshotCopy.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
      return new ReplicaRepairSource.SnapshotCopy(TermIndex.valueOf(copy.getTerm(), copy.getIndex()),
          copy.getContent().toByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while asking the metadata leader for its snapshot", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IOException("cannot read the metadata leader's snapshot: " + e.getCause(), e.getCause());
    }
  }

  /** The metadata leader as last seen by this client, or null. */
  public RaftPeerId leaderHint() {
    return client.leaderId();
  }

  @Override
  public void close() throws IOException {
    client.close();
  }

  /** The metadata group could not be reached or answered with an error. */
  public static final class MetadataUnavailableException extends RuntimeException {
    public MetadataUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
