package io.raftlog.broker.partition;

import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.Record;
import io.raftlog.broker.BrokerException;
import io.raftlog.statemachine.codec.RecordBatches;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import io.raftlog.statemachine.store.OffsetOutOfRangeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** Reads committed records from a local replica (leader or follower: committed data is the same). */
public final class PartitionReader {

  /**
   * What one read returned, below the high watermark: decoded records in offset order, or with
   * {@code raw} the stored batches as they are (the first may start before the requested offset).
   */
  public record ReadResult(List<Record> records, ByteBuffer batches, long highWatermark, long logStartOffset,
      int bytes) {
    public boolean isEmpty() {
      return bytes == 0;
    }
  }

  private PartitionReader() {}

  /**
   * @param maxBytes at most this many bytes, except that the first batch (record, when decoding)
   *     is returned even if larger; 0 checks the offset and returns no records
   * @param raw the stored batches as they are; else decoded records, whose serialized size is what
   *     {@code maxBytes} bounds (a compressed batch may decode to far more than its stored size)
   */
  public static ReadResult read(PartitionReplica replica, long offset, int maxBytes, boolean raw) {
    PartitionStateMachine sm = replica.stateMachine();
    if (!sm.isReady()) {
      throw new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, "the replica of " + replica
          + " on this broker is still starting; retry");
    }
    // Read the bounds first: records at or beyond this high watermark are not returned even if a
    // concurrent apply stores them meanwhile. The repair flag goes first: once it reads false, the
    // high watermark read after it covers the repaired range.
    boolean repairing = sm.isRepairing();
    long hw = sm.highWatermark();
    long start = sm.logStartOffset();
    if (offset > hw && repairing) {
      // The offset may well exist: this replica is copying committed batches it lost from its peers
      // and holds its high watermark back until they are stored. Not an out-of-range offset.
      throw new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, "the replica of " + replica
          + " on this broker is repairing its segment files from peers (readable up to offset " + hw + "); retry");
    }
    if (offset < start || offset > hw) {
      throw outOfRange(replica, offset, start, hw);
    }
    if (offset == hw || maxBytes == 0) {
      return new ReadResult(List.of(), ByteBuffer.allocate(0), hw, start, 0);
    }
    try {
      ByteBuffer batches = RecordBatches.batchesBelow(sm.read(offset, maxBytes), hw);
      if (raw) {
        return new ReadResult(List.of(), batches, hw, start, batches.remaining());
      }
      List<Record> records = RecordBatches.decode(batches, offset, hw, maxBytes);
      int bytes = 0;
      for (Record r : records) {
        bytes += RecordBatches.encodedSize(r);
      }
      return new ReadResult(records, null, hw, start, bytes);
    } catch (OffsetOutOfRangeException e) {
      throw outOfRange(replica, offset, e.logStartOffset(), hw);
    } catch (IOException e) {
      throw new BrokerException(ErrorCode.UNKNOWN_SERVER_ERROR, "reading " + replica + " at offset " + offset
          + " failed: " + e.getMessage());
    }
  }

  private static BrokerException outOfRange(PartitionReplica replica, long offset, long start, long end) {
    return new BrokerException(ErrorCode.OFFSET_OUT_OF_RANGE, "offset " + offset + " of " + replica
        + " is out of range: the log holds offsets " + start + " (start) to " + end + " (end, exclusive)");
  }
}
