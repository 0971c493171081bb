package io.raftlog.client.errors;

import java.util.OptionalInt;

/**
 * The broker that received a group request is not the group coordinator. Retriable after finding
 * the coordinator again; {@link #coordinatorId()} carries the broker's hint when it had one.
 */
public class NotCoordinatorException extends RetriableException {
    private static final long serialVersionUID = 1L;
    private final Integer coordinatorId;

    public NotCoordinatorException(String message, OptionalInt coordinatorId) {
        super(message);
        this.coordinatorId = coordinatorId.isPresent() ? coordinatorId.getAsInt() : null;
    }

    /** The broker id of the coordinator, when the broker knew it. */
    public OptionalInt coordinatorId() {
        return coordinatorId == null ? OptionalInt.empty() : OptionalInt.of(coordinatorId);
    }
}
