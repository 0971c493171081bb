package io.raftlog.client;

import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.internals.MetadataCache;
import io.raftlog.client.internals.TopicNames;
import io.raftlog.client.internals.producer.BufferPool;
import io.raftlog.client.internals.producer.GrpcProducerTransport;
import io.raftlog.client.internals.producer.MetadataCacheView;
import io.raftlog.client.internals.producer.RecordAccumulator;
import io.raftlog.client.internals.producer.RecordCallback;
import io.raftlog.client.internals.producer.Sender;
import io.raftlog.client.transport.ChannelPool;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends records to Raftlog topics, asynchronously and in batches.
 *
 * <p>Structure (as in Kafka): {@link #send} serializes the record, picks its partition and
 * appends it to the partition's open batch in a memory-bounded {@code RecordAccumulator}; a
 * background {@code Sender} thread sends ready batches (full, {@code lingerMs} old, or flushed)
 * to the partition leaders, several per partition in flight on one ordered stream per broker.
 * Retriable errors (leader moved, broker unreachable, timeouts) trigger a metadata refresh and a
 * resend after {@code retryBackoffMs}, until {@code deliveryTimeoutMs} after the batch was created.
 * With idempotence (the default, for acks 1 and all) retries carry the same producer id and
 * sequence numbers, so the broker stores each record once and in order.
 *
 * <p>Failures are reported through the returned future (and callback), never thrown by
 * {@code send}: {@code InvalidTopicException} at once for a name no topic can have,
 * {@code BufferExhaustedException} when memory stayed full for {@code maxBlockMs},
 * {@code UnknownTopicOrPartitionException}, {@code TimeoutException} when the delivery timeout
 * expired, or the broker's fatal error ({@code RecordTooLargeException}, ...).
 *
 * <p>Thread-safe: any thread may call {@code send}; records sent from one thread to one partition
 * are written in call order. Futures and callbacks complete on the sender thread: keep them short
 * and never call blocking producer methods ({@code flush}, {@code close}, a {@code send} that may
 * block on memory) from them.
 */
public final class Producer<K, V> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Producer.class);
    private static final RecordHeader[] NO_HEADERS = new RecordHeader[0];

    /** Called once a record is acknowledged ({@code exception == null}) or has failed ({@code metadata == null}). */
    @FunctionalInterface
    public interface Callback {
        void onCompletion(RecordMetadata metadata, RaftlogException exception);
    }

    private final ProducerConfig config;
    private final Serializer<K> keySerializer;
    private final Serializer<V> valueSerializer;
    private final ChannelPool channels;
    private final MetadataCache metadata;
    private final BufferPool bufferPool;
    private final RecordAccumulator accumulator;
    private final Sender sender;
    private final Thread senderThread;
    private final Object closeLock = new Object();
    private volatile boolean closed;

    private Producer(ProducerConfig config, Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        this.config = config;
        this.keySerializer = Objects.requireNonNull(keySerializer, "keySerializer");
        this.valueSerializer = Objects.requireNonNull(valueSerializer, "valueSerializer");
        this.channels = new ChannelPool(config.channelFactory(), config.clock(), config.retryBackoffMs());
        this.metadata = new MetadataCache(config.bootstrapServers(), channels, config.clock(),
                config.retryBackoffMs(), config.requestTimeoutMs(), config.metadataMaxAgeMs());
        this.bufferPool = new BufferPool(config.bufferMemoryBytes());
        this.accumulator = new RecordAccumulator(config.batchSizeBytes(), config.lingerMs(),
                config.deliveryTimeoutMs(), bufferPool, compression(config.compression()));
        MetadataCacheView view = new MetadataCacheView(metadata);
        this.sender = new Sender(accumulator, view,
                new GrpcProducerTransport(channels, view::brokerAddresses, config.requestTimeoutMs()),
                config.clock(), new Sender.Settings(protoAcks(config.acks()), config.idempotenceEffective(),
                        config.maxInFlightPerPartition(), config.requestTimeoutMs(), config.retryBackoffMs(),
                        config.deliveryTimeoutMs()));
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
     * {@link RaftlogException}.
     *
     * <p>Blocks up to {@code maxBlockMs} in total while the topic's metadata is unknown or the
     * buffer memory is full. A record without a timestamp ({@code 0}) gets the current time.
     *
     * <p>A topic name no topic can have fails the future before {@code send} returns, with an
     * {@link io.raftlog.client.errors.InvalidTopicException} saying which rule it breaks: at once
     * when the client's copy of the broker's rules refuses it, else after the one metadata request
     * whose answer says so.
     */
    public CompletableFuture<RecordMetadata> send(ProducerRecord<K, V> record) {
        return enqueue(record, null);
    }

    /**
     * Like {@link #send(ProducerRecord)}, and calls {@code callback} (on the sender thread) when
     * done, before the returned future completes. A callback that throws is logged and changes
     * nothing else.
     */
    public CompletableFuture<RecordMetadata> send(ProducerRecord<K, V> record, Callback callback) {
        Objects.requireNonNull(callback, "callback");
        return enqueue(record, callback::onCompletion);
    }

    private CompletableFuture<RecordMetadata> enqueue(ProducerRecord<K, V> record, RecordCallback callback) {
        CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
        try {
            doSend(record, future, callback);
        } catch (RuntimeException e) {
            RaftlogException error = Errors.fromThrowable(e);
            RecordCallback.callQuietly(callback, null, error);
            future.completeExceptionally(error);
        }
        return future;
    }

    private void doSend(ProducerRecord<K, V> record, CompletableFuture<RecordMetadata> future,
                        RecordCallback callback) {
        if (closed) {
            throw new RaftlogException("producer is closed");
        }
        RaftlogException fatal = sender.fatalError();
        if (fatal != null) {
            throw fatal;
        }
        TopicNames.validate(record.topic());
        long startMs = config.clock().millis();
        long deadlineMs = startMs + config.maxBlockMs();
        byte[] key = keySerializer.serialize(record.topic(), record.key());
        byte[] value = valueSerializer.serialize(record.topic(), record.value());
        int partitionCount = awaitPartitionCount(record.topic(), deadlineMs);
        int partition = config.partitioner().partition(record.topic(), record.partition(), key, partitionCount);
        if (partition < 0 || partition >= partitionCount) {
            throw new InvalidArgumentException("partitioner chose partition " + partition + " of topic '"
                    + record.topic() + "', which has " + partitionCount + " partitions");
        }
        TopicPartition tp = new TopicPartition(record.topic(), partition);
        long nowMs = config.clock().millis();
        if (record.timestampMs() < 0) {
            throw new InvalidArgumentException("record timestamp " + record.timestampMs()
                    + " is negative: give milliseconds since the epoch, or 0 for the send time");
        }
        long timestampMs = record.timestampMs() == 0 ? nowMs : record.timestampMs();
        RecordAccumulator.AppendResult result = accumulator.append(tp, timestampMs, key, value, headers(record),
                future, callback, Math.max(0, deadlineMs - nowMs), nowMs);
        if (result.batchIsFull() || result.newBatchCreated()) {
            sender.wakeup();
        }
    }

    /** Partition count of {@code topic}, retrying an unreachable cluster until {@code deadlineMs}. */
    private int awaitPartitionCount(String topic, long deadlineMs) {
        while (true) {
            try {
                return metadata.partitionCount(topic);
            } catch (BrokerNotAvailableException e) {
                long remaining = deadlineMs - config.clock().millis();
                if (remaining <= 0) {
                    throw new TimeoutException("metadata of topic '" + topic + "' not available within max.block.ms ("
                            + config.maxBlockMs() + " ms): " + e.getMessage(), e);
                }
                try {
                    // Back off between metadata attempts while the cluster is unreachable.
                    TimeUnit.MILLISECONDS.sleep(Math.min(remaining, Math.max(1, config.retryBackoffMs())));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new RaftlogException("interrupted while waiting for metadata", ie);
                }
            }
        }
    }

    private static RecordHeader[] headers(ProducerRecord<?, ?> record) {
        List<Header> headers = record.headers();
        if (headers.isEmpty()) {
            return NO_HEADERS;
        }
        RecordHeader[] out = new RecordHeader[headers.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new RecordHeader(headers.get(i).key(), headers.get(i).value());
        }
        return out;
    }

    /**
     * Sends every queued record now (ignoring {@code lingerMs}) and blocks until each record sent
     * before this call has completed, successfully or not. Bounded by {@code deliveryTimeoutMs}.
     */
    public void flush() {
        accumulator.beginFlush();
        try {
            sender.wakeup();
            for (CompletableFuture<Void> done : accumulator.incompleteSnapshot()) {
                done.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RaftlogException("interrupted while flushing", e);
        } catch (ExecutionException e) {
            throw new AssertionError("batch completion signals never fail", e);
        } finally {
            accumulator.endFlush();
        }
    }

    /** Like {@link #close(Duration)} with no limit: waits until every record is done (bounded by the delivery timeout). */
    @Override
    public void close() {
        close(Duration.ofMillis(Long.MAX_VALUE));
    }

    /**
     * Stops accepting records, sends what is queued and waits up to {@code timeout} for every
     * record to complete; records still unfinished then fail. Closes connections. Idempotent; do
     * not call from a callback.
     */
    public void close(Duration timeout) {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        accumulator.close();
        bufferPool.close();
        sender.initiateClose();
        try {
            long millis = timeout.toMillis();
            if (millis > 0) {
                senderThread.join(millis);
            }
            if (senderThread.isAlive()) {
                log.warn("producer close timed out after {}; failing unsent records", timeout);
                sender.forceClose();
                senderThread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sender.forceClose();
        } finally {
            channels.close();
        }
    }

    private static io.raftlog.api.v1.Acks protoAcks(Acks acks) {
        return switch (acks) {
            case NONE -> io.raftlog.api.v1.Acks.ACKS_NONE;
            case LEADER -> io.raftlog.api.v1.Acks.ACKS_LEADER;
            case ALL -> io.raftlog.api.v1.Acks.ACKS_ALL;
        };
    }

    private static Compression compression(ProducerConfig.CompressionType type) {
        return switch (type) {
            case NONE -> Compression.NONE;
            case GZIP -> Compression.gzip().build();
            case LZ4 -> Compression.lz4().build();
        };
    }
}
