package io.raftlog.client.errors;

/** A request or delivery did not complete in time (REQUEST_TIMED_OUT, gRPC DEADLINE_EXCEEDED, or an expired client-side timeout). Retriable. */
public class TimeoutException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public TimeoutException(String message) {
        super(message);
    }

    public TimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
