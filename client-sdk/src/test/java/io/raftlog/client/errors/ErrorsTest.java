package io.raftlog.client.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import io.grpc.Status;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import java.util.EnumMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ErrorsTest {

    private static Error error(ErrorCode code) {
        return Error.newBuilder().setCode(code).setMessage("msg " + code).build();
    }

    @Test
    void everyErrorCodeMapsToItsOwnException() {
        Map<ErrorCode, Class<? extends RaftlogException>> expected = new EnumMap<>(ErrorCode.class);
        expected.put(ErrorCode.UNKNOWN_SERVER_ERROR, UnknownServerException.class);
        expected.put(ErrorCode.NOT_LEADER, NotLeaderException.class);
        expected.put(ErrorCode.LEADER_NOT_AVAILABLE, LeaderNotAvailableException.class);
        expected.put(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UnknownTopicOrPartitionException.class);
        expected.put(ErrorCode.OFFSET_OUT_OF_RANGE, OffsetOutOfRangeException.class);
        expected.put(ErrorCode.INVALID_ARGUMENT, InvalidArgumentException.class);
        expected.put(ErrorCode.TOPIC_ALREADY_EXISTS, TopicAlreadyExistsException.class);
        expected.put(ErrorCode.RECORD_TOO_LARGE, RecordTooLargeException.class);
        expected.put(ErrorCode.REQUEST_TIMED_OUT, TimeoutException.class);
        expected.put(ErrorCode.OUT_OF_ORDER_SEQUENCE, OutOfOrderSequenceException.class);
        expected.put(ErrorCode.INVALID_PRODUCER_EPOCH, ProducerFencedException.class);
        expected.put(ErrorCode.CORRUPT_RECORD, CorruptRecordException.class);
        expected.put(ErrorCode.NOT_ENOUGH_REPLICAS, NotEnoughReplicasException.class);
        expected.put(ErrorCode.BROKER_NOT_AVAILABLE, BrokerNotAvailableException.class);
        expected.put(ErrorCode.UNKNOWN_PRODUCER_ID, UnknownProducerIdException.class);
        expected.put(ErrorCode.NOT_COORDINATOR, NotCoordinatorException.class);
        expected.put(ErrorCode.COORDINATOR_NOT_AVAILABLE, CoordinatorNotAvailableException.class);
        expected.put(ErrorCode.UNKNOWN_MEMBER_ID, UnknownMemberIdException.class);
        expected.put(ErrorCode.FENCED_MEMBER_EPOCH, FencedMemberEpochException.class);
        expected.put(ErrorCode.STALE_MEMBER_EPOCH, StaleMemberEpochException.class);
        expected.put(ErrorCode.GROUP_NOT_EMPTY, GroupNotEmptyException.class);
        expected.put(ErrorCode.GROUP_ID_NOT_FOUND, GroupIdNotFoundException.class);
        for (ErrorCode code : ErrorCode.values()) {
            if (code == ErrorCode.NONE || code == ErrorCode.UNRECOGNIZED) {
                continue;
            }
            RaftlogException e = Errors.toException(error(code));
            assertEquals(expected.get(code), e.getClass(), code.name());
            assertEquals("msg " + code, e.getMessage());
        }
    }

    @Test
    void retriabilityFollowsTheProtocol() {
        for (ErrorCode code : new ErrorCode[] {ErrorCode.NOT_LEADER, ErrorCode.LEADER_NOT_AVAILABLE,
                ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.BROKER_NOT_AVAILABLE,
                ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE}) {
            assertTrue(Errors.toException(error(code)).isRetriable(), code.name());
        }
        for (ErrorCode code : new ErrorCode[] {ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_ARGUMENT,
                ErrorCode.RECORD_TOO_LARGE, ErrorCode.OUT_OF_ORDER_SEQUENCE, ErrorCode.INVALID_PRODUCER_EPOCH,
                ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.STALE_MEMBER_EPOCH,
                ErrorCode.GROUP_NOT_EMPTY, ErrorCode.GROUP_ID_NOT_FOUND}) {
            assertFalse(Errors.toException(error(code)).isRetriable(), code.name());
        }
    }

    @Test
    void noneMapsToNull() {
        assertNull(Errors.toException(Error.getDefaultInstance()));
        assertNull(Errors.toException(null));
    }

    @Test
    void notLeaderCarriesTheLeaderHint() {
        NotLeaderException withHint = (NotLeaderException) Errors.toException(
                Error.newBuilder().setCode(ErrorCode.NOT_LEADER).setLeaderId(3).build());
        assertEquals(OptionalInt.of(3), withHint.leaderId());
        NotLeaderException withoutHint = (NotLeaderException) Errors.toException(error(ErrorCode.NOT_LEADER));
        assertEquals(OptionalInt.empty(), withoutHint.leaderId());
    }

    @Test
    void trailerWinsOverStatusCode() {
        Metadata trailers = new Metadata();
        trailers.put(Errors.ERROR_TRAILER_KEY, error(ErrorCode.TOPIC_ALREADY_EXISTS));
        RaftlogException e = Errors.fromThrowable(
                Status.UNAVAILABLE.withDescription("x").asRuntimeException(trailers));
        assertInstanceOf(TopicAlreadyExistsException.class, e);
        assertEquals("msg TOPIC_ALREADY_EXISTS", e.getMessage());
        assertEquals("raftlog-error-bin", Errors.ERROR_TRAILER_KEY.name());
        assertFalse(Errors.isTransportFailure(Status.UNAVAILABLE.asRuntimeException(trailers)));
    }

    @Test
    void statusWithoutTrailerFallsBackToTheCode() {
        RaftlogException unavailable = Errors.fromThrowable(
                new CompletionException(Status.UNAVAILABLE.withDescription("conn refused").asRuntimeException()));
        assertInstanceOf(BrokerNotAvailableException.class, unavailable);
        assertTrue(unavailable.isRetriable());
        assertTrue(unavailable.getMessage().contains("conn refused"));
        assertTrue(Errors.isTransportFailure(Status.UNAVAILABLE.asRuntimeException()));

        RaftlogException cancelled = Errors.fromThrowable(
                Status.CANCELLED.withDescription("RST_STREAM closed stream").asRuntimeException());
        assertInstanceOf(BrokerNotAvailableException.class, cancelled, "a broker shutting down cancels calls");
        assertTrue(cancelled.isRetriable());

        RaftlogException deadline = Errors.fromThrowable(Status.DEADLINE_EXCEEDED.asRuntimeException());
        assertInstanceOf(TimeoutException.class, deadline);
        assertTrue(deadline.isRetriable());

        assertInstanceOf(InvalidArgumentException.class,
                Errors.fromThrowable(Status.INVALID_ARGUMENT.withDescription("bad").asException()));
        assertInstanceOf(TopicAlreadyExistsException.class,
                Errors.fromThrowable(Status.ALREADY_EXISTS.asRuntimeException()));
        assertInstanceOf(UnknownTopicOrPartitionException.class,
                Errors.fromThrowable(Status.NOT_FOUND.asRuntimeException()));
        assertInstanceOf(UnknownServerException.class, Errors.fromThrowable(Status.INTERNAL.asRuntimeException()));
    }

    @Test
    void invalidArgumentForATopicAsAWholeIsAnInvalidTopic() {
        InvalidTopicException e = assertInstanceOf(InvalidTopicException.class,
                Errors.toTopicException("a b", error(ErrorCode.INVALID_ARGUMENT)));
        assertEquals("a b", e.topic());
        assertEquals("msg INVALID_ARGUMENT", e.getMessage(), "the broker's message is kept");
        assertFalse(e.isRetriable());
        assertEquals("invalid topic name 'a b'", Errors.toTopicException("a b",
                Error.newBuilder().setCode(ErrorCode.INVALID_ARGUMENT).build()).getMessage());
        // Every other code maps as toException does.
        assertInstanceOf(UnknownTopicOrPartitionException.class,
                Errors.toTopicException("x", error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)));
        assertNull(Errors.toTopicException("x", Error.getDefaultInstance()));
        // Elsewhere INVALID_ARGUMENT may be about anything: it stays an InvalidArgumentException.
        assertEquals(InvalidArgumentException.class, Errors.toException(error(ErrorCode.INVALID_ARGUMENT)).getClass());
    }

    @Test
    void raftlogExceptionsPassThrough() {
        RaftlogException original = new RecordTooLargeException("big");
        assertSame(original, Errors.fromThrowable(new CompletionException(original)));
    }
}
