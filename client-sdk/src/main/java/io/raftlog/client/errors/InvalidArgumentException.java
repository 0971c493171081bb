package io.raftlog.client.errors;

/** The request was malformed or violated a rule; the message says which. */
public class InvalidArgumentException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public InvalidArgumentException(String message) {
        super(message);
    }

    public InvalidArgumentException(String message, Throwable cause) {
        super(message, cause);
    }
}
