package io.raftlog.client.internals.producer;

import io.raftlog.client.BrokerInfo;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.internals.MetadataCache;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** {@link ProducerMetadata} over the shared {@link MetadataCache}. Thread-safe. */
public final class MetadataCacheView implements ProducerMetadata {
    private final MetadataCache cache;

    public MetadataCacheView(MetadataCache cache) {
        this.cache = cache;
    }

    @Override
    public Optional<String> leaderAddress(TopicPartition tp) {
        return cache.snapshot().leaderAddress(tp);
    }

    @Override
    public void requestUpdate() {
        cache.invalidate();
    }

    @Override
    public void maybeUpdate() {
        if (cache.isStale()) {
            cache.maybeRefresh();
        }
    }

    /** Brokers to ask for a producer id: live ones first, then every known one, then bootstrap. */
    public List<String> brokerAddresses() {
        Set<String> addresses = new LinkedHashSet<>();
        MetadataCache.Snapshot snapshot = cache.snapshot();
        snapshot.brokers().values().stream().filter(BrokerInfo::alive).forEach(b -> addresses.add(b.address()));
        snapshot.brokers().values().forEach(b -> addresses.add(b.address()));
        addresses.addAll(cache.bootstrapServers());
        return List.copyOf(addresses);
    }
}
