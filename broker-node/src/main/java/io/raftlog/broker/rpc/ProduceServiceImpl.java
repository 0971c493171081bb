package io.raftlog.broker.rpc;

import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.InitProducerIdRequest;
import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.broker.BrokerException;
import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.metadata.MetadataClient;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.partition.PartitionWriter;
import io.raftlog.log.v1.AllocateProducerId;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataStatus;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.codec.ByteStringViews;
import io.raftlog.statemachine.codec.RecordBatches;
import io.raftlog.statemachine.metadata.TopicConfig;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Produce and InitProducerId: validates, builds one record batch per partition, hands it to Raft. */
public final class ProduceServiceImpl extends ProduceServiceGrpc.ProduceServiceImplBase {

  private final BrokerConfig config;
  private final TopicConfig.Defaults topicDefaults;
  private final MetadataView metadata;
  private final MetadataClient metadataClient;
  private final PartitionWriter writer;
  private final Clock clock;

  public ProduceServiceImpl(BrokerConfig config, MetadataView metadata, MetadataClient metadataClient,
      PartitionWriter writer, Clock clock) {
    this.config = config;
    this.topicDefaults = config.topicDefaults();
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.writer = writer;
    this.clock = clock;
  }

  @Override
  public void initProducerId(InitProducerIdRequest request, StreamObserver<InitProducerIdResponse> response) {
    metadataClient.submit(MetadataCommand.newBuilder().setAllocateProducerId(AllocateProducerId.getDefaultInstance()))
        .whenComplete((reply, error) -> {
          if (error == null && reply.getStatus() != MetadataStatus.METADATA_OK) {
            error = new BrokerException(ErrorCode.UNKNOWN_SERVER_ERROR, reply.getMessage());
          }
          if (error != null) {
            response.onError(GrpcErrors.toStatus(
                new BrokerException(ErrorCode.BROKER_NOT_AVAILABLE, "cannot allocate a producer id: " + error.getMessage()),
                "InitProducerId"));
            return;
          }
          response.onNext(InitProducerIdResponse.newBuilder().setProducerId(reply.getProducerId()).setProducerEpoch(0).build());
          response.onCompleted();
        });
  }

  @Override
  public void produce(ProduceRequest request, StreamObserver<ProduceResponse> response) {
    BrokerException invalid = checkRequest(request);
    if (invalid != null) {
      response.onError(GrpcErrors.toStatus(invalid, "produce"));
      return;
    }
    handle(request, true).whenComplete((r, e) -> {
      response.onNext(r);
      response.onCompleted();
    });
  }

  @Override
  public StreamObserver<ProduceRequest> produceStream(StreamObserver<ProduceResponse> responses) {
    return new OrderedProduceStream(responses);
  }

  /** Problems with the request as a whole (they fail the call, or the stream), or null. */
  private static BrokerException checkRequest(ProduceRequest request) {
    if (request.getAcks() == Acks.UNRECOGNIZED) {
      return GrpcErrors.invalid("unknown acks value " + request.getAcksValue()
          + "; use ACKS_NONE, ACKS_LEADER or ACKS_ALL");
    }
    if (request.getTimeoutMs() < 0) {
      return GrpcErrors.invalid("timeout_ms must not be negative, got " + request.getTimeoutMs()
          + " (0 = the broker's produce.timeout.ms)");
    }
    return null;
  }

