package io.raftlog.client.internals.consumer.group;

import io.raftlog.client.BrokerInfo;
import io.raftlog.client.internals.MetadataCache;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Broker addresses the coordinator lookup can use. Thread-safe. */
public interface BrokerDirectory {

    /** Addresses to send FindCoordinator to, best first (any broker answers it). Never empty. */
    List<String> findCoordinatorCandidates();

    /** The address of broker {@code brokerId}, if known (to follow a NOT_COORDINATOR hint). */
    Optional<String> address(int brokerId);

    /** Brokers from the client's metadata cache (live ones first), then the bootstrap servers. */
    static BrokerDirectory of(MetadataCache metadata) {
        return new BrokerDirectory() {
            @Override
            public List<String> findCoordinatorCandidates() {
                Set<String> addresses = new LinkedHashSet<>();
                MetadataCache.Snapshot snapshot = metadata.snapshot();
                snapshot.brokers().values().stream().filter(BrokerInfo::alive).forEach(b -> addresses.add(b.address()));
                snapshot.brokers().values().forEach(b -> addresses.add(b.address()));
                addresses.addAll(metadata.bootstrapServers());
                return new ArrayList<>(addresses);
            }

            @Override
            public Optional<String> address(int brokerId) {
                BrokerInfo b = metadata.snapshot().brokers().get(brokerId);
                return b == null ? Optional.empty() : Optional.of(b.address());
            }
        };
    }
}
