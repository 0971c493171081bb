package io.raftlog.client.errors;

/** No group coordinator right now (the metadata leader is being elected). Retriable. */
public class CoordinatorNotAvailableException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public CoordinatorNotAvailableException(String message) {
        super(message);
    }

    public CoordinatorNotAvailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
