package io.raftlog.client.errors;

/** Base class of every exception thrown or used to complete a future by the Raftlog client. */
public class RaftlogException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RaftlogException(String message) {
        super(message);
    }

    public RaftlogException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Whether repeating the same request later may succeed. */
    public boolean isRetriable() {
        return false;
    }
}
