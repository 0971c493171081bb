package io.raftlog.client.errors;

/** A record or batch exceeds the broker's size limit. */
public class RecordTooLargeException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public RecordTooLargeException(String message) {
        super(message);
    }

    public RecordTooLargeException(String message, Throwable cause) {
        super(message, cause);
    }
}
