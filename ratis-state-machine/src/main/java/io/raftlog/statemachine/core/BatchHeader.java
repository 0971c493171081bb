package io.raftlog.statemachine.core;

/**
 * What the partition logic needs to know of a record batch: who produced it and how many records
 * it holds. {@code producerId < 0} marks a non-idempotent batch.
 */
public record BatchHeader(long producerId, short producerEpoch, int baseSequence, int recordCount) {

  public static final long NO_PRODUCER_ID = -1L;

  public BatchHeader {
    if (recordCount <= 0) {
      throw new IllegalArgumentException("a batch holds at least one record, got " + recordCount);
    }
  }

  public boolean isIdempotent() {
    return producerId >= 0;
  }

  /** Sequence number of the last record; sequences wrap from Integer.MAX_VALUE to 0 as in Kafka. */
  public int lastSequence() {
    return ProducerStateTable.incrementSequence(baseSequence, recordCount - 1);
  }
}
