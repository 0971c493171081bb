package io.raftlog.client.errors;

/** The group does not know this member (expelled after its session timeout, or never joined): it has lost its partitions and must rejoin. */
public class UnknownMemberIdException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public UnknownMemberIdException(String message) {
        super(message);
    }

    public UnknownMemberIdException(String message, Throwable cause) {
        super(message, cause);
    }
}
