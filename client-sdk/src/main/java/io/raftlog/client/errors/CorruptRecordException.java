package io.raftlog.client.errors;

/** The broker found a record that failed validation (CORRUPT_RECORD). */
public class CorruptRecordException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    public CorruptRecordException(String message) {
        super(message);
    }

    public CorruptRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
