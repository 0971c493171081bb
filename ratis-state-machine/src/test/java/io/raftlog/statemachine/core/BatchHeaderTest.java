package io.raftlog.statemachine.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BatchHeaderTest {

  @Test
  void batchNeedsAtLeastOneRecord() {
    assertThrows(IllegalArgumentException.class, () -> new BatchHeader(1, (short) 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new BatchHeader(1, (short) 0, 0, -3));
  }

  @Test
  void negativeProducerIdMeansNotIdempotent() {
    assertFalse(new BatchHeader(BatchHeader.NO_PRODUCER_ID, (short) -1, -1, 1).isIdempotent());
    assertTrue(new BatchHeader(0, (short) 0, 0, 1).isIdempotent());
  }

  @Test
  void lastSequenceCoversAllRecordsAndWrapsAfterMaxValue() {
    assertEquals(0, new BatchHeader(1, (short) 0, 0, 1).lastSequence());
    assertEquals(14, new BatchHeader(1, (short) 0, 10, 5).lastSequence());
    assertEquals(Integer.MAX_VALUE, new BatchHeader(1, (short) 0, Integer.MAX_VALUE, 1).lastSequence());
    assertEquals(0, new BatchHeader(1, (short) 0, Integer.MAX_VALUE, 2).lastSequence());
    assertEquals(2, new BatchHeader(1, (short) 0, Integer.MAX_VALUE - 1, 5).lastSequence());
  }

  @Test
  void appendOutcomeFactoriesFillOffsetsAndStatus() {
    AppendOutcome a = AppendOutcome.appended(3, 5);
    assertTrue(a.isAppended());
    AppendOutcome d = AppendOutcome.duplicate(3, 5);
    assertFalse(d.isAppended());
    assertEquals(AppendOutcome.Status.DUPLICATE, d.status());
    assertEquals(3, d.baseOffset());
    AppendOutcome r = AppendOutcome.rejected(AppendOutcome.Status.PRODUCER_FENCED, "why");
    assertFalse(r.isAppended());
    assertEquals(-1, r.baseOffset());
    assertEquals(-1, r.lastOffset());
    assertEquals("why", r.message());
  }
}
