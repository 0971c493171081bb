package io.raftlog.broker.rpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.partition.PartitionManager;
import io.raftlog.broker.partition.PartitionReplica;
import io.raftlog.broker.raft.ElectionSuccessor;
import io.raftlog.internal.v1.BrokerInternalServiceGrpc;
import io.raftlog.internal.v1.DescribeLocalReplicasRequest;
import io.raftlog.internal.v1.DescribeLocalReplicasResponse;
import io.raftlog.internal.v1.GroupLastEntry;
import io.raftlog.internal.v1.LastLogEntriesRequest;
import io.raftlog.internal.v1.LastLogEntriesResponse;
import io.raftlog.internal.v1.ReadReplicaLogRequest;
import io.raftlog.internal.v1.ReadReplicaSnapshotRequest;
import io.raftlog.internal.v1.ReadReplicaLogResponse;
import io.raftlog.internal.v1.ReadReplicaSnapshotResponse;
import io.raftlog.internal.v1.WatchPeerEvent;
import io.raftlog.internal.v1.WatchPeerRequest;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.codec.RecordBatches;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import io.raftlog.statemachine.ratis.ReplicaRepairSource;
import io.raftlog.statemachine.store.OffsetOutOfRangeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers other brokers' questions about the replicas hosted here. */
public final class BrokerInternalServiceImpl extends BrokerInternalServiceGrpc.BrokerInternalServiceImplBase {

  private static final Logger LOG = LoggerFactory.getLogger(BrokerInternalServiceImpl.class);
  /** Cap of one ReadReplicaLog answer (a single larger batch still goes out whole). */
  public static final int MAX_READ_REPLICA_LOG_BYTES = 8 * 1024 * 1024;

  private final int brokerId;
  private final ReplicaStates states;
  private final PartitionManager partitions;
  private final MetadataView metadata;
  /** Other brokers' open WatchPeer streams, completed when this broker shuts down. */
  private final Set<ServerCallStreamObserver<WatchPeerEvent>> watchers = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;
  private final String instanceId = java.util.UUID.randomUUID().toString();

  /** The last entry of this broker's Raft log of a group, if it hosts one with a non-empty log. */
  private final Function<UUID, Optional<ElectionSuccessor.LastEntry>> lastLogEntry;

  public BrokerInternalServiceImpl(int brokerId, ReplicaStates states, PartitionManager partitions,
      MetadataView metadata, Function<UUID, Optional<ElectionSuccessor.LastEntry>> lastLogEntry) {
    this.brokerId = brokerId;
    this.states = states;
    this.partitions = partitions;
    this.metadata = metadata;
    this.lastLogEntry = lastLogEntry;
  }

  /** For a survivor of a gone leader choosing who starts the election (raft.LeaderGoneElections). */
  @Override
  public void lastLogEntries(LastLogEntriesRequest request, StreamObserver<LastLogEntriesResponse> response) {
    LastLogEntriesResponse.Builder out = LastLogEntriesResponse.newBuilder().setBrokerId(brokerId);
    for (String id : request.getGroupIdsList()) {
      UUID group;
      try {
        group = UUID.fromString(id);
      } catch (IllegalArgumentException e) {
        response.onError(Status.INVALID_ARGUMENT.withDescription("group id '" + id + "' is not a UUID")
            .asRuntimeException());
        return;
      }
      lastLogEntry.apply(group).ifPresent(e -> out.addEntries(GroupLastEntry.newBuilder().setGroupId(id)
          .setTerm(e.term()).setIndex(e.index())));
    }
    response.onNext(out.build());
    response.onCompleted();
  }

  /**
   * Names this broker and keeps the stream open: the watcher learns that this process is gone
   * when the stream ends, completed by {@link #completeWatches} on shutdown or broken by the
   * kernel when the process dies.
   */
  @Override
  public void watchPeer(WatchPeerRequest request, StreamObserver<WatchPeerEvent> response) {
    ServerCallStreamObserver<WatchPeerEvent> call = (ServerCallStreamObserver<WatchPeerEvent>) response;
    call.setOnCancelHandler(() -> watchers.remove(call));
    watchers.add(call);
    if (closing) { // raced with shutdown: this broker is going away
      watchers.remove(call);
      call.onError(Status.UNAVAILABLE.withDescription("broker " + brokerId + " is shutting down").asRuntimeException());
      return;
    }
    synchronized (call) { // a stream observer takes one call at a time; completeWatches may race
      call.onNext(WatchPeerEvent.newBuilder().setBrokerId(brokerId).setInstanceId(instanceId).build());
    }
    LOG.debug("broker {} watches broker {}", request.getWatcherBrokerId(), brokerId);
  }

