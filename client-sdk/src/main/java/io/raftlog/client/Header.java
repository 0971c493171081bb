package io.raftlog.client;

import java.util.Objects;

/** A record header. The value array is not copied: treat it as read-only. */
public record Header(String key, byte[] value) {
    public Header {
        Objects.requireNonNull(key, "key");
    }
}
