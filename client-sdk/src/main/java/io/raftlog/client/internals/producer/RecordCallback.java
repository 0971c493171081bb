package io.raftlog.client.internals.producer;

import io.raftlog.client.RecordMetadata;
import io.raftlog.client.errors.RaftlogException;
import org.slf4j.LoggerFactory;

/**
 * What the application asked to be called with when a record is done: the batch calls it on the
 * sender thread just before it completes the record's future. Kept next to the future in the
 * batch, so a callback costs no stage chained on the future (which was a second future and a
 * completion hop per record).
 */
@FunctionalInterface
public interface RecordCallback {
    /** Exactly one of {@code metadata} (acknowledged) and {@code error} (failed) is non-null. */
    void onCompletion(RecordMetadata metadata, RaftlogException error);

    /** Calls {@code callback} if there is one; one that throws is logged, so the others still run. */
    static void callQuietly(RecordCallback callback, RecordMetadata metadata, RaftlogException error) {
        if (callback == null) {
            return;
        }
        try {
            callback.onCompletion(metadata, error);
        } catch (RuntimeException callbackFailure) {
            LoggerFactory.getLogger(RecordCallback.class).warn("producer callback threw", callbackFailure);
        }
    }
}
