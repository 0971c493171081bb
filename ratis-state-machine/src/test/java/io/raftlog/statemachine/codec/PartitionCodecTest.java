package io.raftlog.statemachine.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftlog.log.v1.AppendReply;
import io.raftlog.log.v1.AppendStatus;
import io.raftlog.log.v1.PartitionSnapshot;
import io.raftlog.statemachine.core.AppendOutcome;
import io.raftlog.statemachine.core.AppendOutcome.Status;
import io.raftlog.statemachine.core.BatchHeader;
import io.raftlog.statemachine.core.PartitionCore;
import io.raftlog.statemachine.core.ProducerStateTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PartitionCodecTest {

  private static BatchHeader idem(long pid, int epoch, int seq, int records) {
    return new BatchHeader(pid, (short) epoch, seq, records);
  }

  private static PartitionCore roundTrip(PartitionCore core) throws Exception {
    byte[] bytes = PartitionCodec.snapshotOf(core).toByteArray();
    return PartitionCodec.coreFromSnapshot(PartitionSnapshot.parseFrom(bytes));
  }

  private static Map<Long, ProducerStateTable.ProducerEntry> byId(PartitionCore core) {
    Map<Long, ProducerStateTable.ProducerEntry> m = new HashMap<>();
    core.producers().entries().forEach(e -> m.put(e.producerId(), e));
    return m;
  }

  @Test
  void emptyCoreRoundTrips() throws Exception {
    PartitionCore restored = roundTrip(PartitionCore.empty());
    assertEquals(0, restored.nextOffset());
    assertEquals(0, restored.logStartOffset());
    assertEquals(0, restored.producers().size());
  }

  @Test
  void snapshotKeepsOffsetsAndEveryProducerEntry() throws Exception {
    PartitionCore core = new PartitionCore(0, 0, new ProducerStateTable(), PartitionCore.DEFAULT_PRODUCER_EXPIRATION_MS);
    for (int i = 0; i < 7; i++) {
      core.append(idem(1, 0, i, 1), 1_000 + i);
    }
    core.append(idem(2, 3, 0, 4), 2_000);
    // A known producer right before the sequence wrap (a new id must start at 0).
    core.append(idem(Long.MAX_VALUE, Short.MAX_VALUE, 0, 1), 2_500);
    core.producers().restore(new java.util.ArrayList<>(core.producers().entries()) {{
        removeIf(e -> e.producerId() == Long.MAX_VALUE);
        add(new ProducerStateTable.ProducerEntry(Long.MAX_VALUE, Short.MAX_VALUE, java.util.List.of(
            new ProducerStateTable.CachedBatch(Integer.MAX_VALUE - 2, Integer.MAX_VALUE - 2, 9, 9)), 2_500));
      }});
    core.append(idem(Long.MAX_VALUE, Short.MAX_VALUE, Integer.MAX_VALUE - 1, 3), 3_000);
    core.append(new BatchHeader(-1, (short) -1, -1, 2), 4_000);
    core.advanceLogStart(4);

    PartitionCore restored = roundTrip(core);
    assertEquals(core.nextOffset(), restored.nextOffset());
    assertEquals(4, restored.logStartOffset());
    assertEquals(byId(core), byId(restored));
    assertEquals(Short.MAX_VALUE, restored.producers().get(Long.MAX_VALUE).epoch());
  }

  @Test
  void afterRestoreTheSameRetriesDeduplicateAndAreRejectedTheSameWay() throws Exception {
    PartitionCore core = PartitionCore.empty();
    List<BatchHeader> sent = new ArrayList<>();
    int seq = 0;
    for (int i = 0; i < 8; i++) {
      BatchHeader b = idem(5, 2, seq, 1 + i % 3);
      sent.add(b);
      core.append(b, 10);
      seq += b.recordCount();
    }
    core.append(idem(6, 0, Integer.MAX_VALUE, 2), 10); // wrapped last sequence 0
    PartitionCore restored = roundTrip(core);

    List<BatchHeader> probes = new ArrayList<>(sent);
    probes.add(idem(5, 2, seq + 1, 1)); // gap
    probes.add(idem(5, 1, seq, 1)); // fenced
    probes.add(idem(5, 3, 1, 1)); // new epoch not at 0
    probes.add(idem(6, 0, Integer.MAX_VALUE, 2)); // duplicate across the wrap
    probes.add(idem(6, 0, 1, 1)); // next after the wrap
    probes.add(idem(5, 2, seq, 2)); // next
    probes.add(idem(5, 2, seq, 2)); // its retry
    for (BatchHeader probe : probes) {
      AppendOutcome expected = core.append(probe, 20);
      AppendOutcome actual = restored.append(probe, 20);
      assertEquals(expected, actual, "probe " + probe);
    }
    // the oldest three of the first producer's batches are no longer cached
    assertEquals(Status.OUT_OF_ORDER_SEQUENCE, restored.append(sent.get(0), 30).status());
    assertEquals(Status.DUPLICATE, restored.append(sent.get(7), 30).status());
  }

  @Test
  void restoredCoreExpiresProducersAtTheSameTime() throws Exception {
    PartitionCore core = PartitionCore.empty();
    core.append(idem(1, 0, 0, 1), 1_000);
    core.append(idem(2, 0, 0, 1), 5_000);
    PartitionCore restored = roundTrip(core);
    long at = 1_001 + PartitionCore.DEFAULT_PRODUCER_EXPIRATION_MS;
    assertEquals(core.expireProducers(at), restored.expireProducers(at));
    assertEquals(byId(core), byId(restored));
  }

  @Test
  void snapshotBytesAreStableForTheSameState() throws Exception {
    PartitionCore core = PartitionCore.empty();
    core.append(idem(1, 0, 0, 1), 1);
    PartitionCore restored = roundTrip(core);
    assertEquals(PartitionCodec.snapshotOf(core), PartitionCodec.snapshotOf(restored));
  }

  @Test
  void replyMapsEveryStatusAndKeepsOffsetsAndMessage() {
    PartitionCore core = PartitionCore.empty();
    AppendOutcome appended = core.append(idem(1, 1, 0, 3), 0);
    AppendReply ok = PartitionCodec.reply(appended);
    assertEquals(AppendStatus.APPEND_OK, ok.getStatus());
    assertEquals(0, ok.getBaseOffset());
    assertEquals(2, ok.getLastOffset());

    AppendReply dup = PartitionCodec.reply(core.append(idem(1, 1, 0, 3), 0));
    assertEquals(AppendStatus.APPEND_DUPLICATE, dup.getStatus());
    assertEquals(0, dup.getBaseOffset());
    assertEquals(2, dup.getLastOffset());

    AppendOutcome gap = core.append(idem(1, 1, 9, 1), 0);
    AppendReply ooo = PartitionCodec.reply(gap);
    assertEquals(AppendStatus.APPEND_OUT_OF_ORDER_SEQUENCE, ooo.getStatus());
    assertEquals(-1, ooo.getBaseOffset());
    assertEquals(gap.message(), ooo.getMessage());

    AppendReply fenced = PartitionCodec.reply(core.append(idem(1, 0, 3, 1), 0));
    assertEquals(AppendStatus.APPEND_INVALID_PRODUCER_EPOCH, fenced.getStatus());
    assertEquals(-1, fenced.getLastOffset());

    for (Status s : Status.values()) {
      PartitionCodec.reply(new AppendOutcome(s, -1, -1, "")); // every status has a mapping
    }
  }
}
