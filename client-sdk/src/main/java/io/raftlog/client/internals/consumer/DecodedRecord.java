package io.raftlog.client.internals.consumer;

import io.raftlog.client.Header;
import java.util.List;

/** One record of a fetched batch, before key/value deserialization. {@code null} key/value = absent. */
public record DecodedRecord(long offset, long timestampMs, byte[] key, byte[] value, List<Header> headers) {

    /** Key plus value bytes (what {@code perf consume} counts as payload). */
    public int payloadBytes() {
        return (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
    }
}
