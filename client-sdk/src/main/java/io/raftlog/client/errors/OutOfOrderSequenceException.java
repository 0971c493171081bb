package io.raftlog.client.errors;

/** The broker received an idempotent batch whose sequence number was not the next expected one. */
public class OutOfOrderSequenceException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public OutOfOrderSequenceException(String message) {
        super(message);
    }

    public OutOfOrderSequenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
