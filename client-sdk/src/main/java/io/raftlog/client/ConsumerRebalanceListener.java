package io.raftlog.client;

import java.util.Collection;

/**
 * Told when a {@link Consumer#subscribe subscribed} consumer's partitions change, as in Kafka.
 *
 * <p><b>Threading.</b> Called only on the application thread, from inside {@link Consumer#poll},
 * {@link Consumer#unsubscribe} or {@link Consumer#close}, never from a network thread. A callback
 * may call the consumer's other methods ({@code commitSync}, {@code position}, {@code seek},
 * {@code committed}, ...) but not {@code poll}, {@code subscribe}, {@code unsubscribe},
 * {@code assign} or {@code close} (those throw {@link IllegalStateException}).
 *
 * <p><b>Order.</b> Revocation comes first: {@link #onPartitionsRevoked} is called while the
 * consumer still owns the partitions (their positions can still be read and committed), and the
 * consumer gives them up - and tells the coordinator - only after it returns. Then the new
 * partitions are positioned at their committed offsets (or by {@code auto.offset.reset}) and
 * {@link #onPartitionsAssigned} is called; a {@code seek} there overrides the committed offset.
 * Each callback gets a non-empty collection.
 *
 * <p>An exception thrown by a callback is logged, does not stop the rebalance, and is rethrown
 * by the {@code poll} that ran the callback.
 */
public interface ConsumerRebalanceListener {

    /**
     * The consumer is about to give these partitions up, in an orderly way: commit what was
     * processed of them now (with {@code enable.auto.commit} the consumer has just committed their
     * positions itself).
     */
    void onPartitionsRevoked(Collection<TopicPartition> partitions);

    /** The consumer now owns these partitions; their positions are set to the committed offsets. */
    void onPartitionsAssigned(Collection<TopicPartition> partitions);

    /**
     * The consumer lost these partitions without an orderly revocation: the coordinator fenced or
     * expelled it, or no heartbeat succeeded for {@code session.timeout.ms}. Other members may
     * already own them, so committing their offsets is no longer possible. By default this calls
     * {@link #onPartitionsRevoked}, as Kafka's.
     */
    default void onPartitionsLost(Collection<TopicPartition> partitions) {
        onPartitionsRevoked(partitions);
    }
}
