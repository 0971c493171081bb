package io.raftlog.statemachine.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-producer sequence state of one partition, the basis of idempotent produce.
 *
 * <p>For each producer id it remembers the epoch and the last {@link #MAX_CACHED_BATCHES} batches
 * (sequence range and offsets), so that a retried batch is answered with its original offsets
 * instead of being appended twice. Rules, as in Kafka:
 *
 * <ul>
 *   <li>unknown producer id (new, or its state expired): only sequence 0 is accepted; anything
 *       else is UNKNOWN_PRODUCER_ID, so a lost first batch can never be overtaken by a later one
 *       (the producer then starts over with a new id);
 *   <li>an older epoch is fenced; a newer epoch must start at sequence 0;
 *   <li>same epoch: a batch equal to a cached one is a duplicate; otherwise its first sequence must
 *       follow the last one.
 * </ul>
 *
 * <p>Threading: mutated only by the partition's apply thread; entries are immutable and the map
 * is concurrent so other threads may read a consistent entry per producer.
 */
public final class ProducerStateTable {

  /** How many recent batches per producer are kept for duplicate detection (Kafka keeps 5). */
  public static final int MAX_CACHED_BATCHES = 5;

  /** One remembered batch. */
  public record CachedBatch(int firstSequence, int lastSequence, long baseOffset, long lastOffset) {}

  /** The state of one producer; immutable. */
  public record ProducerEntry(long producerId, short epoch, List<CachedBatch> batches, long lastTimestampMs) {
    public ProducerEntry {
      batches = List.copyOf(batches);
    }

    int lastSequence() {
      return batches.isEmpty() ? -1 : batches.get(batches.size() - 1).lastSequence();
    }
  }

  private final Map<Long, ProducerEntry> producers = new ConcurrentHashMap<>();

  /**
   * Decides what to do with a batch of an idempotent producer without changing any state.
   *
   * @return null when the batch is new and may be appended; otherwise the duplicate or rejection
   */
  public AppendOutcome check(BatchHeader batch) {
    ProducerEntry entry = producers.get(batch.producerId());
    if (entry == null) {
      if (batch.baseSequence() != 0) {
        return AppendOutcome.rejected(AppendOutcome.Status.UNKNOWN_PRODUCER_ID,
            "producer " + batch.producerId() + " is not known to this partition (new or expired) and its batch"
                + " starts at sequence " + batch.baseSequence() + ", not 0");
      }
      return null;
    }
    if (batch.producerEpoch() < entry.epoch()) {
      return AppendOutcome.rejected(AppendOutcome.Status.PRODUCER_FENCED,
          "producer " + batch.producerId() + " epoch " + batch.producerEpoch()
              + " is fenced by epoch " + entry.epoch());
    }
    if (batch.producerEpoch() > entry.epoch()) {
      if (batch.baseSequence() != 0) {
        return AppendOutcome.rejected(AppendOutcome.Status.OUT_OF_ORDER_SEQUENCE,
            "producer " + batch.producerId() + " new epoch " + batch.producerEpoch()
                + " must start at sequence 0, got " + batch.baseSequence());
      }
      return null;
    }
    for (CachedBatch cached : entry.batches()) {
      if (cached.firstSequence() == batch.baseSequence() && cached.lastSequence() == batch.lastSequence()) {
        return AppendOutcome.duplicate(cached.baseOffset(), cached.lastOffset());
      }
    }
    int expected = incrementSequence(entry.lastSequence(), 1);
    if (entry.batches().isEmpty() || batch.baseSequence() == expected) {
      return null;
    }
    return AppendOutcome.rejected(AppendOutcome.Status.OUT_OF_ORDER_SEQUENCE,
        "producer " + batch.producerId() + " expected sequence " + expected + ", got "
            + batch.baseSequence());
  }

  /** Remembers an appended batch. */
  public void record(BatchHeader batch, long baseOffset, long lastOffset, long timestampMs) {
    producers.compute(batch.producerId(), (id, old) -> {
      Deque<CachedBatch> batches = new ArrayDeque<>();
      if (old != null && old.epoch() == batch.producerEpoch()) {
        batches.addAll(old.batches());
      }
      batches.addLast(new CachedBatch(batch.baseSequence(), batch.lastSequence(), baseOffset, lastOffset));
      while (batches.size() > MAX_CACHED_BATCHES) {
        batches.removeFirst();
      }
      long ts = old == null ? timestampMs : Math.max(old.lastTimestampMs(), timestampMs);
      return new ProducerEntry(id, batch.producerEpoch(), new ArrayList<>(batches), ts);
    });
  }

  /**
   * Forgets producers idle since before {@code nowMs - expirationMs} (Kafka's
   * producer.id.expiration.ms). Call with a timestamp from the log so replicas agree.
   */
  public int expire(long nowMs, long expirationMs) {
    int before = producers.size();
    producers.values().removeIf(e -> e.lastTimestampMs() < nowMs - expirationMs);
    return before - producers.size();
  }

  public ProducerEntry get(long producerId) {
    return producers.get(producerId);
  }

  public Collection<ProducerEntry> entries() {
    return List.copyOf(producers.values());
  }

  public void restore(Collection<ProducerEntry> entries) {
    producers.clear();
    for (ProducerEntry e : entries) {
      producers.put(e.producerId(), e);
    }
  }

  public int size() {
    return producers.size();
  }

  static int incrementSequence(int sequence, int increment) {
    if (sequence > Integer.MAX_VALUE - increment) {
      return increment - (Integer.MAX_VALUE - sequence) - 1;
    }
    return sequence + increment;
  }
}
