package io.raftlog.broker.rpc;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.partition.PartitionDescriptor;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.internal.v1.BrokerInternalServiceGrpc;
import io.raftlog.internal.v1.ReadReplicaLogRequest;
import io.raftlog.internal.v1.ReadReplicaSnapshotRequest;
import io.raftlog.internal.v1.ReadReplicaSnapshotResponse;
import io.raftlog.internal.v1.ReadReplicaLogResponse;
import io.raftlog.log.v1.BrokerRecord;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.ratis.ReplicaRepairSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads committed batches of a partition from the other replicas with the internal
 * {@code ReadReplicaLog} RPC: the {@link ReplicaRepairSource} of this broker's replicas.
 *
 * <p>Peers are the other members of the partition's Raft group (from the metadata assignment while
 * the division is not up yet), the leader first since it is the furthest ahead; their addresses come
 * from cluster metadata. A peer whose high watermark is below the end of the range to repair, or
 * that is starting or repairing itself, is skipped.
 *
 * <p>Thread-safe; calls block the calling (repair) thread, which an interrupt releases.
 */
public final class PeerReplicaLogReader implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PeerReplicaLogReader.class);

  private final int brokerId;
  private final MetadataView metadata;
  private final long callTimeoutMs;
  private final int maxInboundBytes;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  /** replica.copy.max.bytes.per.second, over every replica of this broker that copies records. */
  private final ByteRateLimiter copyLimit;
  private volatile boolean closed;

  /**
   * @param maxBatchBytes the largest batch a replica may hold: an answer carries up to
   *     {@link BrokerInternalServiceImpl#MAX_READ_REPLICA_LOG_BYTES} plus one such batch
   */
  public PeerReplicaLogReader(int brokerId, MetadataView metadata, long callTimeoutMs, int maxBatchBytes,
      ByteRateLimiter copyLimit) {
    this.brokerId = brokerId;
    this.copyLimit = copyLimit;
    this.metadata = metadata;
    this.callTimeoutMs = callTimeoutMs;
    this.maxInboundBytes = BrokerInternalServiceImpl.MAX_READ_REPLICA_LOG_BYTES + 2 * maxBatchBytes + 1024 * 1024;
  }

  /** The repair source of one local replica. */
  public ReplicaRepairSource sourceFor(PartitionDescriptor partition, Supplier<RaftServer.Division> division) {
    AtomicInteger rotation = new AtomicInteger();
    return new ReplicaRepairSource() {
      @Override
      public ByteBuffer read(long fromOffset, long untilOffset, int maxBytes) throws IOException, InterruptedException {
        return PeerReplicaLogReader.this.read(partition, division, rotation, fromOffset, untilOffset, maxBytes);
      }

      @Override
      public SnapshotCopy latestSnapshot(long minIndex) throws IOException, InterruptedException {
        return PeerReplicaLogReader.this.latestSnapshot(partition, division, rotation, minIndex);
      }
    };
  }

  private ReplicaRepairSource.SnapshotCopy latestSnapshot(PartitionDescriptor partition,
      Supplier<RaftServer.Division> division, AtomicInteger rotation, long minIndex)
      throws IOException, InterruptedException {
    ReadReplicaSnapshotRequest request = ReadReplicaSnapshotRequest.newBuilder().setTopic(partition.topic())
        .setTopicId(partition.topicId()).setPartition(partition.partition()).build();
    return askPeers(partition, division, rotation, "a snapshot at index " + minIndex + " or later",
        (peer, stub, problems) -> {
          ReadReplicaSnapshotResponse answer = stub.readReplicaSnapshot(request);
          if (answer.getIndex() < minIndex) {
            problems.add("broker " + peer + ": its snapshot is at index " + answer.getIndex() + " < " + minIndex);
            return null;
          }
          LOG.info("[broker-{}] copied the snapshot of {}-{} at (t:{}, i:{}) from broker {}", brokerId,
              partition.topic(), partition.partition(), answer.getTerm(), answer.getIndex(), peer);
          return new ReplicaRepairSource.SnapshotCopy(TermIndex.valueOf(answer.getTerm(), answer.getIndex()),
              answer.getSnapshot().toByteArray());
        });
  }

  private ByteBuffer read(PartitionDescriptor partition, Supplier<RaftServer.Division> division,
      AtomicInteger rotation, long fromOffset, long untilOffset, int maxBytes)
      throws IOException, InterruptedException {
    ReadReplicaLogRequest request = ReadReplicaLogRequest.newBuilder().setTopic(partition.topic())
        .setTopicId(partition.topicId()).setPartition(partition.partition()).setOffset(fromOffset)
        .setMaxBytes(maxBytes).build();
    ByteBuffer records = askPeers(partition, division, rotation, "[" + fromOffset + ", " + untilOffset + ")",
        (peer, stub, problems) -> {
          ReadReplicaLogResponse answer = stub.readReplicaLog(request);
          if (answer.getHighWatermark() < untilOffset) {
            problems.add("broker " + peer + ": high watermark " + answer.getHighWatermark() + " < " + untilOffset);
            return null;
          }
          LOG.debug("[broker-{}] read {} bytes of {}-{} from offset {} on broker {}", brokerId,
              answer.getRecordBatches().size(), partition.topic(), partition.partition(), fromOffset, peer);
          return answer.getRecordBatches().asReadOnlyByteBuffer();
        });
    copyLimit.copied(records.remaining());
    return records;
  }

  /** One call to one peer: its answer, or null (with the reason added to {@code problems}) to try the next. */
  @FunctionalInterface
  private interface PeerCall<T> {
    T call(int peer, BrokerInternalServiceGrpc.BrokerInternalServiceBlockingStub stub, List<String> problems);
  }

  /** Asks the other replicas in turn (leader first) until one has what is wanted. */
  private <T> T askPeers(PartitionDescriptor partition, Supplier<RaftServer.Division> division,
      AtomicInteger rotation, String wanted, PeerCall<T> call) throws IOException, InterruptedException {
    String what = partition.topic() + "-" + partition.partition();
    if (closed) {
      throw new IOException("broker " + brokerId + " is shutting down");
    }
    List<Integer> peers = peers(partition, division, rotation.getAndIncrement());
    if (peers.isEmpty()) {
      throw new IOException("no other replica of " + what + " is known yet (metadata not caught up?)");
    }
    List<String> problems = new ArrayList<>();
    for (int peer : peers) {
      Optional<BrokerRecord> broker = metadata.broker(peer);
      if (broker.isEmpty()) {
        problems.add("broker " + peer + ": address unknown");
        continue;
      }
      try {
        T answer = call.call(peer, BrokerInternalServiceGrpc.newBlockingStub(channel(broker.get()))
            .withDeadlineAfter(callTimeoutMs, TimeUnit.MILLISECONDS), problems);
        if (answer != null) {
          return answer;
        }
      } catch (StatusRuntimeException e) {
        if (Thread.currentThread().isInterrupted()) {
          throw new InterruptedException("copy of " + wanted + " of " + what + " interrupted");
        }
        problems.add("broker " + peer + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      }
    }
    throw new IOException("no other replica could serve " + wanted + " of " + what + ": " + problems);
  }

  /**
   * Other replicas' broker ids: the leader first, then the others starting at a rotating index.
   * Members are the group's configuration and the metadata assignment's current and target replicas:
   * a replica joining through a reassignment has no configuration until the leader sends one.
   */
  private List<Integer> peers(PartitionDescriptor partition, Supplier<RaftServer.Division> division, int rotation) {
    Set<Integer> memberSet = new LinkedHashSet<>();
    int leader = -1;
    RaftServer.Division d = division.get();
    if (d != null) {
      for (RaftPeer p : d.getGroup().getPeers()) {
        memberSet.add(GroupIds.brokerId(p.getId()));
      }
      RaftPeerId leaderId = d.getInfo().getLeaderId();
      leader = leaderId == null ? -1 : GroupIds.brokerId(leaderId);
    }
    metadata.topicById(partition.topicId()).map(TopicRecord::getAssignmentsList)
        .filter(a -> partition.partition() < a.size())
        .ifPresent(a -> {
          memberSet.addAll(a.get(partition.partition()).getReplicasList());
          memberSet.addAll(a.get(partition.partition()).getTargetReplicasList());
        });
    List<Integer> members = new ArrayList<>(memberSet);
    members.removeIf(id -> id == brokerId);
    Set<Integer> ordered = new LinkedHashSet<>();
    if (leader >= 0 && leader != brokerId) {
      ordered.add(leader);
    }
    for (int i = 0; i < members.size(); i++) {
      ordered.add(members.get(Math.floorMod(rotation + i, members.size())));
    }
    return List.copyOf(ordered);
  }

  private ManagedChannel channel(BrokerRecord b) {
    return channels.computeIfAbsent(b.getHost() + ":" + b.getPort(), addr -> NettyChannelBuilder
        .forAddress(b.getHost(), b.getPort()).usePlaintext().maxInboundMessageSize(maxInboundBytes).build());
  }

  @Override
  public void close() {
    closed = true;
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
