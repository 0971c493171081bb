package io.raftlog.client.internals;

import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.GetMetadataRequest;
import io.raftlog.api.v1.GetMetadataResponse;
import io.raftlog.api.v1.MetadataServiceGrpc;
import io.raftlog.api.v1.PartitionMetadata;
import io.raftlog.api.v1.TopicMetadata;
import io.raftlog.client.BrokerInfo;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.transport.ChannelPool;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routing information: broker id to address, and per partition the leader and replicas.
 *
 * <p>Filled from {@code GetMetadata} on any reachable broker (known brokers first, then the
 * bootstrap list). Refreshed on demand: callers {@link #invalidate()} after NOT_LEADER or an
 * unreachable broker and call {@link #maybeRefresh()}, which performs at most one RPC per
 * {@code refreshBackoffMs} so a flapping leader does not turn into a request storm. Only the
 * topics a client asked about are tracked.
 *
 * <p>Topic names are checked with {@link TopicNames} before they are tracked or sent, so a name no
 * topic can have fails at once with {@link InvalidTopicException}. A name the client accepts but a
 * broker answers INVALID_ARGUMENT for is remembered with the broker's message (it will not become
 * valid), reported by {@link #partitionCount} and {@link Snapshot#invalidTopic}, and no longer
 * asked for.
 *
 * <p>Thread-safe: refreshes are serialized; readers get immutable {@link Snapshot}s.
 */
public final class MetadataCache {
    private static final Logger log = LoggerFactory.getLogger(MetadataCache.class);

    /** Leader ({@code -1} when unknown) and replicas of one partition. */
    public record PartitionMeta(int partition, int leaderId, List<Integer> replicas) {
    }

    /**
     * An immutable view of the cache.
     *
     * @param invalidTopics names a broker refused as topic names (INVALID_ARGUMENT), with its message
     */
    public record Snapshot(Map<Integer, BrokerInfo> brokers, Map<String, List<PartitionMeta>> topics,
                           Map<String, String> invalidTopics) {
        static final Snapshot EMPTY = new Snapshot(Map.of(), Map.of(), Map.of());

        /**
         * An {@link InvalidTopicException} with the broker's message if a broker refused
         * {@code topic} as a name (a new exception each call: snapshots are shared between threads).
         */
        public Optional<InvalidTopicException> invalidTopic(String topic) {
            String message = invalidTopics.get(topic);
            return message == null ? Optional.empty() : Optional.of(new InvalidTopicException(topic, message));
        }

        /** Partition count of a known topic. */
        public OptionalInt partitionCount(String topic) {
            List<PartitionMeta> partitions = topics.get(topic);
            return partitions == null ? OptionalInt.empty() : OptionalInt.of(partitions.size());
        }

        /** Address of the partition leader, if both the leader and its broker are known. */
        public Optional<String> leaderAddress(TopicPartition tp) {
            List<PartitionMeta> partitions = topics.get(tp.topic());
            if (partitions == null || tp.partition() >= partitions.size()) {
                return Optional.empty();
            }
            BrokerInfo broker = brokers.get(partitions.get(tp.partition()).leaderId());
            return broker == null ? Optional.empty() : Optional.of(broker.address());
        }
    }

    private final List<String> bootstrapServers;
    private final ChannelPool channels;
    private final Clock clock;
    private final long refreshBackoffMs;
    private final int requestTimeoutMs;
    private final long maxAgeMs;

    private final Set<String> trackedTopics = new TreeSet<>();
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    private volatile boolean stale = true;
    private boolean attempted;
    private long lastRefreshAttemptMs;
    /** When the last refresh succeeded (clock millis); meaningful once {@link #refreshCount} > 0. */
    private volatile long lastRefreshMs;
    private long refreshCount;

    /** A cache that is only refreshed on demand (no maximum age). */
    public MetadataCache(List<String> bootstrapServers, ChannelPool channels, Clock clock,
                         long refreshBackoffMs, int requestTimeoutMs) {
        this(bootstrapServers, channels, clock, refreshBackoffMs, requestTimeoutMs, Long.MAX_VALUE);
    }

    /** @param maxAgeMs the cache is stale once its last successful refresh is this old */
    public MetadataCache(List<String> bootstrapServers, ChannelPool channels, Clock clock,
                         long refreshBackoffMs, int requestTimeoutMs, long maxAgeMs) {
        this.bootstrapServers = List.copyOf(bootstrapServers);
        this.channels = channels;
        this.clock = clock;
        this.refreshBackoffMs = refreshBackoffMs;
        this.requestTimeoutMs = requestTimeoutMs;
        this.maxAgeMs = maxAgeMs;
    }

    /** The configured bootstrap addresses. */
    public List<String> bootstrapServers() {
        return bootstrapServers;
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    /** Marks the cache out of date; the next {@link #maybeRefresh()} will ask the cluster. */
    public void invalidate() {
        stale = true;
    }

    /** Invalidated, never refreshed, or last refreshed {@code maxAgeMs} ago or longer. */
    public boolean isStale() {
        return stale || clock.millis() - lastRefreshMs >= maxAgeMs;
    }

    /** Number of GetMetadata RPCs that succeeded (for tests and diagnostics). */
    public synchronized long refreshCount() {
        return refreshCount;
    }

    /**
     * Refreshes when the cache is stale and the last attempt is at least {@code refreshBackoffMs}
     * old; otherwise returns the current snapshot without an RPC. Never throws for an
     * unreachable cluster (the cache stays stale; callers retry later).
     */
    public Snapshot maybeRefresh() {
        synchronized (this) {
            if (!isStale() || (attempted && clock.millis() - lastRefreshAttemptMs < refreshBackoffMs)) {
                return snapshot;
            }
        }
        try {
            return refresh(List.of());
        } catch (BrokerNotAvailableException e) {
            log.debug("metadata refresh failed: {}", e.getMessage());
            return snapshot;
        }
    }

    /**
     * Fetches metadata for the tracked topics plus {@code topics} now, ignoring the backoff.
     *
     * @throws InvalidTopicException if one of {@code topics} is a name no topic can have (checked
     *         before any request; nothing is tracked then)
     * @throws BrokerNotAvailableException when no broker answered
     */
    public synchronized Snapshot refresh(Collection<String> topics) {
        topics.forEach(TopicNames::validate);
        trackedTopics.addAll(topics);
        attempted = true;
        lastRefreshAttemptMs = clock.millis();
        GetMetadataRequest request = GetMetadataRequest.newBuilder().addAllTopics(trackedTopics).build();
        RuntimeException lastError = null;
        for (String address : candidateAddresses()) {
            try {
                GetMetadataResponse response = MetadataServiceGrpc.newBlockingStub(channels.channel(address))
                        .withDeadlineAfter(requestTimeoutMs, TimeUnit.MILLISECONDS)
                        .getMetadata(request);
                snapshot = merge(response);
                stale = false;
                lastRefreshMs = clock.millis();
                refreshCount++;
                return snapshot;
            } catch (StatusRuntimeException e) {
                lastError = Errors.fromThrowable(e);
                log.debug("GetMetadata from {} failed: {}", address, lastError.getMessage());
            }
        }
        throw new BrokerNotAvailableException("no broker answered GetMetadata (tried "
                + candidateAddresses() + ")" + (lastError == null ? "" : ": " + lastError.getMessage()), lastError);
    }

    /**
     * Partition count of {@code topic}, refreshing once if the topic is not cached.
     *
     * @throws InvalidTopicException if no topic can have this name (by the client's rules, without
     *         a request, or by a broker's answer, with its message)
     * @throws UnknownTopicOrPartitionException if the cluster does not know the topic
     */
    public int partitionCount(String topic) {
        TopicNames.validate(topic);
        Snapshot current = snapshot;
        OptionalInt count = current.partitionCount(topic);
        if (count.isPresent()) {
            return count.getAsInt();
        }
        Optional<InvalidTopicException> invalid = current.invalidTopic(topic);
        if (invalid.isPresent()) {
            throw invalid.get();
        }
        Snapshot fresh = refresh(List.of(topic));
        invalid = fresh.invalidTopic(topic);
        if (invalid.isPresent()) {
            throw invalid.get();
        }
        count = fresh.partitionCount(topic);
        if (count.isEmpty()) {
            throw new UnknownTopicOrPartitionException("unknown topic '" + topic + "'");
        }
        return count.getAsInt();
    }

    private List<String> candidateAddresses() {
        Set<String> addresses = new LinkedHashSet<>();
        Snapshot current = snapshot;
        current.brokers().values().stream().filter(BrokerInfo::alive).forEach(b -> addresses.add(b.address()));
        current.brokers().values().forEach(b -> addresses.add(b.address()));
        addresses.addAll(bootstrapServers);
        return new ArrayList<>(addresses);
    }

    private Snapshot merge(GetMetadataResponse response) {
        Map<Integer, BrokerInfo> brokers = new HashMap<>();
        for (io.raftlog.api.v1.BrokerInfo b : response.getBrokersList()) {
            brokers.put(b.getBrokerId(), new BrokerInfo(b.getBrokerId(), b.getHost(), b.getPort(), b.getAlive()));
        }
        Map<String, List<PartitionMeta>> topics = new HashMap<>(snapshot.topics());
        Map<String, String> invalidTopics = new HashMap<>(snapshot.invalidTopics());
        for (TopicMetadata topic : response.getTopicsList()) {
            if (topic.hasError() && topic.getError().getCode() != ErrorCode.NONE) {
                topics.remove(topic.getName());
                if (Errors.toTopicException(topic.getName(), topic.getError()) instanceof InvalidTopicException e) {
                    // The broker's rules refuse the name (the client's copy let it through): it
                    // will not become valid, so stop asking for it and keep the broker's words.
                    log.debug("broker refused topic name {}: {}", topic.getName(), e.getMessage());
                    invalidTopics.put(topic.getName(), e.getMessage());
                    trackedTopics.remove(topic.getName());
                }
                continue;
            }
            PartitionMeta[] partitions = new PartitionMeta[topic.getPartitionsCount()];
            for (PartitionMetadata p : topic.getPartitionsList()) {
                if (p.getPartition() < 0 || p.getPartition() >= partitions.length) {
                    log.warn("ignoring topic {}: partition numbers are not 0..{}", topic.getName(), partitions.length - 1);
                    partitions = null;
                    break;
                }
                partitions[p.getPartition()] = new PartitionMeta(p.getPartition(), p.getLeaderId(),
                        List.copyOf(p.getReplicasList()));
            }
            if (partitions != null && java.util.Arrays.stream(partitions).anyMatch(java.util.Objects::isNull)) {
                log.warn("ignoring topic {}: partition list has gaps", topic.getName());
                partitions = null;
            }
            if (partitions != null) {
                topics.put(topic.getName(), List.of(partitions));
                invalidTopics.remove(topic.getName());
            }
        }
        return new Snapshot(Map.copyOf(brokers), Map.copyOf(topics), Map.copyOf(invalidTopics));
    }
}
