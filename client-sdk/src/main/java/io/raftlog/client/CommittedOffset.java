package io.raftlog.client;

import java.util.Objects;

/**
 * An offset committed by a consumer group for one partition (the partition is the key of the map
 * that holds it). Immutable.
 *
 * @param offset the offset of the next record the group will consume, {@code >= 0}
 * @param metadata application data stored with the commit ({@code ""} when none)
 * @param commitTimestampMs when the coordinator stored the commit, in milliseconds since the epoch
 */
public record CommittedOffset(long offset, String metadata, long commitTimestampMs) {
    public CommittedOffset {
        Objects.requireNonNull(metadata, "metadata");
    }
}
