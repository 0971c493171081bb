package io.raftlog.client.errors;

/** An unexpected error on the broker (UNKNOWN_SERVER_ERROR or an unmapped gRPC status). */
public class UnknownServerException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public UnknownServerException(String message) {
        super(message);
    }

    public UnknownServerException(String message, Throwable cause) {
        super(message, cause);
    }
}
