package io.raftlog.client.internals.producer;

import io.raftlog.client.TopicPartition;
import java.util.Optional;

/**
 * The routing view the {@link Sender} needs: who leads a partition, and a way to ask for fresher
 * information after a leader change. Production: {@link MetadataCacheView}; tests: a map.
 */
public interface ProducerMetadata {

    /** Address ({@code host:port}) of the partition's leader, if known. */
    Optional<String> leaderAddress(TopicPartition tp);

    /** Marks the routing information stale (NOT_LEADER, unreachable broker, unknown leader...). */
    void requestUpdate();

    /**
     * Refreshes when an update was requested and the refresh backoff allows it. Never throws (an
     * unreachable cluster leaves the view stale). May block the sender up to one request timeout.
     */
    void maybeUpdate();
}
