package io.raftlog.client;

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
import io.raftlog.client.transport.ChannelPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads records from manually assigned partitions (no consumer groups, no committed offsets).
 *
 * <p>Each assigned partition has a <b>position</b>: the offset of the next record {@link #poll}
 * returns. It is set by {@link #seek}, {@link #seekToBeginning} or {@link #seekToEnd}, or else by
 * {@code auto.offset.reset} when first needed, and advances exactly past each returned record: within
 * an assignment no offset is skipped or returned twice, across leader changes and broker restarts
 * too (those are retried transparently after a metadata refresh, with backoff).
 *
 * <p><b>Fetching.</b> Records are read with long-poll {@code Fetch} RPCs in the RECORD_BATCHES format
 * (the stored Kafka v2 batches, decompressed by the client), one request per broker covering all
 * assigned partitions it serves, all brokers in parallel. Fetches are <b>pipelined</b>: before
 * {@code poll} returns records, the next fetch for those partitions is already in flight, and its
 * response is buffered until the next {@code poll} (at most one request in flight and one
 * buffered response per partition). A seek discards the partition's buffered and in-flight data.
 *
 * <p><b>Threading.</b> Not thread-safe, like Kafka's consumer: use an instance from one thread at a
 * time. Concurrent use is detected and fails with {@link ConcurrentModificationException}. Network
 * callbacks never run application code (deserializers run inside {@code poll}).
 *
 * <pre>{@code
 * try (Consumer<String, String> c = Consumer.create(config, new StringDeserializer(), new StringDeserializer())) {
 *     c.assign(c.partitionsFor("orders"));
 *     c.seekToBeginning(c.assignment());
 *     while (running) {
 *         for (ConsumerRecord<String, String> r : c.poll(Duration.ofSeconds(1))) { ... }
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
    /** The thread inside a public method, to detect concurrent use. */
    private final AtomicReference<Thread> owner = new AtomicReference<>();
    private boolean closed;

    private Consumer(ConsumerConfig config, Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        this.config = Objects.requireNonNull(config, "config");
        this.keyDeserializer = Objects.requireNonNull(keyDeserializer, "keyDeserializer");
        this.valueDeserializer = Objects.requireNonNull(valueDeserializer, "valueDeserializer");
        this.channels = new ChannelPool(config.channelFactory(), config.clock(), config.retryBackoffMs());
        this.metadata = new MetadataCache(config.bootstrapServers(), channels, config.clock(),
                config.retryBackoffMs(), config.requestTimeoutMs());
        ConsumerTransport transport = new GrpcConsumerTransport(channels);
        Routing routing = new MetadataRouting(metadata);
        this.fetcher = new Fetcher(Fetcher.Settings.from(config), transport, routing, config.clock(), Waiter.monitor());
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
     * records); new ones start without a position. Topics that do not exist (yet) are accepted:
     * {@link #poll} reports them.
     *
     * @throws InvalidTopicException if a topic name is one no topic can have, by the client's copy
     *         of the broker's rules or by a broker's metadata answer; the assignment is then unchanged
     */
    public void assign(Collection<TopicPartition> partitions) {
        acquire();
        try {
            List<TopicPartition> list = List.copyOf(partitions);
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
            fetcher.assign(list);
        } finally {
            release();
        }
    }

    /** The assigned partitions, in assignment order. */
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
     * @throws OffsetOutOfRangeException naming the partition, if a position is missing or out of
     *         range and auto.offset.reset is none (again on every poll until you seek it)
     * @throws UnknownTopicOrPartitionException if an assigned topic or partition does not exist
     * @throws InvalidTopicException if a broker refuses an assigned topic name (possible only when
     *         {@link #assign} could not reach a broker)
     * @throws IllegalStateException if no partition is assigned
     */
    public List<ConsumerRecord<K, V>> poll(Duration timeout) {
        acquire();
        try {
            if (fetcher.assignment().isEmpty()) {
                throw new IllegalStateException("no partitions assigned");
            }
            Map<TopicPartition, List<DecodedRecord>> fetched = fetcher.poll(timeout.toMillis());
            List<ConsumerRecord<K, V>> out = new ArrayList<>();
            fetched.forEach((tp, records) -> {
                for (DecodedRecord r : records) {
                    out.add(new ConsumerRecord<>(tp.topic(), tp.partition(), r.offset(),
                            keyDeserializer.deserialize(tp.topic(), r.key()),
                            valueDeserializer.deserialize(tp.topic(), r.value()), r.headers(), r.timestampMs()));
                }
            });
            return out;
        } finally {
            release();
        }
    }

    /** Cancels in-flight fetches and closes the connections. Idempotent. */
    @Override
    public void close() {
        acquireThread();
        try {
            if (!closed) {
                closed = true;
                fetcher.close();
                channels.close();
            }
        } finally {
            release();
        }
    }

    /** Enters a public method: one thread at a time, and not after close. */
    private void acquire() {
        acquireThread();
        if (closed) {
            owner.set(null);
            throw new IllegalStateException("consumer is closed");
        }
    }

    private void acquireThread() {
        Thread me = Thread.currentThread();
        if (!owner.compareAndSet(null, me)) {
            Thread other = owner.get();
            throw new ConcurrentModificationException("Consumer is not safe for multi-threaded access: "
                    + "it is in use by thread " + (other == null ? "?" : other.getName()));
        }
    }

    private void release() {
        owner.set(null);
    }
}
