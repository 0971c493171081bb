package io.raftlog.client;

/** Which offset {@code listOffsets} / {@code seekToBeginning} / {@code seekToEnd} resolve. */
public enum OffsetSpec {
    /** The log start offset. */
    EARLIEST,
    /** The log end offset (high watermark): the offset the next committed record will get. */
    LATEST
}
