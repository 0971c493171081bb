package io.raftlog.statemachine.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.raftlog.log.v1.AppendBatch;
import io.raftlog.log.v1.AppendBatches;
import io.raftlog.log.v1.PartitionCommand;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteStringViewsTest {

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] contentOf(ByteBuffer view) {
    byte[] out = new byte[view.remaining()];
    view.duplicate().get(out);
    return out;
  }

  @Test
  void aViewSharesTheArrayOfAByteString() {
    byte[] array = randomBytes(100, 1);
    ByteBuffer view = ByteStringViews.readView(com.google.protobuf.UnsafeByteOperations.unsafeWrap(array, 10, 50));
    assertEquals(0, view.position());
    assertEquals(50, view.remaining());
    assertTrue(view.hasArray(), "an array-backed view, which CRC32C and the parser read without copying");
    assertArrayEquals(Arrays.copyOfRange(array, 10, 60), contentOf(view));
    array[10] ^= 0x5a; // the view shows the change: it is not a copy
    assertEquals(array[10], view.get(0));
  }

  @Test
  void aViewOfAShadedByteStringSharesItsArrayToo() {
    byte[] array = randomBytes(64, 2);
    ByteBuffer view = ByteStringViews.readView(
        org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations.unsafeWrap(array, 4, 20));
    assertArrayEquals(Arrays.copyOfRange(array, 4, 24), contentOf(view));
    array[4] ^= 0x11;
    assertEquals(array[4], view.get(0));
  }

  @Test
  void aByteStringOfSeveralPiecesIsReadCorrectly() {
    byte[] a = randomBytes(300, 3);
    byte[] b = randomBytes(200, 4);
    byte[] both = new byte[500];
    System.arraycopy(a, 0, both, 0, 300);
    System.arraycopy(b, 0, both, 300, 200);
    assertArrayEquals(both, contentOf(ByteStringViews.readView(
        com.google.protobuf.ByteString.copyFrom(a).concat(com.google.protobuf.ByteString.copyFrom(b)))));
    assertArrayEquals(both, contentOf(ByteStringViews.readView(
        org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(a)
            .concat(org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(b)))));
    assertEquals(0, ByteStringViews.readView(com.google.protobuf.ByteString.EMPTY).remaining());
    assertEquals(0, ByteStringViews.readView(org.apache.ratis.thirdparty.com.google.protobuf.ByteString.EMPTY)
        .remaining());
  }

  @Test
  void aParsedCommandsBatchesShareTheEntrysBytes() throws Exception {
    byte[] first = randomBytes(1000, 5);
    byte[] second = randomBytes(700, 6);
    PartitionCommand command = PartitionCommand.newBuilder().setAppendBatches(AppendBatches.newBuilder()
        .addBatches(AppendBatch.newBuilder().setRecordBatch(com.google.protobuf.ByteString.copyFrom(first))
            .setProposedAtMs(42))
        .addBatches(AppendBatch.newBuilder().setRecordBatch(com.google.protobuf.ByteString.copyFrom(second))))
        .build();
    byte[] entry = command.toByteArray();

    PartitionCommand parsed = ByteStringViews.parseAliased(
        org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations.unsafeWrap(entry), PartitionCommand.parser());
    assertEquals(command, parsed);

    // Change the entry's copy of the first batch's first byte: the parsed batch shows it.
    int at = indexOf(entry, first);
    entry[at] ^= 0x7f;
    assertEquals(entry[at], parsed.getAppendBatches().getBatches(0).getRecordBatch().byteAt(0));
  }

  @Test
  void parsingAnEntryOfSeveralPiecesOrGarbage() throws Exception {
    PartitionCommand command = PartitionCommand.newBuilder()
        .setAppend(AppendBatch.newBuilder().setRecordBatch(com.google.protobuf.ByteString.copyFrom(randomBytes(90, 7))))
        .build();
    byte[] entry = command.toByteArray();
    var pieces = org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(entry, 0, 40)
        .concat(org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(entry, 40, entry.length - 40));
    assertEquals(command, ByteStringViews.parseAliased(pieces, PartitionCommand.parser()));

    byte[] garbage = {(byte) 0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2};
    assertThrows(InvalidProtocolBufferException.class, () -> ByteStringViews.parseAliased(
        org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(garbage), PartitionCommand.parser()));
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
