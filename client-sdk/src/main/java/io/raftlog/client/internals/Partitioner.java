package io.raftlog.client.internals;

import io.raftlog.client.errors.InvalidArgumentException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses the partition of a record, compatibly with Kafka's default for keyed records:
 * an explicit partition wins; a keyed record goes to {@code toPositive(murmur2(key)) % n};
 * keyless records go round-robin per topic, starting at partition 0. Thread-safe.
 */
public final class Partitioner implements io.raftlog.client.RecordPartitioner {
    private final Map<String, AtomicInteger> roundRobin = new ConcurrentHashMap<>();

    /**
     * @param explicitPartition partition requested by the caller, or {@code null}
     * @param keyBytes serialized key, or {@code null} for a keyless record
     * @param numPartitions partition count of the topic, at least 1
     * @throws InvalidArgumentException when the explicit partition does not exist
     */
    @Override
    public int partition(String topic, Integer explicitPartition, byte[] keyBytes, int numPartitions) {
        if (numPartitions <= 0) {
            throw new IllegalArgumentException("numPartitions must be > 0: " + numPartitions);
        }
        if (explicitPartition != null) {
            if (explicitPartition < 0 || explicitPartition >= numPartitions) {
                throw new InvalidArgumentException("partition " + explicitPartition + " of topic '" + topic
                        + "' does not exist (topic has " + numPartitions + " partitions)");
            }
            return explicitPartition;
        }
        if (keyBytes == null) {
            int next = roundRobin.computeIfAbsent(topic, t -> new AtomicInteger()).getAndIncrement();
            return toPositive(next) % numPartitions;
        }
        return toPositive(murmur2(keyBytes)) % numPartitions;
    }

    /** Clears the sign bit (Kafka's {@code Utils.toPositive}); unlike {@code Math.abs} it never returns a negative. */
    public static int toPositive(int number) {
        return number & 0x7fffffff;
    }

    /** 32-bit MurmurHash2 with Kafka's seed, byte-for-byte compatible with {@code Utils.murmur2}. */
    public static int murmur2(byte[] data) {
        final int length = data.length;
        final int seed = 0x9747b28c;
        final int m = 0x5bd1e995;
        final int r = 24;
        int h = seed ^ length;
        final int length4 = length / 4;
        for (int i = 0; i < length4; i++) {
            final int i4 = i * 4;
            int k = (data[i4] & 0xff) + ((data[i4 + 1] & 0xff) << 8) + ((data[i4 + 2] & 0xff) << 16)
                    + ((data[i4 + 3] & 0xff) << 24);
            k *= m;
            k ^= k >>> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        final int tail = length & ~3;
        switch (length % 4) {
            case 3:
                h ^= (data[tail + 2] & 0xff) << 16;
                // fall through
            case 2:
                h ^= (data[tail + 1] & 0xff) << 8;
                // fall through
            case 1:
                h ^= data[tail] & 0xff;
                h *= m;
                break;
            default:
                break;
        }
        h ^= h >>> 13;
        h *= m;
        h ^= h >>> 15;
        return h;
    }
}
