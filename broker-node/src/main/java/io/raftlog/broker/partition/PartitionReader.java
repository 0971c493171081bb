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

  /** What one read returned: records below the high watermark, in offset order. */
  public record ReadResult(List<Record> records, long highWatermark, long logStartOffset, int bytes) {}

  private PartitionReader() {}

  public static ReadResult read(PartitionReplica replica, long offset, int maxBytes) {
    PartitionStateMachine sm = replica.stateMachine();
    if (!sm.isReady()) {
      throw new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, "the replica of " + replica
          + " on this broker is still starting; retry");
    }
    // Read the bounds first: records at or beyond this high watermark are not returned even if a
    // concurrent apply stores them meanwhile.
    long hw = sm.highWatermark();
    long start = sm.logStartOffset();
    if (offset < start || offset > hw) {
      throw outOfRange(replica, offset, start, hw);
    }
    if (offset == hw) {
      return new ReadResult(List.of(), hw, start, 0);
    }
    try {
      ByteBuffer batches = sm.read(offset, maxBytes);
      return new ReadResult(RecordBatches.decode(batches, offset, hw), hw, start, batches.remaining());
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
