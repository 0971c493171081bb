package io.raftlog.client.errors;

/** No broker could be reached (gRPC UNAVAILABLE or BROKER_NOT_AVAILABLE). Retriable. */
public class BrokerNotAvailableException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public BrokerNotAvailableException(String message) {
        super(message);
    }

    public BrokerNotAvailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
