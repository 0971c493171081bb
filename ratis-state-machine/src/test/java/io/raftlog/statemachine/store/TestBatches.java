package io.raftlog.statemachine.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;

/** Builds and checks record batches for the store tests. */
final class TestBatches {
  private TestBatches() {}

  /** An uncompressed v2 batch of {@code records} records whose values encode their offsets. */
  static ByteBuffer batch(long baseOffset, int records, int valueBytes) {
    SimpleRecord[] simpleRecords = new SimpleRecord[records];
    for (int i = 0; i < records; i++) {
      simpleRecords[i] = new SimpleRecord(1_000L + i, null, value(baseOffset + i, valueBytes));
    }
    return MemoryRecords.withRecords(baseOffset, Compression.NONE, simpleRecords).buffer();
  }

  /** A batch of one record with the given timestamp. */
  static ByteBuffer batchAt(long baseOffset, long timestamp) {
    return MemoryRecords.withRecords(baseOffset, Compression.NONE,
        new SimpleRecord(timestamp, null, value(baseOffset, 16))).buffer();
  }

  static ByteBuffer batch(long baseOffset, int records) {
    return batch(baseOffset, records, 16);
  }

  /** The value of the record at {@code offset}: its decimal offset, padded with '.' to the size. */
  static byte[] value(long offset, int valueBytes) {
    byte[] digits = Long.toString(offset).getBytes(StandardCharsets.US_ASCII);
    byte[] value = new byte[Math.max(valueBytes, digits.length)];
    Arrays.fill(value, (byte) '.');
    System.arraycopy(digits, 0, value, 0, digits.length);
    return value;
  }

  static long offsetInValue(Record record) {
    byte[] bytes = new byte[record.valueSize()];
    record.value().duplicate().get(bytes);
    String text = new String(bytes, StandardCharsets.US_ASCII);
    int end = text.indexOf('.');
    return Long.parseLong(end < 0 ? text : text.substring(0, end));
  }

  /**
   * Parses a read result, asserting it is nothing but whole, CRC-valid batches with contiguous
   * offsets whose records carry the values {@link #batch} wrote for them.
   */
  static List<MutableRecordBatch> parseWholeBatches(ByteBuffer data) {
    MemoryRecords records = MemoryRecords.readableRecords(data.duplicate());
    List<MutableRecordBatch> batches = new ArrayList<>();
    int bytes = 0;
    for (MutableRecordBatch batch : records.batches()) {
      batch.ensureValid();
      if (!batches.isEmpty()) {
        assertEquals(batches.get(batches.size() - 1).nextOffset(), batch.baseOffset(), "offsets contiguous");
      }
      for (Record record : batch) {
        assertEquals(record.offset(), offsetInValue(record), "record value matches its offset");
      }
      batches.add(batch);
      bytes += batch.sizeInBytes();
    }
    assertEquals(data.remaining(), bytes, "read returned a partial batch");
    return batches;
  }

  /** Asserts the first batch of a read result contains {@code offset}. */
  static void assertStartsWithBatchContaining(List<MutableRecordBatch> batches, long offset) {
    assertTrue(!batches.isEmpty(), "expected at least one batch");
    MutableRecordBatch first = batches.get(0);
    assertTrue(first.baseOffset() <= offset && offset <= first.lastOffset(),
        "first batch [" + first.baseOffset() + ", " + first.lastOffset() + "] should contain " + offset);
  }
}
