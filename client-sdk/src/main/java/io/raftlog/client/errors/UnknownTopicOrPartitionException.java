package io.raftlog.client.errors;

/** The topic or partition does not exist. The producer and consumer refresh metadata once before reporting it. */
public class UnknownTopicOrPartitionException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public UnknownTopicOrPartitionException(String message) {
        super(message);
    }

    public UnknownTopicOrPartitionException(String message, Throwable cause) {
        super(message, cause);
    }
}
