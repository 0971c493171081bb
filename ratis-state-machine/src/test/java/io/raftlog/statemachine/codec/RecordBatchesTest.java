package io.raftlog.statemachine.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftlog.api.v1.Header;
import io.raftlog.api.v1.Record;
import io.raftlog.statemachine.core.BatchHeader;
import io.raftlog.statemachine.store.StoredBatches;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordBatchesTest {

  private static final long NOW = 1_700_000_000_000L;

  private static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  private static Record value(String v) {
    return Record.newBuilder().setValue(bytes(v)).setTimestampMs(1_000).build();
  }

  private static ByteBuffer plainBatch(int n) {
    List<Record> records = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      records.add(value("v" + i));
    }
    return RecordBatches.build(records, -1, (short) -1, -1, NOW);
  }

  /** Concatenates buffers, leaving their positions alone. */
  private static ByteBuffer concat(ByteBuffer... parts) {
    int size = 0;
    for (ByteBuffer p : parts) {
      size += p.remaining();
    }
    ByteBuffer all = ByteBuffer.allocate(size);
    for (ByteBuffer p : parts) {
      all.put(p.duplicate());
    }
    return all.flip();
  }

  @Test
  void roundTripKeepsKeysValuesHeadersAndTimestamps() {
    List<Record> in = List.of(
        Record.newBuilder().setKey(bytes("k1")).setValue(bytes("v1")).setTimestampMs(1_111).build(),
        Record.newBuilder().setValue(bytes("no key")).setTimestampMs(2_222).build(),
        Record.newBuilder().setKey(ByteString.EMPTY).setValue(ByteString.EMPTY).setTimestampMs(3_333).build(),
        Record.newBuilder().setKey(bytes("tombstone")).setTimestampMs(4_444).build(),
        Record.newBuilder().setKey(bytes("h")).setValue(bytes("with headers"))
            .addHeaders(Header.newBuilder().setKey("trace").setValue(bytes("abc")))
            .addHeaders(Header.newBuilder().setKey("empty").setValue(ByteString.EMPTY))
            .addHeaders(Header.newBuilder().setKey("trace").setValue(bytes("dup key kept")))
            .addHeaders(Header.newBuilder().setKey("ключ").setValue(ByteString.copyFrom(new byte[] {0, -1, 127})))
            .setTimestampMs(5_555).build());
    ByteBuffer batch = RecordBatches.build(in, -1, (short) -1, -1, NOW);
    BatchHeader header = RecordBatches.parseHeader(batch);
    assertEquals(in.size(), header.recordCount());
    assertFalse(header.isIdempotent());

    RecordBatches.stampForStorage(batch, 40);
    List<Record> out = RecordBatches.decode(batch, 0, Long.MAX_VALUE);
    assertEquals(in.size(), out.size());
    for (int i = 0; i < in.size(); i++) {
      assertEquals(in.get(i).toBuilder().setOffset(40 + i).build(), out.get(i), "record " + i);
    }
    // null vs empty stay distinct
    assertFalse(out.get(1).hasKey());
    assertTrue(out.get(2).hasKey());
    assertEquals(0, out.get(2).getKey().size());
    assertTrue(out.get(2).hasValue());
    assertFalse(out.get(3).hasValue());
  }

  @Test
  void zeroTimestampBecomesNowAndMaxTimestampIsTheLargest() {
    List<Record> in = List.of(
        Record.newBuilder().setValue(bytes("a")).build(),
        Record.newBuilder().setValue(bytes("b")).setTimestampMs(5).build());
    ByteBuffer batch = RecordBatches.build(in, -1, (short) -1, -1, NOW);
    List<Record> out = RecordBatches.decode(batch, 0, 10);
    assertEquals(NOW, out.get(0).getTimestampMs());
    assertEquals(5, out.get(1).getTimestampMs());
    assertEquals(NOW, RecordBatches.maxTimestamp(batch));
  }

  @Test
  void idempotentProducerFieldsReachTheHeader() {
    ByteBuffer batch = RecordBatches.build(List.of(value("a"), value("b"), value("c")), 77, (short) 4,
        Integer.MAX_VALUE - 1, NOW);
    BatchHeader h = RecordBatches.parseHeader(batch);
    assertEquals(new BatchHeader(77, (short) 4, Integer.MAX_VALUE - 1, 3), h);
    assertTrue(h.isIdempotent());
    assertEquals(0, h.lastSequence()); // MAX-1, MAX, 0
  }

  @Test
  void nonIdempotentBatchHeaderHasNoProducer() {
    BatchHeader h = RecordBatches.parseHeader(RecordBatches.build(List.of(value("a")), -1, (short) 9, 9, NOW));
    assertEquals(BatchHeader.NO_PRODUCER_ID, h.producerId());
    assertEquals(-1, h.producerEpoch());
    assertEquals(-1, h.baseSequence());
  }

  @Test
  void buildRejectsAnEmptyBatch() {
    assertThrows(IllegalArgumentException.class, () -> RecordBatches.build(List.of(), -1, (short) -1, -1, NOW));
  }

  @Test
  void largeRecordsGrowBeyondTheSizeEstimate() {
    byte[] big = new byte[200_000];
    big[199_999] = 7;
    Record r = Record.newBuilder().setValue(ByteString.copyFrom(big))
        .addHeaders(Header.newBuilder().setKey("x".repeat(1000)).setValue(ByteString.copyFrom(big))).build();
    ByteBuffer batch = RecordBatches.build(List.of(r, r), -1, (short) -1, -1, NOW);
    assertEquals(2, RecordBatches.parseHeader(batch).recordCount());
    List<Record> out = RecordBatches.decode(batch, 0, 2);
    assertEquals(r.getValue(), out.get(1).getValue());
    assertEquals(r.getHeaders(0), out.get(1).getHeaders(0));
  }

  @Test
  void parseHeaderAndAssignBaseOffsetDoNotMoveThePosition() {
    ByteBuffer batch = plainBatch(3);
    int pos = batch.position();
    int limit = batch.limit();
    RecordBatches.parseHeader(batch);
    RecordBatches.maxTimestamp(batch);
    RecordBatches.stampForStorage(batch, 1_000);
    assertEquals(pos, batch.position());
    assertEquals(limit, batch.limit());
  }

  @Test
  void stampForStorageRewritesOffsetsAndKeepsTheCrcValid() {
    ByteBuffer batch = plainBatch(3);
    RecordBatches.stampForStorage(batch, 5_000_000_000L);
    assertEquals(3, RecordBatches.parseHeader(batch).recordCount(), "CRC still valid");
    List<Record> out = RecordBatches.decode(batch, 0, Long.MAX_VALUE);
    assertEquals(List.of(5_000_000_000L, 5_000_000_001L, 5_000_000_002L),
        out.stream().map(Record::getOffset).toList());
  }

  @Test
  void stampForStorageReplacesTheProducersPartitionLeaderEpoch() {
    ByteBuffer batch = plainBatch(2);
    batch.putInt(batch.position() + 12, 7); // a producer may send any epoch; it is outside the CRC
    RecordBatches.stampForStorage(batch, 0);
    assertEquals(StoredBatches.STORED_PARTITION_LEADER_EPOCH, batch.getInt(batch.position() + 12));
    assertEquals(2, RecordBatches.parseHeader(batch).recordCount(), "CRC still valid");
  }

  @Test
  void parseHeaderRejectsACorruptedPayload() {
    ByteBuffer batch = plainBatch(2);
    int last = batch.limit() - 1;
    batch.put(last, (byte) (batch.get(last) ^ 0x55));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecordBatches.parseHeader(batch));
    assertTrue(e.getMessage().contains("CRC"), e.getMessage());
  }

  @Test
  void theCrcIsCheckedOnReadOnlyBuffersThatStartInsideALargerArray() {
    // What the broker validates: a protobuf ByteString's read-only view, not at position 0.
    ByteBuffer batch = plainBatch(3);
    ByteBuffer framed = ByteBuffer.allocate(batch.remaining() + 10);
    framed.position(7);
    framed.put(batch.duplicate());
    framed.position(7).limit(7 + batch.remaining());
    ByteBuffer view = framed.slice().asReadOnlyBuffer();
    ByteBuffer shifted = framed.asReadOnlyBuffer();
    assertEquals(3, RecordBatches.validateClientBatch(view, 1 << 20).recordCount());
    assertEquals(3, RecordBatches.validateClientBatch(shifted, 1 << 20).recordCount());
    assertEquals(7, shifted.position(), "validation does not move the buffer");

    framed.put(framed.limit() - 1, (byte) (framed.get(framed.limit() - 1) ^ 0x10));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RecordBatches.validateClientBatch(framed.asReadOnlyBuffer(), 1 << 20));
    assertTrue(e.getMessage().contains("CRC"), e.getMessage());
  }

  @Test
  void parseHeaderRejectsACorruptedCrcField() {
    ByteBuffer batch = plainBatch(2);
    int crcOffset = 17; // base offset (8) + length (4) + leader epoch (4) + magic (1)
    batch.put(crcOffset, (byte) (batch.get(crcOffset) ^ 0x01));
    assertThrows(IllegalArgumentException.class, () -> RecordBatches.parseHeader(batch));
  }

  @Test
  void parseHeaderRejectsCorruptionOfTheRecordCountField() {
    ByteBuffer batch = plainBatch(2);
    int lastOffsetDelta = 23; // covered by the CRC
    batch.put(lastOffsetDelta + 3, (byte) 9);
    assertThrows(IllegalArgumentException.class, () -> RecordBatches.parseHeader(batch));
  }

  @Test
  void parseHeaderRejectsTruncatedBytes() {
    ByteBuffer batch = plainBatch(2);
    for (int cut : new int[] {0, 1, 11, 12, 40, batch.remaining() - 1}) {
      ByteBuffer truncated = batch.duplicate();
      truncated.limit(cut);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> RecordBatches.parseHeader(truncated), "cut at " + cut);
      assertFalse(e.getMessage().isBlank());
    }
  }

  @Test
  void parseHeaderRejectsTwoBatches() {
    ByteBuffer two = concat(plainBatch(1), plainBatch(1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecordBatches.parseHeader(two));
    assertTrue(e.getMessage().contains("exactly one"), e.getMessage());
  }

  @Test
  void parseHeaderRejectsTrailingGarbage() {
    ByteBuffer withTail = concat(plainBatch(1), ByteBuffer.wrap(new byte[] {1, 2, 3}));
    assertThrows(IllegalArgumentException.class, () -> RecordBatches.parseHeader(withTail));
  }

  @Test
  void parseHeaderRejectsAnUnsupportedMagic() {
    ByteBuffer batch = plainBatch(1);
    batch.put(16, (byte) 1);
    assertThrows(IllegalArgumentException.class, () -> RecordBatches.parseHeader(batch));
  }

  @Test
  void parseHeaderRejectsGarbageWithAnIllegalArgumentException() {
    // The apply path turns IllegalArgumentException into APPEND_INVALID_BATCH; anything else
    // fails the state machine.
    byte[][] garbage = {
        new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2},
        new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 70, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
    };
    for (byte[] g : garbage) {
      assertThrows(IllegalArgumentException.class, () -> RecordBatches.parseHeader(ByteBuffer.wrap(g)));
    }
  }

  @Test
  void parseHeaderRejectsCorruptedBatchLengthWithAnIllegalArgumentException() {
    ByteBuffer batch = plainBatch(1);
    batch.putInt(8, 3); // smaller than any record batch
    assertThrows(IllegalArgumentException.class, () -> RecordBatches.parseHeader(batch));
  }

  @Test
  void randomlyDamagedBatchesEitherParseOrFailWithIllegalArgumentException() {
    long seed = Long.getLong("raftlog.test.seed", 0x5EED_0000L); // fixed unless overridden
    java.util.Random rnd = new java.util.Random(seed);
    ByteBuffer good = RecordBatches.build(List.of(value("a"), value("bb"), value("ccc")), 3, (short) 1, 10, NOW);
    byte[] original = new byte[good.remaining()];
    good.duplicate().get(original);
    for (int i = 0; i < 2_000; i++) {
      byte[] damaged = original.clone();
      int len = damaged.length;
      switch (rnd.nextInt(3)) {
        case 0 -> damaged[rnd.nextInt(len)] ^= (byte) (1 + rnd.nextInt(255));
        case 1 -> len = rnd.nextInt(len);
        default -> rnd.nextBytes(damaged);
      }
      ByteBuffer buf = ByteBuffer.wrap(damaged, 0, len).slice();
      try {
        BatchHeader h = RecordBatches.parseHeader(buf);
        // only damage outside the CRC-covered part (offset, length-neutral leader epoch) survives
        assertEquals(3, h.recordCount(), "seed " + seed);
      } catch (IllegalArgumentException expected) {
        // fine
      } catch (RuntimeException e) {
        throw new AssertionError("seed " + seed + ", iteration " + i + ": " + e, e);
      }
    }
  }

  @Test
  void decodeReturnsOnlyOffsetsInTheHalfOpenRange() {
    ByteBuffer a = plainBatch(3);
    RecordBatches.stampForStorage(a, 10); // 10..12
    ByteBuffer b = plainBatch(4);
    RecordBatches.stampForStorage(b, 13); // 13..16
    ByteBuffer c = plainBatch(2);
    RecordBatches.stampForStorage(c, 17); // 17..18
    ByteBuffer log = concat(a, b, c);

    assertEquals(List.of(11L, 12L, 13L, 14L), offsets(RecordBatches.decode(log, 11, 15)));
    assertEquals(List.of(10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L), offsets(RecordBatches.decode(log, 0, 100)));
    assertEquals(List.of(13L, 14L, 15L, 16L), offsets(RecordBatches.decode(log, 13, 17)));
    assertEquals(List.of(18L), offsets(RecordBatches.decode(log, 18, 19)));
    assertEquals(List.of(), RecordBatches.decode(log, 19, 100));
    assertEquals(List.of(), RecordBatches.decode(log, 0, 10));
    assertEquals(List.of(), RecordBatches.decode(log, 14, 14));
    assertEquals(0, log.position(), "decode must not move the position");
    // values follow the offsets within each batch
    assertEquals("v1", RecordBatches.decode(log, 14, 15).get(0).getValue().toStringUtf8());
  }

  @Test
  void decodeOfNothingIsEmpty() {
    assertEquals(List.of(), RecordBatches.decode(ByteBuffer.allocate(0), 0, 10));
  }

  private static List<Long> offsets(List<Record> records) {
    return records.stream().map(Record::getOffset).toList();
  }

  private static ByteBuffer clientBatch(org.apache.kafka.common.compress.Compression compression, byte[]... values) {
    org.apache.kafka.common.record.internal.MemoryRecordsBuilder b = org.apache.kafka.common.record.internal.MemoryRecords
        .builder(ByteBuffer.allocate(256), org.apache.kafka.common.record.internal.RecordBatch.MAGIC_VALUE_V2,
            compression, org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L, -1L, -1L, (short) -1, -1,
            false, -1);
    for (byte[] v : values) {
      b.append(NOW, null, v);
    }
    return b.build().buffer();
  }

  @Test
  void validateClientBatchRefusesRecordsLargerThanTheLimitOnceDecompressed() {
    byte[] big = new byte[10_000];
    ByteBuffer gzip = clientBatch(org.apache.kafka.common.compress.Compression.gzip().build(), new byte[10], big);
    assertTrue(gzip.remaining() < 1_000, "compresses well: " + gzip.remaining());
    assertEquals(2, RecordBatches.validateClientBatch(gzip, 20_000).recordCount());
    // Kafka's message for its record size check is matched to tell "too large" from "corrupt".
    RecordBatches.RecordTooLargeException e = assertThrows(RecordBatches.RecordTooLargeException.class,
        () -> RecordBatches.validateClientBatch(gzip, 5_000));
    assertTrue(e.getMessage().contains("larger than the 5000 bytes allowed"), e.getMessage());
    // Uncompressed, a record is no larger than its batch, whose size the broker checks first.
    ByteBuffer plain = clientBatch(org.apache.kafka.common.compress.Compression.NONE, big);
    assertEquals(1, RecordBatches.validateClientBatch(plain, 5_000).recordCount());
  }

  @Test
  void decodeStopsAtMaxBytesButReturnsAtLeastOneRecord() {
    byte[] value = new byte[1_000];
    ByteBuffer gzip = clientBatch(org.apache.kafka.common.compress.Compression.gzip().build(),
        value, value, value, value, value, value, value, value, value, value);
    RecordBatches.stampForStorage(gzip, 0);
    int one = RecordBatches.encodedSize(RecordBatches.decode(gzip, 0, 10).get(0));
    assertTrue(one > 1_000, "encoded size covers the value: " + one);
    assertEquals(1, RecordBatches.decode(gzip, 0, 10, 1).size(), "at least one record");
    assertEquals(3, RecordBatches.decode(gzip, 0, 10, 3 * one + one / 2).size());
    assertEquals(List.of(4L, 5L), offsets(RecordBatches.decode(gzip, 4, 10, 2 * one + 10)));
    assertEquals(10, RecordBatches.decode(gzip, 0, 10, Integer.MAX_VALUE).size());
  }

  @Test
  void encodedSizeIsNeverZero() {
    assertEquals(2, RecordBatches.encodedSize(Record.getDefaultInstance()));
  }
}
