package io.raftlog.client.internals.consumer;

import io.raftlog.client.BrokerInfo;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.internals.MetadataCache;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Routing} backed by the client's {@link MetadataCache}. */
public final class MetadataRouting implements Routing {
    private static final Logger log = LoggerFactory.getLogger(MetadataRouting.class);

    private final MetadataCache metadata;
    private final BooleanSupplier partitionsFromCoordinator;

    /** Routing for partitions the application chose: one the topic does not have is an error. */
    public MetadataRouting(MetadataCache metadata) {
        this(metadata, () -> false);
    }

    /**
     * @param partitionsFromCoordinator true while the partitions asked about come from the group
     *        coordinator (a subscribed consumer). A partition beyond the topic's count in fresh
     *        metadata is then one just added to the topic that the answering broker has not applied
     *        yet: it is not routable for now (retried) instead of an error
     */
    public MetadataRouting(MetadataCache metadata, BooleanSupplier partitionsFromCoordinator) {
        this.metadata = metadata;
        this.partitionsFromCoordinator = partitionsFromCoordinator;
    }

    @Override
    public List<String> fetchCandidates(TopicPartition tp) {
        MetadataCache.Snapshot snapshot = current(tp);
        if (snapshot == null) {
            return List.of();
        }
        MetadataCache.PartitionMeta meta = snapshot.topics().get(tp.topic()).get(tp.partition());
        List<String> live = new ArrayList<>();
        List<String> dead = new ArrayList<>();
        snapshot.leaderAddress(tp).ifPresent(leader -> {
            BrokerInfo b = snapshot.brokers().get(meta.leaderId());
            (b.alive() ? live : dead).add(leader);
        });
        for (int replica : meta.replicas()) {
            BrokerInfo b = snapshot.brokers().get(replica);
            if (b != null && replica != meta.leaderId()) {
                (b.alive() ? live : dead).add(b.address());
            }
        }
        // Brokers the metadata calls dead go last, not away: "alive" lags a restart by a session timeout.
        live.addAll(dead);
        return live;
    }

    @Override
    public Optional<String> leader(TopicPartition tp) {
        MetadataCache.Snapshot snapshot = current(tp);
        return snapshot == null ? Optional.empty() : snapshot.leaderAddress(tp);
    }

    @Override
    public void invalidate() {
        metadata.invalidate();
    }

    /**
     * A snapshot that knows {@code tp}, or null when no broker answers (or, with partitions from the
     * coordinator, the answer does not show {@code tp} yet); throws if {@code tp} does not exist or
     * its topic name is invalid. A partition beyond the cached count is looked up afresh once.
     */
    private MetadataCache.Snapshot current(TopicPartition tp) {
        MetadataCache.Snapshot snapshot = metadata.isStale() ? metadata.maybeRefresh() : metadata.snapshot();
        if (snapshot.partitionCount(tp.topic()).isEmpty()) {
            Optional<InvalidTopicException> invalid = snapshot.invalidTopic(tp.topic());
            if (invalid.isPresent()) {
                throw invalid.get();
            }
            try {
                snapshot = metadata.refresh(List.of(tp.topic()));
            } catch (BrokerNotAvailableException e) {
                return null;
            }
            invalid = snapshot.invalidTopic(tp.topic());
            if (invalid.isPresent()) {
                throw invalid.get();
            }
            if (snapshot.partitionCount(tp.topic()).isEmpty()) {
                throw new UnknownTopicOrPartitionException("unknown topic '" + tp.topic() + "'");
            }
        }
        if (tp.partition() >= snapshot.partitionCount(tp.topic()).getAsInt()) {
            // Partitions may have been added to the topic since the cache was filled: ask again.
            try {
                snapshot = metadata.refresh(List.of(tp.topic()));
            } catch (BrokerNotAvailableException e) {
                return null;
            }
            if (snapshot.partitionCount(tp.topic()).isEmpty()) {
                throw new UnknownTopicOrPartitionException("unknown topic '" + tp.topic() + "'");
            }
            int count = snapshot.partitionCount(tp.topic()).getAsInt();
            if (tp.partition() >= count) {
                if (partitionsFromCoordinator.getAsBoolean()) {
                    log.debug("{} is assigned but metadata shows {} partitions of {}; retrying", tp, count, tp.topic());
                    return null;
                }
                throw new UnknownTopicOrPartitionException("topic '" + tp.topic() + "' has no partition "
                        + tp.partition() + " (it has " + count + ")");
            }
        }
        return snapshot;
    }
}
