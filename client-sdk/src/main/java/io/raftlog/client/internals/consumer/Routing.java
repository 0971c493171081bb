package io.raftlog.client.internals.consumer;

import io.raftlog.client.TopicPartition;
import java.util.List;
import java.util.Optional;

/**
 * Where to send a partition's requests, from cluster metadata. Calls may do a (rate-limited,
 * blocking) metadata refresh when the view is stale.
 */
public interface Routing {

    /**
     * Brokers that can serve a fetch of {@code tp}, best first: the leader (freshest high
     * watermark), then the other replicas on live brokers (any replica serves committed data, which
     * keeps a consumer reading while a leader is being re-elected). Empty when none is known.
     *
     * @throws io.raftlog.client.errors.UnknownTopicOrPartitionException if fresh metadata says the
     *         topic or partition does not exist
     * @throws io.raftlog.client.errors.InvalidTopicException if a broker refused the topic name
     */
    List<String> fetchCandidates(TopicPartition tp);

    /** The leader's address (ListOffsets LATEST must come from it), if known. */
    Optional<String> leader(TopicPartition tp);

    /** The view may be out of date (NOT_LEADER, unreachable broker): refresh before the next lookup. */
    void invalidate();
}
