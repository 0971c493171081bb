package io.raftlog.client.errors;

/** Too few in-sync replicas to accept the write at the requested acks level. Retriable. */
public class NotEnoughReplicasException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public NotEnoughReplicasException(String message) {
        super(message);
    }

    public NotEnoughReplicasException(String message, Throwable cause) {
        super(message, cause);
    }
}