  /**
   * Ends every WatchPeer stream: the first step of a shutdown, so that the other brokers start
   * elections for this broker's groups while it leaves. Also lets the gRPC server terminate without
   * waiting for these streams.
   */
  public void completeWatches() {
    closing = true;
    for (ServerCallStreamObserver<WatchPeerEvent> call : watchers) {
      watchers.remove(call);
      try {
        synchronized (call) {
          call.onCompleted();
        }
      } catch (RuntimeException e) {
        LOG.debug("completing a WatchPeer stream failed: {}", e.toString()); // already cancelled
      }
    }
  }

  @Override
  public void describeLocalReplicas(DescribeLocalReplicasRequest request,
      StreamObserver<DescribeLocalReplicasResponse> response) {
    response.onNext(DescribeLocalReplicasResponse.newBuilder().setBrokerId(brokerId)
        .addAllReplicas(states.local(request.getTopic())).build());
    response.onCompleted();
  }

  /**
   * Committed batches of the local replica, byte for byte, below its high watermark. Served by
   * leaders and followers alike; a replica that is starting or repairing its segment files answers
   * UNAVAILABLE (what it holds is incomplete, and a repair must not copy from it).
   */
  @Override
  public void readReplicaLog(ReadReplicaLogRequest request, StreamObserver<ReadReplicaLogResponse> response) {
    String what = request.getTopic() + "-" + request.getPartition();
    try {
      if (request.getOffset() < 0) {
        throw Status.INVALID_ARGUMENT.withDescription("offset must not be negative, got " + request.getOffset())
            .asRuntimeException();
      }
      if (request.getMaxBytes() <= 0) {
        throw Status.INVALID_ARGUMENT.withDescription("max_bytes must be positive, got " + request.getMaxBytes())
            .asRuntimeException();
      }
      PartitionReplica replica = localReplica(request).orElseThrow(() -> Status.NOT_FOUND
          .withDescription("broker " + brokerId + " hosts no replica of " + what
              + (request.getTopicId().isEmpty() ? "" : " (topic id " + request.getTopicId() + ")"))
          .asRuntimeException());
      PartitionStateMachine sm = replica.stateMachine();
      if (!sm.isReady()) {
        throw Status.UNAVAILABLE.withDescription("the replica of " + what + " on broker " + brokerId
            + " is still starting; retry").asRuntimeException();
      }
      // Flag before bounds: once the flag is clear, the high watermark read next covers the repair.
      if (sm.isRepairing()) {
        throw Status.UNAVAILABLE.withDescription("the replica of " + what + " on broker " + brokerId
            + " is repairing its segment files from peers; retry").asRuntimeException();
      }
      long hw = sm.highWatermark();
      long start = sm.logStartOffset();
      if (request.getOffset() < start || request.getOffset() > hw) {
        throw outOfRange(what, request.getOffset(), start, hw);
      }
      ReadReplicaLogResponse.Builder out = ReadReplicaLogResponse.newBuilder().setBrokerId(brokerId)
          .setLogStartOffset(start).setHighWatermark(hw);
      if (request.getOffset() < hw) {
        int maxBytes = Math.min(request.getMaxBytes(), MAX_READ_REPLICA_LOG_BYTES);
        ByteBuffer batches;
        try {
          batches = RecordBatches.batchesBelow(sm.read(request.getOffset(), maxBytes), hw);
        } catch (OffsetOutOfRangeException e) {
          throw outOfRange(what, request.getOffset(), e.logStartOffset(), hw);
        }
        out.setRecordBatches(UnsafeByteOperations.unsafeWrap(batches));
      }
      response.onNext(out.build());
      response.onCompleted();
    } catch (io.grpc.StatusRuntimeException e) {
      response.onError(e);
    } catch (IOException e) {
      LOG.warn("[broker-{}] ReadReplicaLog of {} at offset {} failed: {}", brokerId, what, request.getOffset(),
          e.toString(), e);
      response.onError(Status.INTERNAL.withDescription("reading " + what + " on broker " + brokerId + " failed: "
          + e.getMessage()).asRuntimeException());
    } catch (IllegalStateException e) {
      // The store was closed under the read: the replica is being closed or removed.
      response.onError(Status.UNAVAILABLE.withDescription("the replica of " + what + " on broker " + brokerId
          + " is closing: " + e.getMessage()).asRuntimeException());
    }
  }

