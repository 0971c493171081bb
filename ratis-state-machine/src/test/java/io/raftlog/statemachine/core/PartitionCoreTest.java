package io.raftlog.statemachine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.statemachine.core.AppendOutcome.Status;
import org.junit.jupiter.api.Test;

class PartitionCoreTest {

  private static BatchHeader plain(int records) {
    return new BatchHeader(BatchHeader.NO_PRODUCER_ID, (short) -1, -1, records);
  }

  private static BatchHeader idem(long pid, int epoch, int baseSeq, int records) {
    return new BatchHeader(pid, (short) epoch, baseSeq, records);
  }

  private static void assertAppended(AppendOutcome out, long base, long last) {
    assertEquals(Status.APPENDED, out.status(), out.toString());
    assertTrue(out.isAppended());
    assertEquals(base, out.baseOffset());
    assertEquals(last, out.lastOffset());
    assertEquals("", out.message());
  }

  @Test
  void emptyCoreStartsAtOffsetZero() {
    PartitionCore core = PartitionCore.empty();
    assertEquals(0, core.nextOffset());
    assertEquals(0, core.logStartOffset());
    assertEquals(0, core.producers().size());
  }

  @Test
  void offsetsAreContiguousAndABatchOfNRecordsTakesNOffsets() {
    PartitionCore core = PartitionCore.empty();
    assertAppended(core.append(plain(1), 0), 0, 0);
    assertAppended(core.append(plain(3), 0), 1, 3);
    assertAppended(core.append(idem(1, 0, 0, 5), 0), 4, 8);
    assertAppended(core.append(plain(2), 0), 9, 10);
    assertEquals(11, core.nextOffset());
  }

  @Test
  void offsetsContinueFromTheLogEndGivenAtConstruction() {
    PartitionCore core = new PartitionCore(100, 250, new ProducerStateTable(), 1_000);
    assertAppended(core.append(plain(2), 0), 250, 251);
    assertEquals(100, core.logStartOffset());
  }

  @Test
  void invalidOffsetsAreRejectedAtConstruction() {
    assertThrows(IllegalArgumentException.class, () -> new PartitionCore(-1, 0, new ProducerStateTable(), 1));
    assertThrows(IllegalArgumentException.class, () -> new PartitionCore(10, 9, new ProducerStateTable(), 1));
  }

  @Test
  void nonIdempotentBatchesAreNeverDeduplicated() {
    PartitionCore core = PartitionCore.empty();
    assertAppended(core.append(plain(2), 0), 0, 1);
    assertAppended(core.append(plain(2), 0), 2, 3);
    assertEquals(0, core.producers().size(), "non-idempotent batches leave no producer state");
  }

  @Test
  void retryOfAppendedBatchIsDuplicateWithOriginalOffsetsAndTakesNoOffsets() {
    PartitionCore core = PartitionCore.empty();
    core.append(plain(4), 0);
    assertAppended(core.append(idem(7, 0, 0, 3), 1), 4, 6);
    core.append(plain(1), 2);
    AppendOutcome dup = core.append(idem(7, 0, 0, 3), 3);
    assertEquals(Status.DUPLICATE, dup.status());
    assertFalse(dup.isAppended());
    assertEquals(4, dup.baseOffset());
    assertEquals(6, dup.lastOffset());
    assertEquals(8, core.nextOffset());
  }

