package io.raftlog.client;

import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.ListOffsetsPartition;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResult;
import io.raftlog.api.v1.Record;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.LeaderNotAvailableException;
import io.raftlog.client.errors.OffsetOutOfRangeException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.internals.Futures;
import io.raftlog.client.internals.MetadataCache;
import io.raftlog.client.transport.ChannelPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads records from manually assigned partitions.
 *
 * <p>Each assigned partition has a position: the offset of the next record to return. A
 * position is set by {@link #seek}, {@link #seekToBeginning} or {@link #seekToEnd}, or else
 * by {@code autoOffsetReset} when first needed; it advances exactly past each returned record,
 * so no offset is skipped or returned twice. {@link #poll} long-polls the leaders of the assigned
 * partitions (one request per broker covering all its partitions) and returns records in offset
 * order per partition. NOT_LEADER and unreachable brokers lead to a metadata refresh and a retry
 * at the same position.
 *
 * <p>Not thread-safe: use a consumer from one thread at a time (as with Kafka).
 */
public final class Consumer<K, V> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Consumer.class);

    private final ConsumerConfig config;
    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;
    private final ChannelPool channels;
    private final MetadataCache metadata;
    /** Assigned partitions in assignment order; a {@code null} position is unknown. */
    private final Map<TopicPartition, Long> positions = new LinkedHashMap<>();
    /** Pending lazy seeks to the beginning or end, resolved by the next poll/position. */
    private final Map<TopicPartition, OffsetSpec> pendingResets = new HashMap<>();

    private Consumer(ConsumerConfig config, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this.config = config;
        this.keyDeserializer = Objects.requireNonNull(keyDeserializer, "keyDeserializer");
        this.valueDeserializer = Objects.requireNonNull(valueDeserializer, "valueDeserializer");
        this.channels = new ChannelPool(config.channelFactory());
        this.metadata = new MetadataCache(config.bootstrapServers(), channels, config.clock(),
                config.retryBackoffMs(), config.requestTimeoutMs());
    }

    public static <K, V> Consumer<K, V> create(ConsumerConfig config, Deserializer<K> keyDeserializer,
                                               Deserializer<V> valueDeserializer) {
        return new Consumer<>(config, keyDeserializer, valueDeserializer);
    }

    /**
     * All partitions of {@code topic}, in partition order.
     *
     * @throws UnknownTopicOrPartitionException if the topic does not exist
     */
    public List<TopicPartition> partitionsFor(String topic) {
        int count = metadata.partitionCount(topic);
        return IntStream.range(0, count).mapToObj(p -> new TopicPartition(topic, p)).toList();
    }

    /** Replaces the assignment. Positions of partitions that stay assigned are kept. */
    public void assign(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> kept = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            kept.put(tp, positions.get(tp));
        }
        positions.clear();
        positions.putAll(kept);
        pendingResets.keySet().retainAll(kept.keySet());
        List<String> topics = partitions.stream().map(TopicPartition::topic).distinct().toList();
        if (!topics.isEmpty()) {
            try {
                metadata.refresh(topics);
            } catch (RaftlogException e) {
                // Not fatal here: poll retries once brokers answer.
                log.debug("metadata refresh on assign failed: {}", e.getMessage());
                metadata.invalidate();
            }
        }
    }

    public Set<TopicPartition> assignment() {
        return Set.copyOf(positions.keySet());
    }

    /** Sets the position of an assigned partition; the next poll returns records from {@code offset}. */
    public void seek(TopicPartition tp, long offset) {
        requireAssigned(tp);
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0: " + offset);
        }
        positions.put(tp, offset);
        pendingResets.remove(tp);
    }

    /** Moves to the log start offset (resolved lazily by the next {@link #poll} or {@link #position}). */
    public void seekToBeginning(Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> {
            requireAssigned(tp);
            pendingResets.put(tp, OffsetSpec.EARLIEST);
        });
    }

    /** Moves to the log end offset (resolved lazily by the next {@link #poll} or {@link #position}). */
    public void seekToEnd(Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> {
            requireAssigned(tp);
            pendingResets.put(tp, OffsetSpec.LATEST);
        });
    }

    /** The offset of the next record {@link #poll} will return for {@code tp}, resolving it if needed. */
    public long position(TopicPartition tp) {
        requireAssigned(tp);
        resolvePositions(config.clock().millis() + config.requestTimeoutMs());
        return positions.get(tp);
    }

    /**
     * Returns the records available within {@code timeout}, possibly none. Records of one
     * partition are in offset order and continue exactly at the partition's position.
     *
     * @throws OffsetOutOfRangeException if a position is out of range and autoOffsetReset is NONE
     * @throws UnknownTopicOrPartitionException if an assigned topic or partition does not exist
     */
    public List<ConsumerRecord<K, V>> poll(Duration timeout) {
        if (positions.isEmpty()) {
            throw new IllegalStateException("no partitions assigned");
        }
        long deadline = config.clock().millis() + Math.max(0, timeout.toMillis());
        do {
            resolvePositions(Math.max(deadline, config.clock().millis() + config.requestTimeoutMs()));
            List<ConsumerRecord<K, V>> records = fetchOnce(deadline);
            if (!records.isEmpty()) {
                return records;
            }
        } while (config.clock().millis() < deadline);
        return List.of();
    }

    @Override
    public void close() {
        channels.close();
    }

    private void requireAssigned(TopicPartition tp) {
        if (!positions.containsKey(tp)) {
            throw new IllegalStateException(tp + " is not assigned");
        }
    }

    /** Turns pending seeks and unknown positions into offsets via ListOffsets on the leaders. */
    private void resolvePositions(long deadline) {
        for (Map.Entry<TopicPartition, Long> entry : positions.entrySet()) {
            TopicPartition tp = entry.getKey();
            OffsetSpec spec = pendingResets.get(tp);
            if (spec == null && entry.getValue() == null) {
                spec = switch (config.autoOffsetReset()) {
                    case EARLIEST -> OffsetSpec.EARLIEST;
                    case LATEST -> OffsetSpec.LATEST;
                    case NONE -> throw new OffsetOutOfRangeException("no position for " + tp
                            + " and autoOffsetReset is none; seek first");
                };
            }
            if (spec != null) {
                long offset = listOffset(tp, spec, deadline);
                entry.setValue(offset);
                pendingResets.remove(tp);
                log.debug("position of {} reset to {} ({})", tp, offset, spec);
            }
        }
    }

    private long listOffset(TopicPartition tp, OffsetSpec spec, long deadline) {
        ListOffsetsRequest request = ListOffsetsRequest.newBuilder().addPartitions(ListOffsetsPartition.newBuilder()
                .setTopic(tp.topic()).setPartition(tp.partition())
                .setSpec(spec == OffsetSpec.EARLIEST ? io.raftlog.api.v1.OffsetSpec.EARLIEST
                        : io.raftlog.api.v1.OffsetSpec.LATEST)).build();
        boolean unknownTopicRetried = false;
        while (true) {
            RaftlogException error;
            String leader = leaderOf(tp);
            if (leader == null) {
                error = new LeaderNotAvailableException("no known leader for " + tp);
            } else {
                try {
                    ListOffsetsResult result = FetchServiceGrpc.newBlockingStub(channels.channel(leader))
                            .withDeadlineAfter(config.requestTimeoutMs(), TimeUnit.MILLISECONDS)
                            .listOffsets(request).getResults(0);
                    error = Errors.toException(result.getError());
                    if (error == null) {
                        return result.getOffset();
                    }
                } catch (RuntimeException e) {
                    error = Errors.fromThrowable(e);
                }
            }
            if (error instanceof UnknownTopicOrPartitionException && !unknownTopicRetried) {
                unknownTopicRetried = true;
            } else if (!error.isRetriable()) {
                throw error;
            }
            if (config.clock().millis() >= deadline) {
                throw new TimeoutException("could not resolve offset of " + tp + ": " + error.getMessage(), error);
            }
            backoffAndRefresh();
        }
    }

    private String leaderOf(TopicPartition tp) {
        MetadataCache.Snapshot snapshot = metadata.isStale() ? metadata.maybeRefresh() : metadata.snapshot();
        if (snapshot.partitionCount(tp.topic()).isEmpty()) {
            snapshot = metadata.refresh(List.of(tp.topic()));
            if (snapshot.partitionCount(tp.topic()).isEmpty()) {
                throw new UnknownTopicOrPartitionException("unknown topic '" + tp.topic() + "'");
            }
        }
        if (tp.partition() >= snapshot.partitionCount(tp.topic()).getAsInt()) {
            throw new UnknownTopicOrPartitionException("unknown partition " + tp);
        }
        return snapshot.leaderAddress(tp).orElse(null);
    }

    private void backoffAndRefresh() {
        metadata.invalidate();
        try {
            Thread.sleep(config.retryBackoffMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RaftlogException("interrupted", e);
        }
        metadata.maybeRefresh();
    }

    /** One fetch round: one long-poll request per leader broker, all in parallel. */
    private List<ConsumerRecord<K, V>> fetchOnce(long deadline) {
        int maxWait = (int) Math.max(0, Math.min(config.fetchMaxWaitMs(), deadline - config.clock().millis()));
        Map<String, FetchRequest.Builder> requests = new LinkedHashMap<>();
        boolean missingLeader = false;
        for (Map.Entry<TopicPartition, Long> entry : positions.entrySet()) {
            TopicPartition tp = entry.getKey();
            String leader = leaderOf(tp);
            if (leader == null) {
                missingLeader = true;
                continue;
            }
            requests.computeIfAbsent(leader, a -> FetchRequest.newBuilder().setMaxWaitMs(maxWait).setMinBytes(1))
                    .addPartitions(FetchPartition.newBuilder().setTopic(tp.topic()).setPartition(tp.partition())
                            .setOffset(entry.getValue()).setMaxBytes(config.maxPartitionFetchBytes()));
        }
        if (missingLeader) {
            metadata.invalidate();
        }
        Map<String, CompletableFuture<FetchResponse>> inFlight = new LinkedHashMap<>();
        long rpcDeadlineMs = maxWait + (long) config.requestTimeoutMs();
        requests.forEach((address, request) -> {
            FetchRequest built = request.build();
            inFlight.put(address, Futures.unary(o -> FetchServiceGrpc.newStub(channels.channel(address))
                    .withDeadlineAfter(rpcDeadlineMs, TimeUnit.MILLISECONDS).fetch(built, o)));
        });
        Map<TopicPartition, FetchPartitionResult> results = new HashMap<>();
        boolean retriableFailure = missingLeader;
        for (Map.Entry<String, CompletableFuture<FetchResponse>> entry : inFlight.entrySet()) {
            try {
                for (FetchPartitionResult r : entry.getValue().join().getResultsList()) {
                    results.put(new TopicPartition(r.getTopic(), r.getPartition()), r);
                }
            } catch (RuntimeException e) {
                RaftlogException mapped = Errors.fromThrowable(e);
                if (!mapped.isRetriable()) {
                    throw mapped;
                }
                log.debug("fetch from {} failed: {}", entry.getKey(), mapped.getMessage());
                metadata.invalidate();
                retriableFailure = true;
            }
        }
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        for (Map.Entry<TopicPartition, Long> entry : positions.entrySet()) {
            FetchPartitionResult result = results.get(entry.getKey());
            if (result != null) {
                retriableFailure |= handleResult(entry.getKey(), result, out);
            }
        }
        if (out.isEmpty() && retriableFailure && config.clock().millis() < deadline) {
            // Avoid a hot loop while leaders move; the next round fetches at the same positions.
            backoffAndRefresh();
        }
        return out;
    }

    /** Applies one partition's result; returns whether it was a retriable error. */
    private boolean handleResult(TopicPartition tp, FetchPartitionResult result, List<ConsumerRecord<K, V>> out) {
        RaftlogException error = Errors.toException(result.getError());
        if (error instanceof OffsetOutOfRangeException) {
            long position = positions.get(tp);
            switch (config.autoOffsetReset()) {
                case EARLIEST -> pendingResets.put(tp, OffsetSpec.EARLIEST);
                case LATEST -> pendingResets.put(tp, OffsetSpec.LATEST);
                case NONE -> throw new OffsetOutOfRangeException("offset " + position + " of " + tp
                        + " is out of range [" + result.getLogStartOffset() + ", " + result.getHighWatermark() + "]");
            }
            log.info("offset {} of {} out of range; resetting to {}", position, tp, config.autoOffsetReset());
            return false;
        }
        if (error != null) {
            if (error instanceof UnknownTopicOrPartitionException || error.isRetriable()) {
                metadata.invalidate();
                log.debug("fetch of {} failed: {}", tp, error.getMessage());
                return true;
            }
            throw error;
        }
        long position = positions.get(tp);
        for (Record r : result.getRecordsList()) {
            // The broker starts at the requested offset, but never trust that blindly.
            if (r.getOffset() < position) {
                continue;
            }
            out.add(new ConsumerRecord<>(tp.topic(), tp.partition(), r.getOffset(),
                    keyDeserializer.deserialize(tp.topic(), r.hasKey() ? r.getKey().toByteArray() : null),
                    valueDeserializer.deserialize(tp.topic(), r.hasValue() ? r.getValue().toByteArray() : null),
                    r.getHeadersList().stream().map(h -> new Header(h.getKey(), h.getValue().toByteArray())).toList(),
                    r.getTimestampMs()));
            position = r.getOffset() + 1;
        }
        positions.put(tp, position);
        return false;
    }
}
