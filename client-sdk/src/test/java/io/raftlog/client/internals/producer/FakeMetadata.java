package io.raftlog.client.internals.producer;

import io.raftlog.client.TopicPartition;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Leaders from a map; counts update requests and refreshes. */
final class FakeMetadata implements ProducerMetadata {
    final Map<TopicPartition, String> leaders = new HashMap<>();
    /** Leaders that a refresh will install (simulates the cluster's view after a leader change). */
    final Map<TopicPartition, String> clusterLeaders = new HashMap<>();
    boolean updateRequested;
    int refreshes;

    @Override
    public Optional<String> leaderAddress(TopicPartition tp) {
        return Optional.ofNullable(leaders.get(tp));
    }

    @Override
    public void requestUpdate() {
        updateRequested = true;
    }

    @Override
    public void maybeUpdate() {
        if (updateRequested) {
            updateRequested = false;
            refreshes++;
            leaders.putAll(clusterLeaders);
        }
    }
}
