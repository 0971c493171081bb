package io.raftlog.client.errors;

/** The operation (delete, offset reset) needs a consumer group without active members. */
public class GroupNotEmptyException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public GroupNotEmptyException(String message) {
        super(message);
    }

    public GroupNotEmptyException(String message, Throwable cause) {
        super(message, cause);
    }
}
