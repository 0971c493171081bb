package io.raftlog.client.errors;

/**
 * The producer could not reserve memory for a record within {@code maxBlockMs}: the
 * {@code bufferMemoryBytes} budget is full of records that have not been delivered yet (usually
 * because the cluster is unreachable or slower than the application). Retriable: the record was
 * not queued and may be sent again later.
 */
public class BufferExhaustedException extends TimeoutException {
    private static final long serialVersionUID = 1L;

    public BufferExhaustedException(String message) {
        super(message);
    }
}
