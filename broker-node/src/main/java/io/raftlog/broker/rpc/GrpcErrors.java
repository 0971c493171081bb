package io.raftlog.broker.rpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.broker.BrokerException;
import io.raftlog.broker.partition.RaftErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns failures into protocol errors: an {@link Error} message, and for admin RPCs a gRPC status. */
public final class GrpcErrors {

  private static final Logger LOG = LoggerFactory.getLogger(GrpcErrors.class);

  /** Trailer key under which admin RPC failures carry their {@link Error}. */
  public static final Metadata.Key<Error> ERROR_KEY =
      Metadata.Key.of("raftlog-error-bin", ProtoUtils.metadataMarshaller(Error.getDefaultInstance()));

  public static final Error NONE = Error.newBuilder().setCode(ErrorCode.NONE).build();

  private GrpcErrors() {}

  public static Error toError(Throwable t, String what) {
    BrokerException e = RaftErrors.fromThrowable(t, what);
    if (e.code() == ErrorCode.UNKNOWN_SERVER_ERROR) {
      LOG.warn("{} failed unexpectedly", what, t);
    }
    Error.Builder b = Error.newBuilder().setCode(e.code()).setMessage(e.getMessage());
    if (e.leaderId() >= 0) {
      b.setLeaderId(e.leaderId());
    }
    return b.build();
  }

  public static StatusRuntimeException toStatus(Throwable t, String what) {
    Error error = toError(t, what);
    Status status = switch (error.getCode()) {
      case INVALID_ARGUMENT, RECORD_TOO_LARGE, CORRUPT_RECORD -> Status.INVALID_ARGUMENT;
      case TOPIC_ALREADY_EXISTS -> Status.ALREADY_EXISTS;
      case UNKNOWN_TOPIC_OR_PARTITION -> Status.NOT_FOUND;
      case OFFSET_OUT_OF_RANGE -> Status.OUT_OF_RANGE;
      case NOT_LEADER, LEADER_NOT_AVAILABLE, NOT_ENOUGH_REPLICAS, BROKER_NOT_AVAILABLE -> Status.UNAVAILABLE;
      case REQUEST_TIMED_OUT -> Status.DEADLINE_EXCEEDED;
      case OUT_OF_ORDER_SEQUENCE, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID, UNKNOWN_MEMBER_ID,
          FENCED_MEMBER_EPOCH, STALE_MEMBER_EPOCH, GROUP_NOT_EMPTY -> Status.FAILED_PRECONDITION;
      case NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE -> Status.UNAVAILABLE;
      case GROUP_ID_NOT_FOUND -> Status.NOT_FOUND;
      default -> Status.INTERNAL;
    };
    Metadata trailers = new Metadata();
    trailers.put(ERROR_KEY, error);
    return status.withDescription(error.getMessage()).asRuntimeException(trailers);
  }

  public static BrokerException invalid(String message) {
    return new BrokerException(ErrorCode.INVALID_ARGUMENT, message);
  }
}