  /**
   * Hands every partition's batch to Raft before returning (so calls made one after the other
   * reach each partition in that order) and completes when all partitions are answered.
   *
   * @param forward whether batches for partitions led elsewhere are forwarded (unary Produce) or
   *     answered NOT_LEADER (ordered stream, see {@link PartitionWriter#append})
   */
  private CompletableFuture<ProduceResponse> handle(ProduceRequest request, boolean forward) {
    Acks acks = request.getAcks() == Acks.ACKS_UNSPECIFIED ? Acks.ACKS_ALL : request.getAcks();
    long timeoutMs = request.getTimeoutMs() > 0 ? request.getTimeoutMs() : config.produceTimeoutMs;
    List<CompletableFuture<PartitionProduceResult>> results = new ArrayList<>();
    for (PartitionProduceData data : request.getPartitionsList()) {
      String what = "produce to " + data.getTopic() + "-" + data.getPartition();
      CompletableFuture<PartitionProduceResult> result;
      try {
        result = producePartition(data, acks, timeoutMs, forward).thenApply(offset -> PartitionProduceResult.newBuilder()
            .setTopic(data.getTopic()).setPartition(data.getPartition()).setError(GrpcErrors.NONE)
            .setBaseOffset(offset).build());
      } catch (RuntimeException e) {
        result = CompletableFuture.failedFuture(e);
      }
      results.add(result.exceptionally(e -> PartitionProduceResult.newBuilder().setTopic(data.getTopic())
          .setPartition(data.getPartition()).setBaseOffset(-1).setError(GrpcErrors.toError(e, what)).build()));
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).handle((v, e) -> {
      ProduceResponse.Builder b = ProduceResponse.newBuilder().setCorrelationId(request.getCorrelationId());
      results.forEach(r -> b.addResults(r.join()));
      return b.build();
    });
  }

  /** One ProduceStream call: requests handled in arrival order, answers sent as they complete. */
  private final class OrderedProduceStream implements StreamObserver<ProduceRequest> {
    private final StreamObserver<ProduceResponse> responses;
    private int outstanding;
    private boolean inputDone;
    private boolean finished;

    OrderedProduceStream(StreamObserver<ProduceResponse> responses) {
      this.responses = responses;
    }

    @Override
    public void onNext(ProduceRequest request) {
      // gRPC delivers onNext calls of one stream one after the other, so handle() submits them in order.
      BrokerException invalid = checkRequest(request);
      if (invalid != null) {
        fail(GrpcErrors.toStatus(invalid, "produce"));
        return;
      }
      synchronized (this) {
        if (finished) {
          return;
        }
        outstanding++;
      }
      handle(request, false).whenComplete((response, e) -> {
        synchronized (this) {
          outstanding--;
          if (!finished) {
            responses.onNext(response);
            maybeComplete();
          }
        }
      });
    }

    @Override
    public synchronized void onError(Throwable t) {
      finished = true;
    }

    @Override
    public synchronized void onCompleted() {
      inputDone = true;
      maybeComplete();
    }

    private void maybeComplete() {
      if (inputDone && outstanding == 0 && !finished) {
        finished = true;
        responses.onCompleted();
      }
    }

    private synchronized void fail(Throwable t) {
      if (!finished) {
        finished = true;
        responses.onError(t);
      }
    }
  }

  private CompletableFuture<Long> producePartition(PartitionProduceData data, Acks acks, long timeoutMs,
      boolean forward) {
    TopicRecord topic = metadata.requireTopic(data.getTopic());
    MetadataView.requirePartition(topic, data.getPartition());
    if (!data.getRecordBatch().isEmpty()) {
      return produceClientBatch(topic, data, acks, timeoutMs, forward);
    }
    if (data.getRecordsCount() == 0) {
      throw GrpcErrors.invalid("no records for " + data.getTopic() + "-" + data.getPartition());
    }
    long producerId = -1;
    if (data.hasProducerId()) {
      if (data.getProducerId() < 0 || data.getProducerEpoch() < 0 || data.getProducerEpoch() > Short.MAX_VALUE
          || data.getBaseSequence() < 0) {
        throw GrpcErrors.invalid("invalid idempotence fields: producer id " + data.getProducerId() + ", epoch "
            + data.getProducerEpoch() + ", base sequence " + data.getBaseSequence());
      }
      producerId = data.getProducerId();
    }
    if (compacted(topic)) {
      for (int i = 0; i < data.getRecordsCount(); i++) {
        if (!data.getRecords(i).hasKey()) {
          throw GrpcErrors.invalid(missingKey(topic, "record " + i + " for " + data.getTopic() + "-"
              + data.getPartition() + " has no key"));
        }
      }
    }
    ByteBuffer batch = RecordBatches.build(data.getRecordsList(), producerId, (short) data.getProducerEpoch(),
        data.getBaseSequence(), clock.millis());
    requireBatchSizeAllowed(topic, data.getTopic() + "-" + data.getPartition(), batch.remaining());
    // The buffer was built here and is not touched again: wrap it instead of copying.
    return writer.append(topic, data.getPartition(), UnsafeByteOperations.unsafeWrap(batch), acks, timeoutMs, forward);
  }

