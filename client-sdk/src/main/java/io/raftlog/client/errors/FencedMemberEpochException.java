package io.raftlog.client.errors;

/** The member's epoch is not its current one: it has lost its partitions and must rejoin. */
public class FencedMemberEpochException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public FencedMemberEpochException(String message) {
        super(message);
    }

    public FencedMemberEpochException(String message, Throwable cause) {
        super(message, cause);
    }
}