  /**
   * The latest snapshot of the local replica, for a replica that starts from it (see
   * {@code PartitionStateMachine#notifyInstallSnapshotFromLeader}).
   */
  @Override
  public void readReplicaSnapshot(ReadReplicaSnapshotRequest request,
      StreamObserver<ReadReplicaSnapshotResponse> response) {
    String what = request.getTopic() + "-" + request.getPartition();
    try {
      PartitionReplica replica = localReplica(request.getTopic(), request.getPartition(), request.getTopicId())
          .orElseThrow(() -> Status.NOT_FOUND.withDescription("broker " + brokerId + " hosts no replica of " + what
              + (request.getTopicId().isEmpty() ? "" : " (topic id " + request.getTopicId() + ")"))
              .asRuntimeException());
      PartitionStateMachine sm = replica.stateMachine();
      if (!sm.isReady() || sm.isRepairing()) {
        throw Status.UNAVAILABLE.withDescription("the replica of " + what + " on broker " + brokerId
            + " is starting or repairing; retry").asRuntimeException();
      }
      Optional<ReplicaRepairSource.SnapshotCopy> copy = sm.latestSnapshotCopy();
      if (copy.isEmpty()) {
        throw Status.UNAVAILABLE.withDescription("the replica of " + what + " on broker " + brokerId
            + " has no snapshot yet; retry").asRuntimeException();
      }
      response.onNext(ReadReplicaSnapshotResponse.newBuilder().setBrokerId(brokerId)
          .setTerm(copy.get().at().getTerm()).setIndex(copy.get().at().getIndex())
          .setSnapshot(ByteString.copyFrom(copy.get().content())).build());
      response.onCompleted();
    } catch (io.grpc.StatusRuntimeException e) {
      response.onError(e);
    } catch (IOException e) {
      // e.g. the snapshot was replaced by a newer one while being read
      response.onError(Status.UNAVAILABLE.withDescription("reading the snapshot of " + what + " on broker "
          + brokerId + " failed: " + e.getMessage() + "; retry").asRuntimeException());
    }
  }

  private io.grpc.StatusRuntimeException outOfRange(String what, long offset, long start, long hw) {
    return Status.OUT_OF_RANGE.withDescription("offset " + offset + " of " + what + " is out of range on broker "
        + brokerId + ": its replica holds offsets " + start + " (log start) to " + hw
        + " (high watermark, exclusive)").asRuntimeException();
  }

  /**
   * The local replica named by the request. With a topic id, only that topic's; by name alone, the
   * current topic of that name (a deleted one of the same name may still be being removed here).
   */
  private Optional<PartitionReplica> localReplica(ReadReplicaLogRequest request) {
    return localReplica(request.getTopic(), request.getPartition(), request.getTopicId());
  }

  private Optional<PartitionReplica> localReplica(String topic, int partition, String topicId) {
    List<PartitionReplica> matching = partitions.replicas().stream()
        .filter(r -> r.topic().equals(topic) && r.partition() == partition)
        .filter(r -> topicId.isEmpty() || r.topicId().equals(topicId))
        .toList();
    if (matching.size() <= 1) {
      return matching.stream().findFirst();
    }
    Optional<String> current = metadata.topic(topic).map(TopicRecord::getTopicId);
    return matching.stream().filter(r -> current.isPresent() && r.topicId().equals(current.get())).findFirst();
  }
}
