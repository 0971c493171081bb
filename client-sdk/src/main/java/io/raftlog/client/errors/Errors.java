package io.raftlog.client.errors;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import java.util.OptionalInt;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The single mapping from protocol errors ({@link Error}) and gRPC statuses to typed exceptions.
 * Stateless and thread-safe.
 */
public final class Errors {

    /**
     * Trailer key under which brokers attach an {@link Error} to a failed admin RPC. Defined
     * explicitly (not via {@code ProtoUtils.keyForProto}) because the name is part of the API.
     */
    public static final Metadata.Key<Error> ERROR_TRAILER_KEY =
            Metadata.Key.of("raftlog-error-bin", ProtoUtils.metadataMarshaller(Error.getDefaultInstance()));

    private Errors() {
    }

    /**
     * Maps a protocol error to its exception, or returns {@code null} for {@link ErrorCode#NONE}
     * (so callers can write {@code if ((ex = toException(e)) != null)}).
     */
    public static RaftlogException toException(Error error) {
        if (error == null || error.getCode() == ErrorCode.NONE) {
            return null;
        }
        String message = error.getMessage().isEmpty() ? error.getCode().name() : error.getMessage();
        return switch (error.getCode()) {
            case NOT_LEADER -> new NotLeaderException(message,
                    error.hasLeaderId() ? OptionalInt.of(error.getLeaderId()) : OptionalInt.empty());
            case LEADER_NOT_AVAILABLE -> new LeaderNotAvailableException(message);
            case UNKNOWN_TOPIC_OR_PARTITION -> new UnknownTopicOrPartitionException(message);
            case OFFSET_OUT_OF_RANGE -> new OffsetOutOfRangeException(message);
            case INVALID_ARGUMENT -> new InvalidArgumentException(message);
            case TOPIC_ALREADY_EXISTS -> new TopicAlreadyExistsException(message);
            case RECORD_TOO_LARGE -> new RecordTooLargeException(message);
            case REQUEST_TIMED_OUT -> new TimeoutException(message);
            case OUT_OF_ORDER_SEQUENCE -> new OutOfOrderSequenceException(message);
            case UNKNOWN_PRODUCER_ID -> new UnknownProducerIdException(message);
            case INVALID_PRODUCER_EPOCH -> new ProducerFencedException(message);
            case CORRUPT_RECORD -> new CorruptRecordException(message);
            case NOT_ENOUGH_REPLICAS -> new NotEnoughReplicasException(message);
            case BROKER_NOT_AVAILABLE -> new BrokerNotAvailableException(message);
            case NOT_COORDINATOR -> new NotCoordinatorException(message,
                    error.hasLeaderId() ? OptionalInt.of(error.getLeaderId()) : OptionalInt.empty());
            case COORDINATOR_NOT_AVAILABLE -> new CoordinatorNotAvailableException(message);
            case UNKNOWN_MEMBER_ID -> new UnknownMemberIdException(message);
            case FENCED_MEMBER_EPOCH -> new FencedMemberEpochException(message);
            case STALE_MEMBER_EPOCH -> new StaleMemberEpochException(message);
            case GROUP_NOT_EMPTY -> new GroupNotEmptyException(message);
            case GROUP_ID_NOT_FOUND -> new GroupIdNotFoundException(message);
            case UNKNOWN_SERVER_ERROR, UNRECOGNIZED -> new UnknownServerException(message);
            case NONE -> throw new AssertionError("handled above");
        };
    }

    /**
     * Maps an error attached to a topic as a whole (a {@code TopicMetadata} answer) to its
     * exception, or {@code null} for {@link ErrorCode#NONE}. There INVALID_ARGUMENT can only be
     * about the name, so it becomes an {@link InvalidTopicException} (carrying the broker's
     * message); every other code maps as in {@link #toException(Error)}.
     */
    public static RaftlogException toTopicException(String topic, Error error) {
        if (error != null && error.getCode() == ErrorCode.INVALID_ARGUMENT) {
            return new InvalidTopicException(topic, error.getMessage().isEmpty()
                    ? "invalid topic name '" + topic + "'" : error.getMessage());
        }
        return toException(error);
    }

    /**
     * Maps any failure of a client call to a {@link RaftlogException}. A {@code raftlog-error-bin}
     * trailer wins; otherwise the gRPC status code decides (UNAVAILABLE and DEADLINE_EXCEEDED are
     * retriable). Completion/execution wrappers are unwrapped; a {@code RaftlogException} is
     * returned as is.
     */
    public static RaftlogException fromThrowable(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof RaftlogException re) {
            return re;
        }
        Status status;
        Metadata trailers;
        if (cause instanceof StatusRuntimeException sre) {
            status = sre.getStatus();
            trailers = sre.getTrailers();
        } else if (cause instanceof StatusException se) {
            status = se.getStatus();
            trailers = se.getTrailers();
        } else {
            return new UnknownServerException(String.valueOf(cause.getMessage()), cause);
        }
        if (trailers != null) {
            Error error = trailers.get(ERROR_TRAILER_KEY);
            RaftlogException mapped = toException(error);
            if (mapped != null) {
                mapped.initCause(cause);
                return mapped;
            }
        }
        return fromStatus(status, cause);
    }

    private static RaftlogException fromStatus(Status status, Throwable cause) {
        String description = status.getDescription() != null ? status.getDescription()
                : status.getCode().name();
        return switch (status.getCode()) {
            case UNAVAILABLE -> new BrokerNotAvailableException("broker unavailable: " + description, cause);
            // Calls the client cancels itself are no longer awaited, so a CANCELLED that reaches a
            // caller comes from the broker side (shutdown, stream reset): retry elsewhere.
            case CANCELLED -> new BrokerNotAvailableException("call cancelled by the broker: " + description, cause);
            case DEADLINE_EXCEEDED -> new TimeoutException("request timed out: " + description, cause);
            case INVALID_ARGUMENT -> new InvalidArgumentException(description, cause);
            case ALREADY_EXISTS -> new TopicAlreadyExistsException(description, cause);
            case NOT_FOUND -> new UnknownTopicOrPartitionException(description, cause);
            default -> new UnknownServerException(status.getCode() + ": " + description, cause);
        };
    }

    /** True for gRPC transport failures that say nothing about the request itself. */
    public static boolean isTransportFailure(Throwable t) {
        Throwable cause = unwrap(t);
        Status status = cause instanceof StatusRuntimeException sre ? sre.getStatus()
                : cause instanceof StatusException se ? se.getStatus() : null;
        if (status == null || (status.getCode() != Status.Code.UNAVAILABLE && status.getCode() != Status.Code.CANCELLED)) {
            return false;
        }
        Metadata trailers = cause instanceof StatusRuntimeException sre ? sre.getTrailers()
                : ((StatusException) cause).getTrailers();
        return trailers == null || !trailers.containsKey(ERROR_TRAILER_KEY);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
