package io.raftlog.statemachine.codec;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Header;
import io.raftlog.api.v1.Record;
import io.raftlog.statemachine.core.BatchHeader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.compress.Compression;
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
    MutableRecordBatch batch = single(buffer);
    return new BatchHeader(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
        (int) (batch.lastOffset() - batch.baseOffset() + 1));
  }

  /** The largest record timestamp of the single batch in {@code buffer}. */
  public static long maxTimestamp(ByteBuffer buffer) {
    return single(buffer).maxTimestamp();
  }

  /** Rewrites the offsets of the single batch in {@code buffer} to start at {@code baseOffset}. */
  public static void assignBaseOffset(ByteBuffer buffer, long baseOffset) {
    MutableRecordBatch batch = single(buffer);
    long delta = batch.lastOffset() - batch.baseOffset();
    // The v2 CRC does not cover the base offset, so this needs no re-encoding.
    batch.setLastOffset(baseOffset + delta);
  }

  private static MutableRecordBatch single(ByteBuffer buffer) {
    try {
      return singleUnchecked(buffer);
    } catch (KafkaException e) {
      // e.g. CorruptRecordException for a batch length below the minimum or an unknown magic:
      // callers (the apply path) expect IllegalArgumentException for every malformed batch.
      throw new IllegalArgumentException("malformed record batch: " + e.getMessage(), e);
    }
  }

  private static MutableRecordBatch singleUnchecked(ByteBuffer buffer) {
    MemoryRecords records = MemoryRecords.readableRecords(buffer.duplicate());
    Iterator<MutableRecordBatch> it = records.batches().iterator();
    if (!it.hasNext()) {
      throw new IllegalArgumentException("no complete record batch in " + buffer.remaining() + " bytes");
    }
    MutableRecordBatch batch = it.next();
    if (batch.magic() != RecordBatch.MAGIC_VALUE_V2) {
      throw new IllegalArgumentException("record batch magic " + batch.magic() + " is not supported, only v2");
    }
    if (!batch.isValid()) {
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
    List<Record> out = new ArrayList<>();
    for (RecordBatch batch : MemoryRecords.readableRecords(batches.duplicate()).batches()) {
      if (batch.lastOffset() < fromOffset) {
        continue;
      }
      if (batch.baseOffset() >= untilOffset) {
        break;
      }
      for (org.apache.kafka.common.record.internal.Record r : batch) {
        long offset = r.offset();
        if (offset < fromOffset) {
          continue;
        }
        if (offset >= untilOffset) {
          break;
        }
        Record.Builder b = Record.newBuilder().setOffset(offset).setTimestampMs(r.timestamp());
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
        out.add(b.build());
      }
    }
    return out;
  }
}
