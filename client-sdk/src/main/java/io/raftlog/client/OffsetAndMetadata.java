package io.raftlog.client;

import java.util.Objects;

/**
 * An offset to commit, or a committed one: the offset of the <b>next</b> record to consume (a
 * consumer's position), with optional application data.
 *
 * @param offset the next offset to consume, >= 0
 * @param metadata application data stored with the offset, at most {@value #MAX_METADATA_LENGTH}
 *        characters (null is taken as empty)
 */
public record OffsetAndMetadata(long offset, String metadata) {
    /** Longest metadata string the coordinator stores. */
    public static final int MAX_METADATA_LENGTH = 4096;

    public OffsetAndMetadata {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0: " + offset);
        }
        metadata = Objects.requireNonNullElse(metadata, "");
        if (metadata.length() > MAX_METADATA_LENGTH) {
            throw new IllegalArgumentException("metadata must be at most " + MAX_METADATA_LENGTH
                    + " characters, got " + metadata.length());
        }
    }

    /** An offset without metadata. */
    public OffsetAndMetadata(long offset) {
        this(offset, "");
    }
}
