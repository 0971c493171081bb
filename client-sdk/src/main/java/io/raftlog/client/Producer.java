package io.raftlog.client;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Record;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.internals.MetadataCache;
import io.raftlog.client.internals.Partitioner;
import io.raftlog.client.internals.ProducerSender;
import io.raftlog.client.transport.ChannelPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends records to Raftlog topics.
 *
 * <p>{@link #send} serializes the record, picks its partition (explicit partition, else
 * murmur2 of the key, else round-robin per topic) and queues it; a background sender thread
 * delivers queued records per partition, in order, to the partition leader. Retriable errors
 * (leader moved, broker unreachable, timeouts) trigger a metadata refresh and a resend of the
 * same batch after {@code retryBackoffMs}, until {@code deliveryTimeoutMs} after {@code send}.
 * With idempotence (the default, for acks 1 and all) retries carry the same producer id and
 * sequence numbers, so the broker stores each record once.
 *
 * <p>Thread-safe: any thread may call {@code send}; records sent from one thread to one
 * partition are written in call order. Returned futures complete on internal threads: keep
 * callbacks short and non-blocking.
 */
public final class Producer<K, V> implements AutoCloseable {
    private final ProducerConfig config;
    private final Serializer<K> keySerializer;
    private final Serializer<V> valueSerializer;
    private final ChannelPool channels;
    private final MetadataCache metadata;
    private final Partitioner partitioner = new Partitioner();
    private final ProducerSender sender;
    private final Thread senderThread;
    private final Set<CompletableFuture<RecordMetadata>> incomplete = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private Producer(ProducerConfig config, Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        this.config = config;
        this.keySerializer = Objects.requireNonNull(keySerializer, "keySerializer");
        this.valueSerializer = Objects.requireNonNull(valueSerializer, "valueSerializer");
        this.channels = new ChannelPool(config.channelFactory());
        this.metadata = new MetadataCache(config.bootstrapServers(), channels, config.clock(),
                config.retryBackoffMs(), config.requestTimeoutMs());
        this.sender = new ProducerSender(channels, metadata, config.clock(), config.acks(),
                config.idempotenceEffective(), config.requestTimeoutMs(), config.retryBackoffMs(),
                config.deliveryTimeoutMs(), config.maxBatchRecords(), config.maxBatchBytes());
        this.senderThread = new Thread(sender, "raftlog-producer-sender");
        this.senderThread.setDaemon(true);
        this.senderThread.start();
    }

    /** Creates a producer and starts its sender thread. No connection is made until the first send. */
    public static <K, V> Producer<K, V> create(ProducerConfig config, Serializer<K> keySerializer,
                                               Serializer<V> valueSerializer) {
        return new Producer<>(config, keySerializer, valueSerializer);
    }

    /**
     * Queues a record. The future completes with the record's metadata once it is acknowledged at
     * the configured acks level (offset -1 with {@code acks=0}), or fails with a
     * {@link RaftlogException}: {@code UnknownTopicOrPartitionException} for a missing topic,
     * {@code TimeoutException} when the delivery timeout expired, or the broker's fatal error.
     *
     * <p>May block briefly to fetch metadata the first time a topic is used.
     */
    public CompletableFuture<RecordMetadata> send(ProducerRecord<K, V> record) {
        CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
        if (closed) {
            future.completeExceptionally(new RaftlogException("producer is closed"));
            return future;
        }
        TopicPartition tp;
        Record proto;
        int size;
        try {
            byte[] key = keySerializer.serialize(record.topic(), record.key());
            byte[] value = valueSerializer.serialize(record.topic(), record.value());
            int partitionCount = metadata.partitionCount(record.topic());
            int partition = partitioner.partition(record.topic(), record.partition(), key, partitionCount);
            tp = new TopicPartition(record.topic(), partition);
            Record.Builder builder = Record.newBuilder().setTimestampMs(record.timestampMs());
            size = 16;
            if (key != null) {
                builder.setKey(ByteString.copyFrom(key));
                size += key.length;
            }
            if (value != null) {
                builder.setValue(ByteString.copyFrom(value));
                size += value.length;
            }
            for (Header h : record.headers()) {
                io.raftlog.api.v1.Header.Builder header = io.raftlog.api.v1.Header.newBuilder().setKey(h.key());
                if (h.value() != null) {
                    header.setValue(ByteString.copyFrom(h.value()));
                    size += h.value().length;
                }
                builder.addHeaders(header);
                size += h.key().length();
            }
            proto = builder.build();
        } catch (RuntimeException e) {
            future.completeExceptionally(Errors.fromThrowable(e));
            return future;
        }
        incomplete.add(future);
        future.whenComplete((m, e) -> incomplete.remove(future));
        sender.enqueue(tp, new ProducerSender.Pending(proto, config.clock().millis(), size, future));
        return future;
    }

    /**
     * Blocks until every record sent before this call has completed (successfully or not).
     * Bounded by {@code deliveryTimeoutMs}.
     */
    public void flush() {
        List<CompletableFuture<RecordMetadata>> snapshot = new ArrayList<>(incomplete);
        CompletableFuture.allOf(snapshot.stream()
                        .map(f -> f.handle((m, e) -> null))
                        .toArray(CompletableFuture[]::new))
                .join();
    }

    /** Flushes, then stops the sender thread and closes connections. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        flush();
        sender.shutdown();
        try {
            senderThread.join(config.requestTimeoutMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channels.close();
    }
}
