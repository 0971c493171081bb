package io.raftlog.client.errors;

/** A topic with the requested name already exists. */
public class TopicAlreadyExistsException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public TopicAlreadyExistsException(String message) {
        super(message);
    }

    public TopicAlreadyExistsException(String message, Throwable cause) {
        super(message, cause);
    }
}
