package io.raftlog.client;

import io.raftlog.client.errors.CommitFailedException;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.OffsetOutOfRangeException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.internals.MetadataCache;
import io.raftlog.client.internals.TopicNames;
import io.raftlog.client.internals.consumer.ConsumerTransport;
import io.raftlog.client.internals.consumer.DecodedRecord;
import io.raftlog.client.internals.consumer.Fetcher;
import io.raftlog.client.internals.consumer.GrpcConsumerTransport;
import io.raftlog.client.internals.consumer.MetadataRouting;
import io.raftlog.client.internals.consumer.Routing;
import io.raftlog.client.internals.consumer.Waiter;
import io.raftlog.client.internals.consumer.group.AssignedPartitions;
import io.raftlog.client.internals.consumer.group.BrokerDirectory;
import io.raftlog.client.internals.consumer.group.ConsumerCoordinator;
import io.raftlog.client.internals.consumer.group.CoordinatorClient;
import io.raftlog.client.internals.consumer.group.GroupTransport;
import io.raftlog.client.internals.consumer.group.GrpcGroupTransport;
import io.raftlog.client.internals.consumer.group.MembershipManager;
import io.raftlog.client.internals.consumer.group.Scheduler;
import io.raftlog.client.transport.ChannelPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads records from partitions, either assigned by hand ({@link #assign}) or by the group
 * coordinator to the members of a consumer group ({@link #subscribe}), with committed offsets.
 *
 * <p>Each assigned partition has a <b>position</b>: the offset of the next record {@link #poll}
 * returns. It is set by {@link #seek}, {@link #seekToBeginning} or {@link #seekToEnd}, for a
 * partition the group assigned by its committed offset, or else by {@code auto.offset.reset} when
 * first needed, and advances exactly past each returned record: within an assignment no offset is
 * skipped or returned twice, across leader changes and broker restarts too (those are retried
 * transparently after a metadata refresh, with backoff).
 *
 * <p><b>Fetching.</b> Records are read with long-poll {@code Fetch} RPCs in the RECORD_BATCHES format
 * (the stored Kafka v2 batches, decompressed by the client), one request per broker covering all
 * assigned partitions it serves, all brokers in parallel. Fetches are <b>pipelined</b>: before
 * {@code poll} returns records, the next fetch for those partitions is already in flight, and its
 * response is buffered until the next {@code poll} (at most one request in flight and one
 * buffered response per partition). A seek discards the partition's buffered and in-flight data.
 *
 * <p><b>Consumer groups</b> (with {@code group.id}). {@link #subscribe} joins the group; the
 * coordinator assigns the partitions of the subscribed topics to the members (server-side
 * assignment, in the style of Kafka's KIP-848 protocol). Heartbeats run on a background thread,
 * so a slow poll loop keeps the membership (there is no {@code max.poll.interval.ms}); the
 * assignment changes are applied inside {@link #poll}, on the application thread, with the
 * {@link ConsumerRebalanceListener} called there. A member cut off from the coordinator for
 * {@code session.timeout.ms} considers its partitions lost and stops fetching them before the
 * coordinator hands them to another member. Offsets are committed with {@link #commitSync()} /
 * {@link #commitAsync()}, or automatically ({@code enable.auto.commit}, the default: every
 * {@code auto.commit.interval.ms} from {@code poll}, the positions of records earlier polls
 * returned, and before partitions are revoked or the consumer closes). For at-least-once
 * processing set {@code enable.auto.commit=false} and call {@code commitSync()} after processing
 * each poll's records.
 *
 * <p><b>Threading.</b> Not thread-safe, like Kafka's consumer: use an instance from one thread at a
 * time. Concurrent use is detected and fails with {@link ConcurrentModificationException}. Network
 * callbacks never run application code (deserializers and rebalance listeners run inside
 * {@code poll}); futures returned by {@code commitAsync} complete on internal threads.
 *
 * <pre>{@code
 * ConsumerConfig config = ConsumerConfig.builder().bootstrapServers("localhost:9092")
 *         .groupId("billing").enableAutoCommit(false).build();
 * try (Consumer<String, String> c = Consumer.create(config, new StringDeserializer(), new StringDeserializer())) {
 *     c.subscribe(List.of("orders"));
 *     while (running) {
 *         for (ConsumerRecord<String, String> r : c.poll(Duration.ofSeconds(1))) { ... }
 *         c.commitSync();
 *     }
 * }
 * }</pre>
 */
public final class Consumer<K, V> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Consumer.class);

    private final ConsumerConfig config;
    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;
    private final ChannelPool channels;
    private final MetadataCache metadata;
    private final Fetcher fetcher;
    /** Group machinery (heartbeats, commit retries); null without group.id. */
    private final Scheduler scheduler;
    private final ConsumerCoordinator coordinator;
    /** The thread inside a public method, to detect concurrent use, and how deep (listener callbacks re-enter). */
    private final AtomicReference<Thread> owner = new AtomicReference<>();
    private int depth;
    private boolean closed;
    /** How partitions are chosen: none yet, {@link #assign} or {@link #subscribe}. */
    private enum Mode { NONE, ASSIGNED, SUBSCRIBED }
    private Mode mode = Mode.NONE;

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private Consumer(ConsumerConfig config, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this.config = Objects.requireNonNull(config, "config");
        this.keyDeserializer = Objects.requireNonNull(keyDeserializer, "keyDeserializer");
        this.valueDeserializer = Objects.requireNonNull(valueDeserializer, "valueDeserializer");
        this.channels = new ChannelPool(config.channelFactory(), config.clock(), config.retryBackoffMs());
        this.metadata = new MetadataCache(config.bootstrapServers(), channels, config.clock(),
                config.retryBackoffMs(), config.requestTimeoutMs(), config.metadataMaxAgeMs());
        ConsumerTransport transport = new GrpcConsumerTransport(channels);
        // A subscribed consumer's partitions come from the coordinator: they exist even where a
        // broker's metadata answer does not show them yet (just added to the topic).
        Routing routing = new MetadataRouting(metadata, () -> mode == Mode.SUBSCRIBED);
        Waiter waiter = Waiter.monitor();
        this.fetcher = new Fetcher(Fetcher.Settings.from(config), transport, routing, config.clock(), waiter);
        String name = config.clientId().isEmpty() ? "consumer-" + INSTANCES.incrementAndGet() : config.clientId();
        String groupId = config.groupId().orElse(null);
        ConsumerCoordinator.Settings settings = new ConsumerCoordinator.Settings(groupId, config.enableAutoCommit(),
                config.autoCommitIntervalMs(), config.requestTimeoutMs(), config.retryBackoffMs());
        AssignedPartitions assigned = new FetcherPartitions(fetcher);
        if (groupId == null) {
            this.scheduler = null;
            this.coordinator = new ConsumerCoordinator(settings, null, null, null, assigned, config.clock(), waiter,
                    "[" + name + "]");
        } else {
            String memberId = UUID.randomUUID().toString();
            String logPrefix = "[" + name + " " + groupId + "/" + memberId.substring(0, 8) + "]";
            this.scheduler = Scheduler.daemon("raftlog-consumer-group-" + name);
            GroupTransport groupTransport = new GrpcGroupTransport(channels);
            CoordinatorClient coordinators = new CoordinatorClient(groupId, groupTransport, BrokerDirectory.of(metadata),
                    scheduler, config.clock(), config.retryBackoffMs(), config.requestTimeoutMs(), logPrefix);
            MembershipManager membership = new MembershipManager(new MembershipManager.Settings(groupId, memberId,
                    config.clientId(), config.sessionTimeoutMs(), config.heartbeatIntervalMs(),
                    config.groupRemoteAssignor(), config.requestTimeoutMs(), config.retryBackoffMs()),
                    coordinators, groupTransport, scheduler, config.clock(), waiter::wakeUp, logPrefix);
            this.coordinator = new ConsumerCoordinator(settings, membership, coordinators, groupTransport, assigned,
                    config.clock(), waiter, logPrefix);
            log.info("{} consumer of group {}: session.timeout.ms={}, heartbeat.interval.ms={}, "
                    + "enable.auto.commit={}, auto.commit.interval.ms={}, group.remote.assignor={}, "
                    + "auto.offset.reset={}", logPrefix, groupId, config.sessionTimeoutMs(),
                    config.heartbeatIntervalMs(), config.enableAutoCommit(), config.autoCommitIntervalMs(),
                    config.groupRemoteAssignor(), config.autoOffsetReset());
        }
    }

    /** The fetcher as the group logic sees it. */
    private record FetcherPartitions(Fetcher fetcher) implements AssignedPartitions {
        @Override
        public Set<TopicPartition> assignment() {
            return fetcher.assignment();
        }

        @Override
        public void assign(Collection<TopicPartition> partitions) {
            fetcher.assign(partitions);
        }

        @Override
        public void seek(TopicPartition tp, long offset) {
            fetcher.seek(tp, offset);
        }

        @Override
        public Map<TopicPartition, Long> positions() {
            return fetcher.positions();
        }
    }

    public static <K, V> Consumer<K, V> create(ConsumerConfig config, Deserializer<K> keyDeserializer,
                                               Deserializer<V> valueDeserializer) {
        return new Consumer<>(config, keyDeserializer, valueDeserializer);
    }

    /**
     * All partitions of {@code topic}, in partition order.
     *
     * @throws InvalidTopicException if no topic can have this name (the message says which rule it breaks)
     * @throws UnknownTopicOrPartitionException if the topic does not exist
     */
    public List<TopicPartition> partitionsFor(String topic) {
        acquire();
        try {
            int count = metadata.partitionCount(topic);
            return IntStream.range(0, count).mapToObj(p -> new TopicPartition(topic, p)).toList();
        } finally {
            release();
        }
    }

    /**
     * Replaces the assignment. Partitions that stay assigned keep their position (and prefetched
     * records); new ones start without a position (use {@link #committed} and {@link #seek} to
     * resume from committed offsets). Topics that do not exist (yet) are accepted: {@link #poll}
     * reports them. With {@code group.id} and {@code enable.auto.commit}, the positions of the
     * current assignment are committed (asynchronously) first; such commits are accepted only
     * while the group has no members. An empty collection is the same as {@link #unsubscribe()}.
     *
     * @throws InvalidTopicException if a topic name is one no topic can have, by the client's copy
     *         of the broker's rules or by a broker's metadata answer; the assignment is then unchanged
     * @throws IllegalStateException if the consumer is subscribed (call {@link #unsubscribe} first)
     */
    public void assign(Collection<TopicPartition> partitions) {
        acquire();
        try {
            notInCallback("assign");
            if (mode == Mode.SUBSCRIBED) {
                throw new IllegalStateException("assign and subscribe are mutually exclusive: the consumer is "
                        + "subscribed to " + coordinator.subscription() + "; unsubscribe() first");
            }
            List<TopicPartition> list = List.copyOf(new LinkedHashSet<>(partitions));
            List<String> topics = list.stream().map(TopicPartition::topic).distinct().toList();
            topics.forEach(TopicNames::validate);
            if (!topics.isEmpty()) {
                MetadataCache.Snapshot snapshot = null;
                try {
                    snapshot = metadata.refresh(topics);
                } catch (RaftlogException e) {
                    // Not fatal here: poll retries once brokers answer.
                    log.debug("metadata refresh on assign failed: {}", e.getMessage());
                    metadata.invalidate();
                }
                if (snapshot != null) {
                    for (String topic : topics) {
                        Optional<InvalidTopicException> invalid = snapshot.invalidTopic(topic);
                        if (invalid.isPresent()) {
                            throw invalid.get();
                        }
                    }
                }
            }
            coordinator.beforeManualAssign(list);
            fetcher.assign(list);
            mode = list.isEmpty() ? Mode.NONE : Mode.ASSIGNED;
        } finally {
            release();
        }
    }

    /** {@link #subscribe(Collection, ConsumerRebalanceListener)} without a listener. */
    public void subscribe(Collection<String> topics) {
        subscribe(topics, null);
    }

    /**
     * Joins the consumer group ({@code group.id}) subscribed to {@code topics}, or changes the
     * subscription (and listener) of a subscribed consumer; partitions are then assigned by the
     * coordinator and picked up by {@link #poll}. Topics that do not exist yet are assigned once
     * created. An empty collection is the same as {@link #unsubscribe()}. Returns at once: the join
     * happens in the background and in {@code poll}.
     *
     * @param listener told about assignment changes, from inside {@code poll} (may be null)
     * @throws IllegalStateException without {@code group.id}, or if partitions were assigned with
     *         {@link #assign} (assign and subscribe are mutually exclusive)
     * @throws InvalidTopicException if a topic name is one no topic can have
     */
    public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
        acquire();
        try {
            notInCallback("subscribe");
            Set<String> set = new LinkedHashSet<>(topics);
            if (set.isEmpty()) {
                unsubscribeLocked();
                return;
            }
            set.forEach(TopicNames::validate);
            if (mode == Mode.ASSIGNED) {
                throw new IllegalStateException("assign and subscribe are mutually exclusive: partitions "
                        + fetcher.assignment() + " are assigned by hand; assign(List.of()) or unsubscribe() first");
            }
            coordinator.subscribe(set, listener);
            mode = Mode.SUBSCRIBED;
        } finally {
            release();
        }
    }

    /**
     * Leaves the group: commits the positions (with {@code enable.auto.commit}), calls
     * {@link ConsumerRebalanceListener#onPartitionsRevoked} (or {@code onPartitionsLost}), and
     * sends the leave, waiting for it up to {@code request.timeout.ms}. With manual assignment,
     * clears the assignment. Nothing happens for a consumer with neither.
     */
    public void unsubscribe() {
        acquire();
        try {
            notInCallback("unsubscribe");
            unsubscribeLocked();
        } finally {
            release();
        }
    }

    private void unsubscribeLocked() {
        if (mode == Mode.SUBSCRIBED) {
            mode = Mode.NONE;
            coordinator.unsubscribe(config.clock().millis() + config.requestTimeoutMs());
        } else if (mode == Mode.ASSIGNED) {
            coordinator.beforeManualAssign(List.of());
            fetcher.assign(List.of());
            mode = Mode.NONE;
        }
    }

    /** The subscribed topics (empty when not subscribed). */
    public Set<String> subscription() {
        acquire();
        try {
            return mode == Mode.SUBSCRIBED ? coordinator.subscription() : Set.of();
        } finally {
            release();
        }
    }

    /**
     * Commits the positions of all assigned (or owned) partitions that have a position and moved
     * since their last commit, waiting up to {@code request.timeout.ms}. The position is the offset
     * of the next record {@code poll} returns, so call this after processing what poll returned.
     *
     * @throws CommitFailedException if the commit failed for good (the group rebalanced, this
     *         member was fenced, or a manual-assignment commit while the group has members);
     *         nothing was committed - poll again
     * @throws TimeoutException if retriable failures (coordinator moving, brokers unreachable) lasted
     *         past the timeout; the offsets may or may not be committed
     * @throws IllegalStateException without {@code group.id}
     */
    public void commitSync() {
        commitSync(Duration.ofMillis(config.requestTimeoutMs()));
    }

    /** {@link #commitSync()} waiting at most {@code timeout}. */
    public void commitSync(Duration timeout) {
        acquire();
        try {
            coordinator.commitSync(deadline(timeout));
        } finally {
            release();
        }
    }

    /**
     * Commits the given offsets (each the offset of the <b>next</b> record to consume), waiting up
     * to {@code request.timeout.ms}; errors as {@link #commitSync()}.
     */
    public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        commitSync(offsets, Duration.ofMillis(config.requestTimeoutMs()));
    }

    /** {@link #commitSync(Map)} waiting at most {@code timeout}. */
    public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
        Objects.requireNonNull(offsets, "offsets");
        acquire();
        try {
            coordinator.commitSync(offsets, deadline(timeout));
        } finally {
            release();
        }
    }

    /**
     * Starts committing the positions {@link #commitSync()} would commit, without waiting. The
     * future fails with {@link CommitFailedException} or, after one retry if the coordinator moved,
     * with the retriable error; it completes on an internal thread (do not block in callbacks
     * chained to it). A later {@code commitSync} waits for it, so it cannot overwrite newer offsets.
     *
     * @throws IllegalStateException without {@code group.id}
     */
    public CompletableFuture<Void> commitAsync() {
        acquire();
        try {
            return coordinator.commitAsync();
        } finally {
            release();
        }
    }

    /** {@link #commitAsync()} of the given offsets. */
    public CompletableFuture<Void> commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        Objects.requireNonNull(offsets, "offsets");
        acquire();
        try {
            return coordinator.commitAsync(offsets);
        } finally {
            release();
        }
    }

    /**
     * The group's committed offsets of {@code partitions} (any partitions, assigned or not),
     * waiting up to {@code request.timeout.ms}; partitions without a committed offset are absent.
     *
     * @throws TimeoutException if the coordinator could not be reached in time
     * @throws IllegalStateException without {@code group.id}
     */
    public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions) {
        return committed(partitions, Duration.ofMillis(config.requestTimeoutMs()));
    }

    /** {@link #committed(Set)} waiting at most {@code timeout}. */
    public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions, Duration timeout) {
        acquire();
        try {
            return coordinator.committed(Set.copyOf(partitions), deadline(timeout));
        } finally {
            release();
        }
    }

    /**
     * The consumer's group, member id and epochs as of its last {@link #poll}.
     *
     * @throws IllegalStateException without {@code group.id}
     */
    public ConsumerGroupMetadata groupMetadata() {
        acquire();
        try {
            return coordinator.groupMetadata();
        } finally {
            release();
        }
    }

    private long deadline(Duration timeout) {
        return config.clock().millis() + Math.max(0, timeout.toMillis());
    }

    /**
     * The assigned partitions: by {@link #assign}, or the partitions the consumer owns in its
     * group, as of its last {@link #poll}.
     */
    public Set<TopicPartition> assignment() {
        acquire();
        try {
            return Set.copyOf(fetcher.assignment());
        } finally {
            release();
        }
    }

    /**
     * Sets the position of an assigned partition: the next poll returns records from
     * {@code offset}. Prefetched and in-flight data of the partition is discarded. An offset
     * outside the log is handled by {@code auto.offset.reset} when the broker reports it.
     */
    public void seek(TopicPartition tp, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0: " + offset);
        }
        acquire();
        try {
            fetcher.seek(tp, offset);
        } finally {
            release();
        }
    }

    /** Moves to the log start offset (resolved lazily by the next {@link #poll} or {@link #position}). */
    public void seekToBeginning(Collection<TopicPartition> partitions) {
        seekTo(partitions, OffsetSpec.EARLIEST);
    }

    /** Moves to the log end offset (resolved lazily by the next {@link #poll} or {@link #position}). */
    public void seekToEnd(Collection<TopicPartition> partitions) {
        seekTo(partitions, OffsetSpec.LATEST);
    }

    private void seekTo(Collection<TopicPartition> partitions, OffsetSpec spec) {
        acquire();
        try {
            fetcher.seekTo(List.copyOf(partitions), spec);
        } finally {
            release();
        }
    }

    /**
     * The offset of the next record {@link #poll} will return for {@code tp}, resolving a pending
     * seek to the beginning/end or an unknown position first (waiting up to {@code request.timeout.ms}).
     *
     * @throws TimeoutException if it cannot be resolved in time
     * @throws OffsetOutOfRangeException if there is no position and auto.offset.reset is none
     */
    public long position(TopicPartition tp) {
        return position(tp, Duration.ofMillis(config.requestTimeoutMs()));
    }

    /** {@link #position(TopicPartition)} waiting at most {@code timeout}. */
    public long position(TopicPartition tp, Duration timeout) {
        acquire();
        try {
            return fetcher.position(tp, timeout.toMillis());
        } finally {
            release();
        }
    }

    /**
     * Returns the records available within {@code timeout}, possibly none, at most
     * {@code max.poll.records}. Records of one partition are in offset order and continue exactly at
     * the partition's position. Returns as soon as any record is available.
     *
     * <p>When subscribed, first applies the group's assignment changes (calling the rebalance
     * listener; see {@link ConsumerRebalanceListener}) and, with {@code enable.auto.commit}, commits
     * the positions of records earlier polls returned once {@code auto.commit.interval.ms} passed.
     * While the consumer owns no partition (joining, or more members than partitions) it just waits.
     *
     * @throws OffsetOutOfRangeException naming the partition, if a position is missing or out of
     *         range and auto.offset.reset is none (again on every poll until you seek it)
     * @throws UnknownTopicOrPartitionException if an assigned topic or partition does not exist
     * @throws InvalidTopicException if a broker refuses an assigned topic name (possible only when
     *         {@link #assign} could not reach a broker)
     * @throws RaftlogException a non-retriable group error (e.g. the coordinator refused the
     *         session timeout); the consumer gives its partitions up and rejoins on the next poll
     * @throws RuntimeException what a rebalance listener callback threw (after the rebalance step)
     * @throws IllegalStateException if neither subscribed nor assigned, or called from a listener
     */
    public List<ConsumerRecord<K, V>> poll(Duration timeout) {
        acquire();
        try {
            notInCallback("poll");
            if (mode == Mode.NONE) {
                throw new IllegalStateException("no partitions assigned and not subscribed to any topic");
            }
            long deadline = deadline(timeout);
            while (true) {
                coordinator.poll();
                long remaining = Math.max(0, deadline - config.clock().millis());
                Map<TopicPartition, List<DecodedRecord>> fetched = fetcher.poll(remaining, coordinator::needsAttention);
                if (!fetched.isEmpty()) {
                    return toRecords(fetched);
                }
                if (config.clock().millis() >= deadline) {
                    return List.of();
                }
            }
        } finally {
            release();
        }
    }

    private List<ConsumerRecord<K, V>> toRecords(Map<TopicPartition, List<DecodedRecord>> fetched) {
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        fetched.forEach((tp, records) -> {
            for (DecodedRecord r : records) {
                out.add(new ConsumerRecord<>(tp.topic(), tp.partition(), r.offset(),
                        keyDeserializer.deserialize(tp.topic(), r.key()),
                        valueDeserializer.deserialize(tp.topic(), r.value()), r.headers(), r.timestampMs()));
            }
        });
        return out;
    }

    /**
     * {@link #close(Duration)} with {@code request.timeout.ms}.
     */
    @Override
    public void close() {
        close(Duration.ofMillis(config.requestTimeoutMs()));
    }

    /**
     * When subscribed: commits the positions (with {@code enable.auto.commit}), calls
     * {@link ConsumerRebalanceListener#onPartitionsRevoked} and leaves the group, waiting at most
     * {@code timeout} for the commit and the leave (listener errors are logged). With manual
     * assignment and {@code group.id}, auto-commits likewise. Then cancels in-flight fetches and
     * closes the connections. Idempotent.
     */
    public void close(Duration timeout) {
        acquireThread();
        try {
            notInCallback("close");
            if (!closed) {
                try {
                    // Listener callbacks may still use the consumer (commitSync) while it leaves the group.
                    coordinator.close(deadline(timeout));
                } finally {
                    closed = true;
                    if (scheduler != null) {
                        scheduler.close();
                    }
                    fetcher.close();
                    channels.close();
                }
            }
        } finally {
            release();
        }
    }

    private void notInCallback(String method) {
        if (coordinator.inCallback()) {
            throw new IllegalStateException(method + "() may not be called from a ConsumerRebalanceListener callback");
        }
    }

    /** Enters a public method: one thread at a time, and not after close. */
    private void acquire() {
        acquireThread();
        if (closed) {
            release();
            throw new IllegalStateException("consumer is closed");
        }
    }

    /** The same thread may re-enter (a rebalance listener calling commitSync from inside poll). */
    private void acquireThread() {
        Thread me = Thread.currentThread();
        if (owner.get() == me) {
            depth++;
            return;
        }
        if (!owner.compareAndSet(null, me)) {
            Thread other = owner.get();
            throw new ConcurrentModificationException("Consumer is not safe for multi-threaded access: "
                    + "it is in use by thread " + (other == null ? "?" : other.getName()));
        }
        depth = 1;
    }

    private void release() {
        if (--depth == 0) {
            owner.set(null);
        }
    }
}
