package io.raftlog.client;

/** What the consumer does when a position is unknown or out of range. */
public enum AutoOffsetReset {
    /** Move to the log start offset. */
    EARLIEST,
    /** Move to the log end offset. */
    LATEST,
    /** Throw {@link io.raftlog.client.errors.OffsetOutOfRangeException} from {@code poll}. */
    NONE
}
