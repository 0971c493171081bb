package io.raftlog.client.errors;

import io.raftlog.client.TopicPartition;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The requested offset is below the log start offset or beyond the log end offset. Thrown by
 * {@code Consumer.poll} (naming the partition) when a position is missing or out of range and
 * {@code auto.offset.reset} is {@code none}.
 */
public class OffsetOutOfRangeException extends RaftlogException {
    private static final long serialVersionUID = 1L;

    private final transient TopicPartition partition;
    private final long offset;

    public OffsetOutOfRangeException(String message) {
        this(message, (Throwable) null);
    }

    public OffsetOutOfRangeException(String message, Throwable cause) {
        super(message, cause);
        this.partition = null;
        this.offset = -1;
    }

    /** For a consumer position: {@code offset} is -1 when the partition had no position at all. */
    public OffsetOutOfRangeException(TopicPartition partition, long offset, String message) {
        super(message);
        this.partition = partition;
        this.offset = offset;
    }

    /** The partition whose position is invalid, when known. */
    public Optional<TopicPartition> partition() {
        return Optional.ofNullable(partition);
    }

    /** The invalid offset, when there was one. */
    public OptionalLong offset() {
        return offset < 0 ? OptionalLong.empty() : OptionalLong.of(offset);
    }
}
