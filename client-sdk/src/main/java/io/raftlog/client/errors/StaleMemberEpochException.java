package io.raftlog.client.errors;

/** An offset commit carried an older member epoch than the member's current one (its assignment changed since); nothing was committed. */
public class StaleMemberEpochException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public StaleMemberEpochException(String message) {
        super(message);
    }

    public StaleMemberEpochException(String message, Throwable cause) {
        super(message, cause);
    }
}
