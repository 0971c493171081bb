package io.raftlog.client.errors;

import java.util.OptionalInt;

/**
 * The broker that received the request does not lead (produce) or host (fetch) the partition.
 * Retriable after a metadata refresh; {@link #leaderId()} carries the broker's hint when it had one.
 */
public class NotLeaderException extends RetriableException {
    private static final long serialVersionUID = 1L;
    private final Integer leaderId;

    public NotLeaderException(String message, OptionalInt leaderId) {
        super(message);
        this.leaderId = leaderId.isPresent() ? leaderId.getAsInt() : null;
    }

    /** The broker id of the current leader, when the broker knew it. */
    public OptionalInt leaderId() {
        return leaderId == null ? OptionalInt.empty() : OptionalInt.of(leaderId);
    }
}