  /** The topic's cleanup.policy includes compact (its own setting, else the broker default). */
  private boolean compacted(TopicRecord topic) {
    String own = topic.getConfigMap().get(TopicConfig.CLEANUP_POLICY);
    if (TopicConfig.DELETE.equals(own)) {
      return false; // the common override, without parsing on every produce
    }
    String policy = own != null ? TopicConfig.normalizedPolicy(own) : topicDefaults.cleanupPolicy();
    return policy != null && !policy.equals(TopicConfig.DELETE);
  }

  private static String missingKey(TopicRecord topic, String what) {
    return what + ": topic '" + topic.getName() + "' is compacted (cleanup.policy includes compact), which keeps"
        + " the latest record per key, so every record needs a key (Kafka refuses keyless records there too)";
  }

  /**
   * RECORD_TOO_LARGE for a batch (as stored: compressed if it was sent so) over the broker's
   * max.batch.bytes or over the topic's max.message.bytes (Kafka's per-topic limit, at most the
   * broker's). The message names the limit that was hit, so the user knows which one to change.
   */
  private void requireBatchSizeAllowed(TopicRecord topic, String where, int size) {
    if (size > config.maxBatchBytes) {
      throw new BrokerException(ErrorCode.RECORD_TOO_LARGE, "the batch for " + where + " is " + size
          + " bytes; the limit (max.batch.bytes) is " + config.maxBatchBytes);
    }
    if (!topic.getConfigMap().containsKey(TopicConfig.MAX_MESSAGE_BYTES)) {
      return; // the topic's limit is the broker's, checked above; no config parsing per batch
    }
    int topicLimit = TopicConfig.resolve(topic.getConfigMap(), topicDefaults).maxMessageBytes();
    if (size > topicLimit) {
      throw new BrokerException(ErrorCode.RECORD_TOO_LARGE, "the batch for " + where + " is " + size
          + " bytes; the limit of topic '" + topic.getName() + "' (" + TopicConfig.MAX_MESSAGE_BYTES + ") is "
          + topicLimit);
    }
  }

  /** A batch the client encoded itself: validated and stored as is (compressed stays compressed). */
  private CompletableFuture<Long> produceClientBatch(TopicRecord topic, PartitionProduceData data, Acks acks,
      long timeoutMs, boolean forward) {
    String where = data.getTopic() + "-" + data.getPartition();
    if (data.getRecordsCount() > 0 || data.hasProducerId()) {
      throw GrpcErrors.invalid("for " + where + " set either record_batch or records/producer fields, not both");
    }
    requireBatchSizeAllowed(topic, where, data.getRecordBatch().size());
    try {
      // No record may be larger than a whole batch may be, once decompressed (Kafka's producer
      // refuses such a record too: max.request.size applies to its uncompressed size).
      RecordBatches.validateClientBatch(ByteStringViews.readView(data.getRecordBatch()), config.maxBatchBytes,
          compacted(topic));
    } catch (RecordBatches.MissingKeyException e) {
      throw GrpcErrors.invalid(missingKey(topic, "record batch for " + where + " rejected: " + e.getMessage()));
    } catch (RecordBatches.RecordTooLargeException e) {
      throw new BrokerException(ErrorCode.RECORD_TOO_LARGE, "record batch for " + where + " rejected: "
          + e.getMessage() + " (max.batch.bytes)");
    } catch (IllegalArgumentException e) {
      throw new BrokerException(ErrorCode.CORRUPT_RECORD, "record batch for " + where + " rejected: " + e.getMessage());
    }
    return writer.append(topic, data.getPartition(), data.getRecordBatch(), acks, timeoutMs, forward);
  }
}
