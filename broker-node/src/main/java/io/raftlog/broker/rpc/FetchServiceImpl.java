package io.raftlog.broker.rpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.ListOffsetsPartition;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResponse;
import io.raftlog.api.v1.ListOffsetsResult;
import io.raftlog.api.v1.OffsetSpec;
import io.raftlog.api.v1.RecordFormat;
import com.google.protobuf.UnsafeByteOperations;
import io.raftlog.broker.BrokerException;
import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.partition.PartitionManager;
import io.raftlog.broker.partition.PartitionReader;
import io.raftlog.broker.partition.PartitionReplica;
import io.raftlog.log.v1.TopicRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Fetch (long poll) and ListOffsets, served from local replicas. A partition not hosted here
 * answers NOT_LEADER with the leader hint this broker has, so the client goes to a replica.
 * ListOffsets LATEST is answered by the partition's leader only, once it has applied everything
 * committed before its term (NOT_LEADER or LEADER_NOT_AVAILABLE otherwise), so the latest offset
 * never goes back; EARLIEST and fetches are served by any replica.
 *
 * <p>Size bounds: a partition returns up to its {@code max_bytes} (0 = 1 MiB) and the whole
 * response up to {@code fetch.max.bytes}; the first batch found is returned even when it is larger
 * (as in Kafka), so a consumer never stalls on a big batch. Partitions after the response is full
 * report their offsets and no records. RECORDS answers are bounded by their decoded size.
 */
public final class FetchServiceImpl extends FetchServiceGrpc.FetchServiceImplBase {

  static final int DEFAULT_PARTITION_MAX_BYTES = 1024 * 1024;
  static final int MAX_WAIT_CAP_MS = 30_000;

  private final int fetchMaxBytes;
  private final MetadataView metadata;
  private final PartitionManager partitions;
  private final ScheduledExecutorService scheduler;
  private final Executor readers;

  public FetchServiceImpl(BrokerConfig config, MetadataView metadata, PartitionManager partitions,
      ScheduledExecutorService scheduler, Executor readers) {
    this.fetchMaxBytes = config.fetchMaxBytes;
    this.metadata = metadata;
    this.partitions = partitions;
    this.scheduler = scheduler;
    this.readers = readers;
  }

