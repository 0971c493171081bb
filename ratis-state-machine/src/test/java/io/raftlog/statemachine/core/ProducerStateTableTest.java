package io.raftlog.statemachine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.statemachine.core.AppendOutcome.Status;
import io.raftlog.statemachine.core.ProducerStateTable.CachedBatch;
import io.raftlog.statemachine.core.ProducerStateTable.ProducerEntry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProducerStateTableTest {

  private static final long PID = 42L;

  private static BatchHeader batch(short epoch, int baseSeq, int records) {
    return new BatchHeader(PID, epoch, baseSeq, records);
  }

  @Test
  void unknownProducerIsAcceptedOnlyAtSequenceZero() {
    ProducerStateTable table = new ProducerStateTable();
    assertNull(table.check(batch((short) 0, 0, 1)));
    assertNull(table.check(batch((short) 5, 0, 3)));
    assertEquals(AppendOutcome.Status.UNKNOWN_PRODUCER_ID, table.check(batch((short) 0, 17, 3)).status());
    assertEquals(AppendOutcome.Status.UNKNOWN_PRODUCER_ID, table.check(batch((short) 0, Integer.MAX_VALUE, 2)).status());
    assertEquals(0, table.size(), "check must not change state");
  }

  @Test
  void recordRemembersEpochSequenceRangeOffsetsAndTimestamp() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(batch((short) 3, 10, 4), 100, 103, 5_000);
    ProducerEntry e = table.get(PID);
    assertEquals(PID, e.producerId());
    assertEquals(3, e.epoch());
    assertEquals(List.of(new CachedBatch(10, 13, 100, 103)), e.batches());
    assertEquals(5_000, e.lastTimestampMs());
    assertEquals(13, e.lastSequence());
  }

  @Test
  void nextSequenceIsAcceptedAndGapIsOutOfOrder() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(batch((short) 0, 0, 3), 0, 2, 1);
    assertNull(table.check(batch((short) 0, 3, 1)));
    AppendOutcome gap = table.check(batch((short) 0, 4, 1));
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, gap.status());
    assertEquals(-1, gap.baseOffset());
    assertEquals(-1, gap.lastOffset());
    assertTrue(gap.message().contains("expected sequence 3"), gap.message());
  }

  @Test
  void sequenceBehindTheLastIsOutOfOrderUnlessItMatchesACachedBatchExactly() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(batch((short) 0, 0, 3), 0, 2, 1); // seq 0..2
    // overlaps the cached batch but is not equal to it
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, table.check(batch((short) 0, 0, 2)).status());
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, table.check(batch((short) 0, 1, 2)).status());
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, table.check(batch((short) 0, 2, 1)).status());
    AppendOutcome dup = table.check(batch((short) 0, 0, 3));
    assertEquals(Status.DUPLICATE, dup.status());
  }

  @Test
  void exactRetryOfEachOfTheLastFiveBatchesIsADuplicateWithItsOriginalOffsets() {
    ProducerStateTable table = new ProducerStateTable();
    int seq = 0;
    long offset = 1000;
    List<long[]> sent = new ArrayList<>(); // {baseSeq, records, base, last}
    for (int i = 0; i < 5; i++) {
      int n = i + 1;
      table.record(batch((short) 0, seq, n), offset, offset + n - 1, i);
      sent.add(new long[] {seq, n, offset, offset + n - 1});
      seq += n;
      offset += n;
    }
    for (long[] s : sent) {
      AppendOutcome out = table.check(batch((short) 0, (int) s[0], (int) s[1]));
      assertEquals(Status.DUPLICATE, out.status(), "retry of seq " + s[0]);
      assertEquals(s[2], out.baseOffset());
      assertEquals(s[3], out.lastOffset());
    }
  }

  @Test
  void retryOfABatchOlderThanTheLastFiveIsOutOfOrder() {
    ProducerStateTable table = new ProducerStateTable();
    for (int i = 0; i < 6; i++) {
      table.record(batch((short) 0, i, 1), i, i, i);
    }
    assertEquals(ProducerStateTable.MAX_CACHED_BATCHES, table.get(PID).batches().size());
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, table.check(batch((short) 0, 0, 1)).status());
    for (int i = 1; i < 6; i++) {
      AppendOutcome dup = table.check(batch((short) 0, i, 1));
      assertEquals(Status.DUPLICATE, dup.status());
      assertEquals(i, dup.baseOffset());
    }
  }

  @Test
  void olderEpochIsFenced() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(batch((short) 2, 0, 1), 0, 0, 1);
    AppendOutcome out = table.check(batch((short) 1, 1, 1));
    assertEquals(Status.PRODUCER_FENCED, out.status());
    assertEquals(-1, out.baseOffset());
    // even an exact retry of a batch of the older epoch is fenced
    table.record(batch((short) 3, 0, 1), 1, 1, 2);
    assertEquals(Status.PRODUCER_FENCED, table.check(batch((short) 2, 0, 1)).status());
  }

  @Test
  void newerEpochMustStartAtSequenceZero() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(batch((short) 0, 0, 5), 0, 4, 1);
    AppendOutcome bad = table.check(batch((short) 1, 5, 1));
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, bad.status());
    assertTrue(bad.message().contains("must start at sequence 0"), bad.message());
    assertNull(table.check(batch((short) 1, 0, 1)));
  }

  @Test
  void epochBumpForgetsTheBatchesOfTheOldEpoch() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(batch((short) 0, 0, 2), 0, 1, 1);
    table.record(batch((short) 0, 2, 2), 2, 3, 1);
    table.record(batch((short) 1, 0, 2), 4, 5, 2);
    ProducerEntry e = table.get(PID);
    assertEquals(1, e.epoch());
    assertEquals(List.of(new CachedBatch(0, 1, 4, 5)), e.batches());
    // the new epoch's batch 0..1 is a duplicate of offsets 4..5, not 0..1
    AppendOutcome dup = table.check(batch((short) 1, 0, 2));
    assertEquals(Status.DUPLICATE, dup.status());
    assertEquals(4, dup.baseOffset());
    assertEquals(5, dup.lastOffset());
  }

  @Test
  void sequenceWrapsFromMaxValueToZero() {
    ProducerStateTable table = new ProducerStateTable();
    int max = Integer.MAX_VALUE;
    table.record(batch((short) 0, max - 1, 2), 0, 1, 1); // max-1, max
    assertEquals(max, table.get(PID).lastSequence());
    assertNull(table.check(batch((short) 0, 0, 1)), "after MAX_VALUE comes 0");
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, table.check(batch((short) 0, 1, 1)).status());
    // a batch that itself spans the wrap
    table.record(batch((short) 0, 0, 1), 2, 2, 1);
    table.record(batch((short) 0, 1, 3), 3, 5, 1);
    assertEquals(Status.DUPLICATE, table.check(batch((short) 0, max - 1, 2)).status());
  }

  @Test
  void batchSpanningTheWrapIsCachedAndDeduplicated() {
    ProducerStateTable table = new ProducerStateTable();
    int max = Integer.MAX_VALUE;
    BatchHeader spanning = batch((short) 0, max - 1, 4); // max-1, max, 0, 1
    assertEquals(1, spanning.lastSequence());
    table.record(spanning, 10, 13, 1);
    AppendOutcome dup = table.check(spanning);
    assertEquals(Status.DUPLICATE, dup.status());
    assertEquals(10, dup.baseOffset());
    assertEquals(13, dup.lastOffset());
    assertNull(table.check(batch((short) 0, 2, 1)));
  }

  @Test
  void incrementSequenceWraps() {
    int max = Integer.MAX_VALUE;
    assertEquals(1, ProducerStateTable.incrementSequence(0, 1));
    assertEquals(0, ProducerStateTable.incrementSequence(-1, 1));
    assertEquals(max, ProducerStateTable.incrementSequence(max - 1, 1));
    assertEquals(0, ProducerStateTable.incrementSequence(max, 1));
    assertEquals(1, ProducerStateTable.incrementSequence(max - 1, 3));
    assertEquals(max - 1, ProducerStateTable.incrementSequence(max, max));
    assertEquals(max, ProducerStateTable.incrementSequence(max, 0));
  }

  @Test
  void producerStateWithoutBatchesAcceptsAnySequenceOfItsEpoch() {
    ProducerStateTable table = new ProducerStateTable();
    table.restore(List.of(new ProducerEntry(PID, (short) 1, List.of(), 0)));
    assertNull(table.check(batch((short) 1, 77, 1)));
    assertEquals(Status.PRODUCER_FENCED, table.check(batch((short) 0, 0, 1)).status());
  }

  @Test
  void producersAreIndependent() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(new BatchHeader(1, (short) 0, 0, 1), 0, 0, 1);
    table.record(new BatchHeader(2, (short) 5, 100, 1), 1, 1, 1);
    assertNull(table.check(new BatchHeader(1, (short) 0, 1, 1)));
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, table.check(new BatchHeader(1, (short) 0, 101, 1)).status());
    assertNull(table.check(new BatchHeader(2, (short) 5, 101, 1)));
    assertEquals(Status.PRODUCER_FENCED, table.check(new BatchHeader(2, (short) 0, 1, 1)).status());
  }

  @Test
  void lastTimestampNeverMovesBackwards() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(batch((short) 0, 0, 1), 0, 0, 1_000);
    table.record(batch((short) 0, 1, 1), 1, 1, 500);
    assertEquals(1_000, table.get(PID).lastTimestampMs());
    table.record(batch((short) 0, 2, 1), 2, 2, 2_000);
    assertEquals(2_000, table.get(PID).lastTimestampMs());
  }

  @Test
  void expireDropsOnlyProducersIdleLongerThanTheExpiration() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(new BatchHeader(1, (short) 0, 0, 1), 0, 0, 1_000);
    table.record(new BatchHeader(2, (short) 0, 0, 1), 1, 1, 2_000);
    assertEquals(0, table.expire(2_000, 1_000), "idle exactly the expiration time is kept");
    assertEquals(1, table.expire(2_001, 1_000));
    assertNull(table.get(1));
    assertNotNull(table.get(2));
    assertEquals(1, table.expire(10_000, 1_000));
    assertEquals(0, table.size());
  }

  @Test
  void expiredProducerIsTreatedAsUnknown() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(batch((short) 3, 0, 1), 0, 0, 0);
    table.expire(100, 10);
    assertNull(table.check(batch((short) 0, 0, 1)), "after expiry an older epoch may start over at 0");
    assertEquals(AppendOutcome.Status.UNKNOWN_PRODUCER_ID, table.check(batch((short) 3, 1, 1)).status(),
        "but cannot carry on mid-sequence");
  }

  @Test
  void restoreReplacesAllStateAndEntriesReturnsACopy() {
    ProducerStateTable table = new ProducerStateTable();
    table.record(new BatchHeader(1, (short) 0, 0, 1), 0, 0, 1);
    ProducerEntry other = new ProducerEntry(7, (short) 2, List.of(new CachedBatch(3, 4, 10, 11)), 9);
    table.restore(List.of(other));
    assertNull(table.get(1));
    assertEquals(other, table.get(7));
    var entries = table.entries();
    assertEquals(List.of(other), List.copyOf(entries));
    assertThrows(UnsupportedOperationException.class, () -> entries.clear());
  }

  @Test
  void producerEntryCopiesItsBatchList() {
    List<CachedBatch> batches = new ArrayList<>(List.of(new CachedBatch(0, 0, 0, 0)));
    ProducerEntry e = new ProducerEntry(1, (short) 0, batches, 0);
    batches.add(new CachedBatch(1, 1, 1, 1));
    assertEquals(1, e.batches().size());
  }
}
