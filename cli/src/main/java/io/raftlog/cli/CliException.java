package io.raftlog.cli;

/** A runtime failure with a message meant for the operator (printed as {@code error: <message>}). */
public final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
