package io.raftlog.statemachine.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.Records;

/**
 * Reads and checks Kafka v2 record batch headers and checksums; shared by both {@link LogStore}
 * implementations and by the produce path's batch validation.
 */
public final class StoredBatches {

  /** Bytes of the fixed v2 batch header; no valid batch is smaller. */
  static final int HEADER_SIZE = DefaultRecordBatch.RECORD_BATCH_OVERHEAD;

  private StoredBatches() {}

  /** Where the v2 header holds the batch's largest record timestamp (Kafka keeps its constant private). */
  static final int MAX_TIMESTAMP_OFFSET = 35;

  /** Where the v2 header holds the partition leader epoch: right after base offset and length. */
  static final int PARTITION_LEADER_EPOCH_OFFSET = Records.LOG_OVERHEAD;

  /**
   * The partition leader epoch every stored batch carries: Kafka's "no epoch". The field lies
   * outside the v2 CRC (like the base offset and the length, which the store checks by offset
   * continuity and by the CRC's range), so a fixed value is what lets recovery notice a damaged
   * one; the apply path stamps it ({@code RecordBatches.stampForStorage}). Kafka consumers read -1
   * as "epoch unknown" and skip epoch-based truncation detection. Storing leader epochs (the Raft
   * term) for the Kafka protocol will need its own check, e.g. an epoch file like Kafka's
   * leader-epoch-checkpoint, before this can change.
   */
  public static final int STORED_PARTITION_LEADER_EPOCH = RecordBatch.NO_PARTITION_LEADER_EPOCH;

  /**
   * Where a batch sits in offset space, how many bytes it takes, and its largest record timestamp
   * (the header's max timestamp; what time-based retention goes by).
   */
  record BatchInfo(long baseOffset, long lastOffset, int sizeInBytes, long maxTimestamp) {
    long nextOffset() {
      return lastOffset + 1;
    }
  }

  /** A batch that must not be stored or served; the message says why. */
  static final class InvalidBatchException extends Exception {
    InvalidBatchException(String message) {
      super(message);
    }
  }

  /**
   * Parses the header of the batch starting at absolute index {@code at} of {@code buf} (big
   * endian), checking magic and size bounds but not the CRC.
   *
   * @param bytesAvailable bytes from {@code at} to the end of the data the batch must fit in; the
   *     buffer must hold at least {@code min(bytesAvailable, HEADER_SIZE)} bytes from {@code at}
   */
  static BatchInfo parseHeader(ByteBuffer buf, int at, long bytesAvailable)
      throws InvalidBatchException {
    if (bytesAvailable < Records.HEADER_SIZE_UP_TO_MAGIC) {
      throw new InvalidBatchException("incomplete batch header: only " + bytesAvailable + " bytes");
    }
    byte magic = buf.get(at + Records.MAGIC_OFFSET);
    if (magic != RecordBatch.MAGIC_VALUE_V2) {
      throw new InvalidBatchException("magic " + magic + " is not 2: only v2 record batches are supported");
    }
    long size = Records.LOG_OVERHEAD + (long) buf.getInt(at + Records.SIZE_OFFSET);
    if (size < HEADER_SIZE) {
      throw new InvalidBatchException("batch size " + size + " is smaller than a v2 header (" + HEADER_SIZE + ")");
    }
    if (size > bytesAvailable) {
      throw new InvalidBatchException(
          "incomplete batch: header announces " + size + " bytes but only " + bytesAvailable + " remain");
    }
    long baseOffset = buf.getLong(at);
    int lastOffsetDelta = buf.getInt(at + DefaultRecordBatch.LAST_OFFSET_DELTA_OFFSET);
    if (baseOffset < 0 || lastOffsetDelta < 0 || baseOffset > Long.MAX_VALUE - 1 - lastOffsetDelta) {
      throw new InvalidBatchException(
          "invalid offsets: base offset " + baseOffset + ", last offset delta " + lastOffsetDelta);
    }
    // size >= HEADER_SIZE and size <= bytesAvailable: the buffer holds the whole header.
    return new BatchInfo(baseOffset, baseOffset + lastOffsetDelta, (int) size,
        buf.getLong(at + MAX_TIMESTAMP_OFFSET));
  }

  /**
   * Checks that {@code batch} (position to limit) is exactly one valid v2 batch as the store keeps
   * them: CRC32C included, and {@link #STORED_PARTITION_LEADER_EPOCH} in the one header field that
   * neither the CRC nor the offset checks cover. Does not move the buffer's position.
   */
  static BatchInfo validateSingleBatch(ByteBuffer batch) throws InvalidBatchException {
    ByteBuffer view = batch.slice().order(ByteOrder.BIG_ENDIAN);
    BatchInfo info = parseHeader(view, 0, view.remaining());
    if (info.sizeInBytes() != view.remaining()) {
      throw new InvalidBatchException("expected exactly one batch: the first batch takes "
          + info.sizeInBytes() + " bytes but " + view.remaining() + " were given");
    }
    if (!checksumMatches(view, 0, info.sizeInBytes())) {
      throw new InvalidBatchException("corrupt batch at base offset " + info.baseOffset()
          + ": its CRC32C does not match its content");
    }
    int epoch = view.getInt(PARTITION_LEADER_EPOCH_OFFSET);
    if (epoch != STORED_PARTITION_LEADER_EPOCH) {
      throw new InvalidBatchException("corrupt batch at base offset " + info.baseOffset()
          + ": partition leader epoch " + epoch + " where stored batches carry " + STORED_PARTITION_LEADER_EPOCH);
    }
    return info;
  }

  /** Where the v2 batch CRC starts: it covers the attributes and everything after them. */
  private static final int CRC_COVERED_FROM = DefaultRecordBatch.CRC_OFFSET + 4;

  /**
   * Whether the v2 batch of {@code size} bytes at absolute index {@code at} of {@code buf} carries
   * a correct CRC32C: the check of kafka-clients' {@code RecordBatch.isValid()}, but fast for every
   * buffer. Kafka's checksum helper reads a read-only heap buffer (what a protobuf
   * {@code ByteString} hands out, e.g. a produced batch being validated) one byte at a time;
   * {@link CRC32C#update(ByteBuffer)} reads in bulk with the CPU's CRC32C instruction.
   */
  public static boolean checksumMatches(ByteBuffer buf, int at, int size) {
    if (size < HEADER_SIZE || at < 0 || at > buf.limit() - size) {
      return false;
    }
    ByteBuffer view = buf.duplicate().order(ByteOrder.BIG_ENDIAN);
    long stored = Integer.toUnsignedLong(view.getInt(at + DefaultRecordBatch.CRC_OFFSET));
    view.limit(at + size).position(at + CRC_COVERED_FROM);
    CRC32C crc = new CRC32C();
    crc.update(view);
    return crc.getValue() == stored;
  }
}
