package io.raftlog.client.errors;

/**
 * An offset commit failed for good: nothing was committed and retrying the same commit will not
 * help. Usually the group rebalanced or this member was fenced (its member epoch is stale, or the
 * coordinator expelled it after its session timeout), so the partitions may belong to another
 * member now: {@code poll} again to rejoin and get the current assignment; records whose offsets
 * were not committed are delivered again to whoever owns their partition. {@link #getCause()}
 * holds the coordinator's error.
 */
public class CommitFailedException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public CommitFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    public CommitFailedException(String message) {
        super(message);
    }
}
