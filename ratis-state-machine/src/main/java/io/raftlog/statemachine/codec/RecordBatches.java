package io.raftlog.statemachine.codec;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.raftlog.api.v1.Header;
import io.raftlog.api.v1.Record;
import io.raftlog.statemachine.core.BatchHeader;
import io.raftlog.statemachine.store.StoredBatches;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.CloseableIterator;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

/**
 * Kafka record batch v2: the one record format from producer request to segment file to fetch.
 * Built and parsed with kafka-clients' maintained implementation (CRC32C, varints, headers,
 * producer id/epoch/sequence), so a future Kafka-protocol listener can serve stored bytes as is.
 */
public final class RecordBatches {

  private RecordBatches() {}

  /**
   * Builds one batch with base offset 0 from API records. Records with timestamp 0 get {@code nowMs}.
   *
   * @param producerId -1 for a non-idempotent batch
   */
  public static ByteBuffer build(List<Record> records, long producerId, short producerEpoch,
      int baseSequence, long nowMs) {
    if (records.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one record");
    }
    int estimate = 61;
    for (Record r : records) {
      estimate += 32 + r.getKey().size() + r.getValue().size();
      for (Header h : r.getHeadersList()) {
        estimate += 16 + h.getKeyBytes().size() + h.getValue().size();
      }
    }
    boolean idempotent = producerId >= 0;
    MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(estimate),
        RecordBatch.MAGIC_VALUE_V2, Compression.NONE, TimestampType.CREATE_TIME, 0L,
        RecordBatch.NO_TIMESTAMP,
        idempotent ? producerId : RecordBatch.NO_PRODUCER_ID,
        idempotent ? producerEpoch : RecordBatch.NO_PRODUCER_EPOCH,
        idempotent ? baseSequence : RecordBatch.NO_SEQUENCE,
        false, RecordBatch.NO_PARTITION_LEADER_EPOCH);
    for (Record r : records) {
      long ts = r.getTimestampMs() > 0 ? r.getTimestampMs() : nowMs;
      byte[] key = r.hasKey() ? r.getKey().toByteArray() : null;
      byte[] value = r.hasValue() ? r.getValue().toByteArray() : null;
      org.apache.kafka.common.header.Header[] headers = new org.apache.kafka.common.header.Header[r.getHeadersCount()];
      for (int i = 0; i < headers.length; i++) {
        Header h = r.getHeaders(i);
        headers[i] = new RecordHeader(h.getKey(), h.getValue().toByteArray());
      }
      builder.append(ts, key, value, headers);
    }
    return builder.build().buffer();
  }

  /**
   * Validates that {@code buffer} holds exactly one v2 batch with a correct CRC and returns its
   * header. Does not move the buffer's position.
   *
   * @throws IllegalArgumentException with a message a person can act on
   */
  public static BatchHeader parseHeader(ByteBuffer buffer) {
    return headerOf(single(buffer, true));
  }

  /**
   * The header of a batch that was already validated (e.g. when the broker accepted it), without
   * computing the CRC again.
   */
  public static BatchHeader readValidatedHeader(ByteBuffer buffer) {
    return headerOf(single(buffer, false));
  }

  private static BatchHeader headerOf(MutableRecordBatch batch) {
    return new BatchHeader(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
        (int) (batch.lastOffset() - batch.baseOffset() + 1));
  }

  /** A record in a client batch is larger (uncompressed) than the broker accepts. */
  /** A record without a key for a compacted topic. */
  public static final class MissingKeyException extends IllegalArgumentException {
    MissingKeyException(String message) {
      super(message);
    }
  }

  public static final class RecordTooLargeException extends IllegalArgumentException {
    RecordTooLargeException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Validates a batch built by a client before it is proposed: exactly one v2 batch with a valid
   * CRC, an accepted compression codec, create-time timestamps, not transactional, and records
   * whose offset deltas are exactly 0..n-1 (so offsets stay contiguous once assigned). Compressed
   * batches are decompressed once here, one record at a time, to check that.
   *
   * @param maxRecordBytes largest uncompressed record body; a compressed batch is small on the wire
   *     but its records are allocated at their declared size when decompressed, so a few bytes of
   *     gzip claiming a 2 GiB record must be refused before that allocation
   * @throws RecordTooLargeException when a record exceeds {@code maxRecordBytes}
   * @throws IllegalArgumentException with a message a person can act on for any other problem
   */
  public static BatchHeader validateClientBatch(ByteBuffer buffer, int maxRecordBytes) {
    return validateClientBatch(buffer, maxRecordBytes, false);
  }

  /**
   * Like {@link #validateClientBatch(ByteBuffer, int)}; with {@code requireKeys} (a compacted
   * topic) a record without a key is refused too, as in Kafka.
   */
  public static BatchHeader validateClientBatch(ByteBuffer buffer, int maxRecordBytes, boolean requireKeys) {
    MutableRecordBatch batch = single(buffer, true);
    try {
      if (batch.compressionType() != CompressionType.NONE && batch.compressionType() != CompressionType.GZIP
          && batch.compressionType() != CompressionType.LZ4) {
        throw new IllegalArgumentException("compression " + batch.compressionType().name
            + " is not supported by this broker; use none, gzip or lz4");
      }
      if (batch.timestampType() != TimestampType.CREATE_TIME) {
        throw new IllegalArgumentException("record batches must use CreateTime timestamps");
      }
      if (batch.isTransactional() || batch.isControlBatch()) {
        throw new IllegalArgumentException("transactional and control batches are not supported");
      }
      int expectedCount = (int) (batch.lastOffset() - batch.baseOffset() + 1);
      long expectedOffset = batch.baseOffset();
      int count = 0;
      try (CloseableIterator<org.apache.kafka.common.record.internal.Record> records =
          batch.streamingIterator(BufferSupplier.NO_CACHING, maxRecordBytes)) {
        while (records.hasNext()) {
          org.apache.kafka.common.record.internal.Record r = records.next();
          if (r.offset() != expectedOffset) {
            throw new IllegalArgumentException("record " + count + " has offset delta "
                + (r.offset() - batch.baseOffset()) + "; deltas must be 0, 1, 2, ...");
          }
          if (requireKeys && !r.hasKey()) {
            throw new MissingKeyException("record " + count + " has no key");
          }
          expectedOffset++;
          count++;
        }
      }
      if (count != expectedCount || count == 0) {
        throw new IllegalArgumentException("the batch header announces " + expectedCount + " records but it holds " + count);
      }
      return new BatchHeader(batch.producerId(), batch.producerEpoch(), batch.baseSequence(), count);
    } catch (InvalidRecordException e) {
      // Kafka's size check in DefaultRecord.readFrom; RecordBatchesTest pins this message.
      if (e.getMessage() != null && e.getMessage().contains("exceeds the configured maximum record size")) {
        throw new RecordTooLargeException("a record is larger than the " + maxRecordBytes
            + " bytes allowed (uncompressed): " + e.getMessage(), e);
      }
      throw new IllegalArgumentException("invalid record batch: " + e.getMessage(), e);
    } catch (KafkaException e) {
      throw new IllegalArgumentException("invalid record batch: " + e.getMessage(), e);
    }
  }

  /**
   * The prefix of {@code batches} holding only batches whose base offset is below
   * {@code untilOffset} (a stored batch never straddles the high watermark).
   */
  public static ByteBuffer batchesBelow(ByteBuffer batches, long untilOffset) {
    int end = batches.position();
    for (RecordBatch batch : MemoryRecords.readableRecords(batches.duplicate()).batches()) {
      if (batch.baseOffset() >= untilOffset) {
        break;
      }
      end += batch.sizeInBytes();
    }
    ByteBuffer out = batches.duplicate();
    out.limit(end);
    return out.slice();
  }

  /** The largest record timestamp of the single, already validated batch in {@code buffer}. */
  public static long maxTimestamp(ByteBuffer buffer) {
    return single(buffer, false).maxTimestamp();
  }

  /**
   * Prepares the single, already validated batch in {@code buffer} for the log store: rewrites its
   * offsets to start at {@code baseOffset} and its partition leader epoch to the value every stored
   * batch carries ({@link StoredBatches#STORED_PARTITION_LEADER_EPOCH}; a producer may send any).
   * The v2 CRC covers neither field, so this needs no re-encoding.
   */
  public static void stampForStorage(ByteBuffer buffer, long baseOffset) {
    MutableRecordBatch batch = single(buffer, false);
    long delta = batch.lastOffset() - batch.baseOffset();
    batch.setLastOffset(baseOffset + delta);
    batch.setPartitionLeaderEpoch(StoredBatches.STORED_PARTITION_LEADER_EPOCH);
  }

  /** @param verifyCrc false only for a batch whose CRC was checked before (it is not cheap) */
  private static MutableRecordBatch single(ByteBuffer buffer, boolean verifyCrc) {
    try {
      return singleUnchecked(buffer, verifyCrc);
    } catch (KafkaException e) {
      // e.g. CorruptRecordException for a batch length below the minimum or an unknown magic:
      // callers (the apply path) expect IllegalArgumentException for every malformed batch.
      throw new IllegalArgumentException("malformed record batch: " + e.getMessage(), e);
    }
  }

  private static MutableRecordBatch singleUnchecked(ByteBuffer buffer, boolean verifyCrc) {
    MemoryRecords records = MemoryRecords.readableRecords(buffer.duplicate());
    Iterator<MutableRecordBatch> it = records.batches().iterator();
    if (!it.hasNext()) {
      throw new IllegalArgumentException("no complete record batch in " + buffer.remaining() + " bytes");
    }
    MutableRecordBatch batch = it.next();
    if (batch.magic() != RecordBatch.MAGIC_VALUE_V2) {
      throw new IllegalArgumentException("record batch magic " + batch.magic() + " is not supported, only v2");
    }
    if (verifyCrc && !StoredBatches.checksumMatches(buffer, buffer.position(), batch.sizeInBytes())) {
      throw new IllegalArgumentException("record batch CRC mismatch (corrupt batch)");
    }
    if (it.hasNext() || batch.sizeInBytes() != buffer.remaining()) {
      throw new IllegalArgumentException("expected exactly one record batch");
    }
    return batch;
  }

  /**
   * Decodes stored batches into API records with offsets in {@code [fromOffset, untilOffset)}.
   */
  public static List<Record> decode(ByteBuffer batches, long fromOffset, long untilOffset) {
    return decode(batches, fromOffset, untilOffset, Integer.MAX_VALUE);
  }

  /**
   * Decodes stored batches into API records with offsets in {@code [fromOffset, untilOffset)},
   * stopping before the {@link #encodedSize} of the decoded records would exceed {@code maxBytes} (the
   * first record is always returned). Compressed batches are decompressed one record at a time, so
   * a small batch that inflates to gigabytes costs only what is returned.
   */
  public static List<Record> decode(ByteBuffer batches, long fromOffset, long untilOffset, int maxBytes) {
    List<Record> out = new ArrayList<>();
    long bytes = 0;
    for (RecordBatch batch : MemoryRecords.readableRecords(batches.duplicate()).batches()) {
      if (batch.lastOffset() < fromOffset) {
        continue;
      }
      if (batch.baseOffset() >= untilOffset) {
        break;
      }
      try (CloseableIterator<org.apache.kafka.common.record.internal.Record> records =
          batch.streamingIterator(BufferSupplier.NO_CACHING)) {
        while (records.hasNext()) {
          org.apache.kafka.common.record.internal.Record r = records.next();
          long offset = r.offset();
          if (offset < fromOffset) {
            continue;
          }
          if (offset >= untilOffset) {
            break;
          }
          Record decoded = toApi(r);
          bytes += encodedSize(decoded);
          if (bytes > maxBytes && !out.isEmpty()) {
            return out;
          }
          out.add(decoded);
        }
      }
    }
    return out;
  }

  /** Bytes a record takes as a repeated message field of a response (never 0, unlike its own size). */
  public static int encodedSize(Record record) {
    return 1 + CodedOutputStream.computeMessageSizeNoTag(record);
  }

  private static Record toApi(org.apache.kafka.common.record.internal.Record r) {
    Record.Builder b = Record.newBuilder().setOffset(r.offset()).setTimestampMs(r.timestamp());
    if (r.hasKey()) {
      b.setKey(ByteString.copyFrom(r.key()));
    }
    if (r.hasValue()) {
      b.setValue(ByteString.copyFrom(r.value()));
    }
    for (org.apache.kafka.common.header.Header h : r.headers()) {
      b.addHeaders(Header.newBuilder().setKey(h.key())
          .setValue(h.value() == null ? ByteString.EMPTY : ByteString.copyFrom(h.value())));
    }
    return b.build();
  }
}
