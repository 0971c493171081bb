package io.raftlog.client.errors;

/** The requested offset is below the log start offset or beyond the log end offset. */
public class OffsetOutOfRangeException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public OffsetOutOfRangeException(String message) {
        super(message);
    }

    public OffsetOutOfRangeException(String message, Throwable cause) {
        super(message, cause);
    }
}
