package io.raftlog.client.errors;

/** A newer producer with the same producer id fenced this one (INVALID_PRODUCER_EPOCH). Fatal for the producer. */
public class ProducerFencedException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public ProducerFencedException(String message) {
        super(message);
    }

    public ProducerFencedException(String message, Throwable cause) {
        super(message, cause);
    }
}