  @Override
  public void fetch(FetchRequest request, StreamObserver<FetchResponse> response) {
    if (request.getFormat() == RecordFormat.UNRECOGNIZED) {
      response.onError(GrpcErrors.toStatus(GrpcErrors.invalid("unknown record format " + request.getFormatValue()
          + "; use RECORDS or RECORD_BATCHES"), "fetch"));
      return;
    }
    if (request.getMaxWaitMs() < 0 || request.getMaxWaitMs() > MAX_WAIT_CAP_MS) {
      response.onError(GrpcErrors.toStatus(GrpcErrors.invalid("max_wait_ms must be between 0 and " + MAX_WAIT_CAP_MS
          + ", got " + request.getMaxWaitMs()), "fetch"));
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(request.getMaxWaitMs());
    Poll poll = new Poll(request, deadline, response);
    if (response instanceof ServerCallStreamObserver<FetchResponse> call) {
      // A client that gives up (cancel, deadline, dropped connection) frees its waiters at once
      // instead of holding them until max_wait_ms.
      call.setOnCancelHandler(poll::cancel);
    }
    poll.attempt();
  }

  /** One fetch call: reads, and while there is not enough data, waits and reads again. */
  private final class Poll {
    private final FetchRequest request;
    private final long deadlineNanos;
    private final StreamObserver<FetchResponse> response;
    /** What the call waits on between attempts; guarded by this. */
    private Map<PartitionReplica, CompletableFuture<Void>> waits = Map.of();
    private ScheduledFuture<?> timer;
    private boolean cancelled;

    Poll(FetchRequest request, long deadlineNanos, StreamObserver<FetchResponse> response) {
      this.request = request;
      this.deadlineNanos = deadlineNanos;
      this.response = response;
    }

    void attempt() {
      synchronized (this) {
        if (cancelled) {
          return;
        }
      }
      Map<PartitionReplica, CompletableFuture<Void>> wakeUps = new HashMap<>();
      FetchResponse.Builder out = FetchResponse.newBuilder();
      int bytes = 0;
      boolean anyError = false;
      boolean raw = request.getFormat() == RecordFormat.RECORD_BATCHES;
      for (FetchPartition fp : request.getPartitionsList()) {
        FetchPartitionResult.Builder r = FetchPartitionResult.newBuilder().setTopic(fp.getTopic())
            .setPartition(fp.getPartition()).setError(GrpcErrors.NONE);
        String what = "fetch " + fp.getTopic() + "-" + fp.getPartition();
        PartitionReplica replica = null;
        try {
          if (fp.getMaxBytes() < 0) {
            throw GrpcErrors.invalid("max_bytes must not be negative, got " + fp.getMaxBytes()
                + " (0 = " + DEFAULT_PARTITION_MAX_BYTES + ")");
          }
          replica = localReplica(fp.getTopic(), fp.getPartition());
          int wanted = fp.getMaxBytes() > 0 ? fp.getMaxBytes() : DEFAULT_PARTITION_MAX_BYTES;
          // 0 once the response is full: offsets only.
          int maxBytes = Math.max(0, Math.min(wanted, fetchMaxBytes - bytes));
          PartitionReader.ReadResult read = PartitionReader.read(replica, fp.getOffset(), maxBytes, raw);
          r.setHighWatermark(read.highWatermark()).setLogStartOffset(read.logStartOffset());
          if (raw) {
            // A fresh buffer from the store read, not shared: wrap it instead of copying.
            r.setRecordBatches(UnsafeByteOperations.unsafeWrap(read.batches()));
          } else {
            r.addAllRecords(read.records());
          }
          bytes += read.bytes();
          if (read.isEmpty() && maxBytes > 0 && !wakeUps.containsKey(replica)) {
            wakeUps.put(replica, replica.stateMachine().awaitBeyond(fp.getOffset()));
          }
        } catch (RuntimeException e) {
          r.setError(GrpcErrors.toError(e, what));
          if (replica != null && replica.stateMachine().isReady()) {
            // e.g. OFFSET_OUT_OF_RANGE: say where the log is, so the client can reset its position.
            r.setHighWatermark(replica.stateMachine().highWatermark())
                .setLogStartOffset(replica.stateMachine().logStartOffset());
          }
          anyError = true;
        }
        out.addResults(r);
      }
      long remainingNanos = deadlineNanos - System.nanoTime();
      boolean enough = bytes >= Math.max(1, request.getMinBytes());
      if (enough || anyError || remainingNanos <= 0 || wakeUps.isEmpty()) {
        cancelWaits(wakeUps);
        response.onNext(out.build());
        response.onCompleted();
        return;
      }
      CompletableFuture<Void> wake = new CompletableFuture<>();
      wakeUps.values().forEach(w -> w.thenRun(() -> wake.complete(null)));
      ScheduledFuture<?> t = scheduler.schedule(() -> wake.complete(null), remainingNanos, TimeUnit.NANOSECONDS);
      synchronized (this) {
        if (cancelled) {
          t.cancel(false);
          cancelWaits(wakeUps);
          return;
        }
        waits = wakeUps;
        timer = t;
      }
      wake.whenCompleteAsync((x, e) -> {
        synchronized (this) {
          waits = Map.of();
          timer = null;
        }
        // Whatever fired, drop the other waiters and the timer so nothing lingers per poll.
        t.cancel(false);
        cancelWaits(wakeUps);
        attempt();
      }, readers);
    }

    void cancel() {
      Map<PartitionReplica, CompletableFuture<Void>> w;
      ScheduledFuture<?> t;
      synchronized (this) {
        cancelled = true;
        w = waits;
        t = timer;
        waits = Map.of();
        timer = null;
      }
      if (t != null) {
        t.cancel(false);
      }
      cancelWaits(w);
    }
  }

  private static void cancelWaits(Map<PartitionReplica, CompletableFuture<Void>> wakeUps) {
    wakeUps.forEach((replica, waiter) -> replica.stateMachine().cancelWait(waiter));
  }

  @Override
  public void listOffsets(ListOffsetsRequest request, StreamObserver<ListOffsetsResponse> response) {
    ListOffsetsResponse.Builder out = ListOffsetsResponse.newBuilder();
    for (ListOffsetsPartition p : request.getPartitionsList()) {
      ListOffsetsResult.Builder r = ListOffsetsResult.newBuilder().setTopic(p.getTopic()).setPartition(p.getPartition())
          .setError(GrpcErrors.NONE);
      try {
        PartitionReplica replica = localReplica(p.getTopic(), p.getPartition());
        if (p.getSpec() == OffsetSpec.UNRECOGNIZED) {
          throw GrpcErrors.invalid("unknown offset spec " + p.getSpecValue() + "; use EARLIEST or LATEST");
        }
        if (p.getSpec() == OffsetSpec.LATEST && replica.stateMachine().isRepairing()) {
          // Its high watermark is held back below committed data: not the latest offset.
          throw new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, "the replica of " + replica
              + " on this broker is repairing its segment files from peers; retry");
        }
        if (p.getSpec() == OffsetSpec.LATEST && !replica.isLeaderReady()) {
          // As in Kafka, only the leader answers: a follower's high watermark, or that of a leader
          // still applying what was committed before its term, may be below offsets already
          // acknowledged, and the latest offset must never go back.
          int leader = replica.leaderId();
          if (replica.isLeader() || leader < 0) {
            throw new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, "the leader of " + replica
                + " is not ready yet (applying earlier entries); retry");
          }
          throw new BrokerException(ErrorCode.NOT_LEADER, "the latest offset of " + replica + " comes from its leader,"
              + " broker " + leader + "; this broker follows", leader);
        }
        r.setOffset(p.getSpec() == OffsetSpec.EARLIEST ? replica.stateMachine().logStartOffset()
            : replica.stateMachine().highWatermark());
      } catch (RuntimeException e) {
        r.setOffset(-1).setError(GrpcErrors.toError(e, "list offsets of " + p.getTopic() + "-" + p.getPartition()));
      }
      out.addResults(r);
    }
    response.onNext(out.build());
    response.onCompleted();
  }

  private PartitionReplica localReplica(String topicName, int partition) {
    TopicRecord topic = metadata.requireTopic(topicName);
    MetadataView.requirePartition(topic, partition);
    PartitionReplica replica = partitions.replica(topic.getTopicId(), partition).orElseThrow(() -> {
      int preferred = topic.getAssignments(partition).getReplicas(0);
      return new BrokerException(ErrorCode.NOT_LEADER, "this broker hosts no replica of " + topicName + "-" + partition
          + "; its replicas are on brokers " + topic.getAssignments(partition).getReplicasList(), preferred);
    });
    if (!replica.stateMachine().isReady()) {
      throw new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, "the replica of " + replica
          + " on this broker is still starting; retry");
    }
    return replica;
  }
}