  @Test
  void rejectionsTakeNoOffsetsAndChangeNoProducerState() {
    PartitionCore core = PartitionCore.empty();
    core.append(idem(7, 1, 0, 2), 1);
    var before = core.producers().get(7);
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, core.append(idem(7, 1, 5, 1), 2).status());
    assertEquals(Status.PRODUCER_FENCED, core.append(idem(7, 0, 2, 1), 2).status());
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, core.append(idem(7, 2, 3, 1), 2).status());
    assertEquals(2, core.nextOffset());
    assertEquals(before, core.producers().get(7));
  }

  @Test
  void lastFiveBatchesDeduplicateAndTheSixthOldestIsOutOfOrder() {
    PartitionCore core = PartitionCore.empty();
    long[][] offsets = new long[7][];
    for (int i = 0; i < 7; i++) {
      AppendOutcome out = core.append(idem(1, 0, i * 2, 2), i);
      offsets[i] = new long[] {out.baseOffset(), out.lastOffset()};
    }
    long hw = core.nextOffset();
    for (int i = 2; i < 7; i++) {
      AppendOutcome dup = core.append(idem(1, 0, i * 2, 2), 10);
      assertEquals(Status.DUPLICATE, dup.status(), "batch " + i);
      assertEquals(offsets[i][0], dup.baseOffset());
      assertEquals(offsets[i][1], dup.lastOffset());
    }
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, core.append(idem(1, 0, 0, 2), 10).status());
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, core.append(idem(1, 0, 2, 2), 10).status());
    assertEquals(hw, core.nextOffset());
  }

  @Test
  void unknownProducerMustStartAtSequenceZero() {
    PartitionCore core = PartitionCore.empty();
    assertEquals(Status.UNKNOWN_PRODUCER_ID, core.append(idem(9, 4, 12345, 2), 0).status());
    assertEquals(0, core.nextOffset(), "nothing appended");
    assertAppended(core.append(idem(9, 4, 0, 2), 0), 0, 1);
    assertAppended(core.append(idem(9, 4, 2, 1), 0), 2, 2);
  }

  @Test
  void epochBumpStartsAtZeroAndFencesTheOldEpoch() {
    PartitionCore core = PartitionCore.empty();
    core.append(idem(1, 0, 0, 1), 0);
    core.append(idem(1, 0, 1, 1), 0);
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, core.append(idem(1, 1, 2, 1), 0).status());
    assertAppended(core.append(idem(1, 1, 0, 1), 0), 2, 2);
    assertEquals(Status.PRODUCER_FENCED, core.append(idem(1, 0, 2, 1), 0).status());
    assertEquals(Status.PRODUCER_FENCED, core.append(idem(1, 0, 1, 1), 0).status(),
        "a retry from the fenced epoch is fenced, not a duplicate");
  }

  @Test
  void sequenceWrapAtMaxValueContinuesAtZero() {
    PartitionCore core = PartitionCore.empty();
    // The producer is known, right before the wrap (a fresh id would have to start at 0).
    core.producers().restore(java.util.List.of(new ProducerStateTable.ProducerEntry(1, (short) 0,
        java.util.List.of(new ProducerStateTable.CachedBatch(Integer.MAX_VALUE - 3, Integer.MAX_VALUE - 3, -1, -1)), 0)));
    assertAppended(core.append(idem(1, 0, Integer.MAX_VALUE - 2, 3), 0), 0, 2);
    assertAppended(core.append(idem(1, 0, 0, 2), 0), 3, 4);
    assertEquals(Status.DUPLICATE, core.append(idem(1, 0, Integer.MAX_VALUE - 2, 3), 0).status());
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, core.append(idem(1, 0, 3, 1), 0).status());
  }

  @Test
  void expiryUsesTheEntryTimestampAndTheConfiguredExpiration() {
    PartitionCore core = new PartitionCore(0, 0, new ProducerStateTable(), 1_000);
    core.append(idem(1, 0, 0, 1), 10_000);
    core.append(idem(2, 0, 0, 1), 10_500);
    assertEquals(0, core.expireProducers(11_000));
    assertEquals(1, core.expireProducers(11_001));
    assertNull(core.producers().get(1));
    assertNotNull(core.producers().get(2));
  }

  @Test
  void afterExpiryARetryIsAppendedAgainBecauseTheProducerIsUnknown() {
    // Documented Kafka behaviour: dedup only lasts as long as the producer state.
    PartitionCore core = new PartitionCore(0, 0, new ProducerStateTable(), 1_000);
    assertAppended(core.append(idem(1, 0, 0, 1), 0), 0, 0);
    core.expireProducers(5_000);
    assertAppended(core.append(idem(1, 0, 0, 1), 5_000), 1, 1);
  }

  @Test
  void appendingRefreshesTheProducerSoItDoesNotExpire() {
    PartitionCore core = new PartitionCore(0, 0, new ProducerStateTable(), 1_000);
    core.append(idem(1, 0, 0, 1), 0);
    core.append(idem(1, 0, 1, 1), 900);
    assertEquals(0, core.expireProducers(1_800));
    assertEquals(Status.DUPLICATE, core.append(idem(1, 0, 0, 1), 1_800).status());
  }

  @Test
  void defaultExpirationIsOneDay() {
    PartitionCore core = PartitionCore.empty();
    core.append(idem(1, 0, 0, 1), 0);
    assertEquals(0, core.expireProducers(24L * 60 * 60 * 1000));
    assertEquals(1, core.expireProducers(24L * 60 * 60 * 1000 + 1));
  }

  @Test
  void advanceLogStartOnlyMovesForwardAndNeverPastTheLogEnd() {
    PartitionCore core = new PartitionCore(10, 20, new ProducerStateTable(), 1);
    core.advanceLogStart(5);
    assertEquals(10, core.logStartOffset());
    core.advanceLogStart(15);
    assertEquals(15, core.logStartOffset());
    core.advanceLogStart(100);
    assertEquals(20, core.logStartOffset());
    assertAppended(core.append(plain(1), 0), 20, 20);
  }
}
