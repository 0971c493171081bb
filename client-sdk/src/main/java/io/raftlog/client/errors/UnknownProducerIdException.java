package io.raftlog.client.errors;

/**
 * The partition does not know the batch's producer id (a new id, or its state expired after the
 * producer was idle) and the batch's sequence is not 0 (UNKNOWN_PRODUCER_ID). The batch was not
 * stored. Retriable: the idempotent producer moves the partition to a new producer id and resends
 * from sequence 0.
 */
public class UnknownProducerIdException extends RetriableException {
    private static final long serialVersionUID = 1L;

    public UnknownProducerIdException(String message) {
        super(message);
    }

    public UnknownProducerIdException(String message, Throwable cause) {
        super(message, cause);
    }
}
