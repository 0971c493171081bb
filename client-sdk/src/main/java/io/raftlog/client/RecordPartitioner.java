package io.raftlog.client;

/**
 * Chooses the partition of a record that the producer sends. Plug a custom one in with
 * {@link ProducerConfig.Builder#partitioner}; the default
 * ({@link io.raftlog.client.internals.Partitioner}) is Kafka-compatible: an explicit partition
 * wins, keyed records go to {@code toPositive(murmur2(key)) % numPartitions}, keyless records go
 * round-robin per topic starting at partition 0.
 *
 * <p>Implementations must be thread-safe: {@code send} may be called from many threads. The
 * result must be in {@code [0, numPartitions)}; anything else fails the record with
 * {@code InvalidArgumentException}.
 */
@FunctionalInterface
public interface RecordPartitioner {
    /**
     * @param topic the record's topic
     * @param explicitPartition the partition set on the record, or {@code null}
     * @param keyBytes the serialized key, or {@code null} for a keyless record
     * @param numPartitions partition count of the topic, at least 1
     */
    int partition(String topic, Integer explicitPartition, byte[] keyBytes, int numPartitions);
}
