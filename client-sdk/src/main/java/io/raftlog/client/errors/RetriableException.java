package io.raftlog.client.errors;

/** A transient failure: the same request may succeed later (usually after a metadata refresh). */
public class RetriableException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public RetriableException(String message) {
        super(message);
    }

    public RetriableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public boolean isRetriable() {
        return true;
    }
}
