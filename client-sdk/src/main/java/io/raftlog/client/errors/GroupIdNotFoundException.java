package io.raftlog.client.errors;

/** The consumer group does not exist (no members and no committed offsets). */
public class GroupIdNotFoundException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public GroupIdNotFoundException(String message) {
        super(message);
    }

    public GroupIdNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
