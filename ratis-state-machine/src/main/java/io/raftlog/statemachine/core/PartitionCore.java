package io.raftlog.statemachine.core;

/**
 * The deterministic heart of a partition replica: assigns offsets and deduplicates idempotent
 * batches. Every replica applies the same batches in the same (Raft log) order and so reaches the
 * same offsets; nothing here reads a clock, a random source or the file system.
 *
 * <p>Offsets are contiguous from the log start and never reused: a batch of n records takes
 * [nextOffset, nextOffset + n - 1].
 *
 * <p>Threading: {@link #append} runs on the partition's apply thread only; {@link #nextOffset()}
 * and {@link #logStartOffset()} may be read from any thread.
 */
public final class PartitionCore {

  /** Producer state of idle producers is dropped after this long (Kafka's default: 1 day). */
  public static final long DEFAULT_PRODUCER_EXPIRATION_MS = 24L * 60 * 60 * 1000;

  private final ProducerStateTable producers;
  private final long producerExpirationMs;
  private volatile long nextOffset;
  private volatile long logStartOffset;

  public PartitionCore(long logStartOffset, long nextOffset, ProducerStateTable producers,
      long producerExpirationMs) {
    if (logStartOffset < 0 || nextOffset < logStartOffset) {
      throw new IllegalArgumentException("invalid offsets: start " + logStartOffset + ", next " + nextOffset);
    }
    this.logStartOffset = logStartOffset;
    this.nextOffset = nextOffset;
    this.producers = producers;
    this.producerExpirationMs = producerExpirationMs;
  }

  public static PartitionCore empty() {
    return new PartitionCore(0, 0, new ProducerStateTable(), DEFAULT_PRODUCER_EXPIRATION_MS);
  }

  /**
   * Offers a batch. On {@link AppendOutcome.Status#APPENDED} the caller must store the batch at
   * the returned base offset; other outcomes change nothing.
   *
   * @param timestampMs a time taken from the replicated entry (not a local clock), used to expire
   *     idle producers
   */
  public AppendOutcome append(BatchHeader batch, long timestampMs) {
    if (batch.isIdempotent()) {
      AppendOutcome verdict = producers.check(batch);
      if (verdict != null) {
        return verdict;
      }
    }
    long base = nextOffset;
    long last = base + batch.recordCount() - 1;
    nextOffset = last + 1;
    if (batch.isIdempotent()) {
      producers.record(batch, base, last, timestampMs);
    }
    return AppendOutcome.appended(base, last);
  }

  /** Drops state of producers idle for longer than the expiration, judged at {@code timestampMs}. */
  public int expireProducers(long timestampMs) {
    return producers.expire(timestampMs, producerExpirationMs);
  }

  /** The high watermark of this replica: the offset the next appended record will get. */
  public long nextOffset() {
    return nextOffset;
  }

  public long logStartOffset() {
    return logStartOffset;
  }

  /** Retention moved the start of the log. */
  public void advanceLogStart(long newStart) {
    if (newStart > logStartOffset) {
      logStartOffset = Math.min(newStart, nextOffset);
    }
  }

  public ProducerStateTable producers() {
    return producers;
  }
}
