package io.raftlog.statemachine.codec;

import io.raftlog.log.v1.AppendReply;
import io.raftlog.log.v1.AppendStatus;
import io.raftlog.log.v1.PartitionSnapshot;
import io.raftlog.log.v1.ProducerBatch;
import io.raftlog.log.v1.ProducerStateEntry;
import io.raftlog.statemachine.core.AppendOutcome;
import io.raftlog.statemachine.core.PartitionCore;
import io.raftlog.statemachine.core.ProducerStateTable;
import java.util.ArrayList;
import java.util.List;

/** Translates between the partition core's types and the replicated formats (raftlog.log.v1). */
public final class PartitionCodec {

  private PartitionCodec() {}

  public static AppendReply reply(AppendOutcome outcome) {
    AppendStatus status = switch (outcome.status()) {
      case APPENDED -> AppendStatus.APPEND_OK;
      case DUPLICATE -> AppendStatus.APPEND_DUPLICATE;
      case OUT_OF_ORDER_SEQUENCE -> AppendStatus.APPEND_OUT_OF_ORDER_SEQUENCE;
      case PRODUCER_FENCED -> AppendStatus.APPEND_INVALID_PRODUCER_EPOCH;
      case UNKNOWN_PRODUCER_ID -> AppendStatus.APPEND_UNKNOWN_PRODUCER_ID;
    };
    return AppendReply.newBuilder().setStatus(status).setBaseOffset(outcome.baseOffset())
        .setLastOffset(outcome.lastOffset()).setMessage(outcome.message()).build();
  }

  public static PartitionSnapshot snapshotOf(PartitionCore core) {
    PartitionSnapshot.Builder b = PartitionSnapshot.newBuilder()
        .setNextOffset(core.nextOffset()).setLogStartOffset(core.logStartOffset());
    for (ProducerStateTable.ProducerEntry e : core.producers().entries()) {
      ProducerStateEntry.Builder pe = ProducerStateEntry.newBuilder().setProducerId(e.producerId())
          .setProducerEpoch(e.epoch()).setLastTimestampMs(e.lastTimestampMs());
      for (ProducerStateTable.CachedBatch cb : e.batches()) {
        pe.addBatches(ProducerBatch.newBuilder().setFirstSequence(cb.firstSequence())
            .setLastSequence(cb.lastSequence()).setBaseOffset(cb.baseOffset()).setLastOffset(cb.lastOffset()));
      }
      b.addProducers(pe);
    }
    return b.build();
  }

  public static PartitionCore coreFromSnapshot(PartitionSnapshot snapshot) {
    List<ProducerStateTable.ProducerEntry> entries = new ArrayList<>();
    for (ProducerStateEntry pe : snapshot.getProducersList()) {
      List<ProducerStateTable.CachedBatch> batches = new ArrayList<>();
      for (ProducerBatch pb : pe.getBatchesList()) {
        batches.add(new ProducerStateTable.CachedBatch(pb.getFirstSequence(), pb.getLastSequence(),
            pb.getBaseOffset(), pb.getLastOffset()));
      }
      entries.add(new ProducerStateTable.ProducerEntry(pe.getProducerId(), (short) pe.getProducerEpoch(),
          batches, pe.getLastTimestampMs()));
    }
    ProducerStateTable table = new ProducerStateTable();
    table.restore(entries);
    return new PartitionCore(snapshot.getLogStartOffset(), snapshot.getNextOffset(), table,
        PartitionCore.DEFAULT_PRODUCER_EXPIRATION_MS);
  }
}
