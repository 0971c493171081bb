package io.raftlog.statemachine.codec;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads protobuf {@code ByteString}s (ours and the copy Ratis shades) without copying their bytes.
 *
 * <p>{@code ByteString.asReadOnlyByteBuffer()} hands out a buffer without an accessible array, and
 * both the JDK's {@code CRC32C.update(ByteBuffer)} and protobuf's parser then copy it into a new
 * array first: on the produce and apply paths that was two to three copies of every record batch
 * (a profile at 10,000 records/s: ~20% of the brokers' allocations). The views here share the
 * ByteString's own array instead.
 *
 * <p>They are for reading only. The arrays belong to the ByteStrings, which are immutable by
 * contract: for a Raft entry, Ratis keeps the same array in its log cache and sends it to followers,
 * so a write through a view would change a replicated entry. Code that must change bytes (the
 * apply path stamps offsets into a batch) copies them first.
 */
public final class ByteStringViews {

  private ByteStringViews() {}

  /**
   * The bytes of {@code bytes}, position 0 to limit, as a buffer over the ByteString's own array
   * when it has a single one (nearly always), else as {@code asReadOnlyByteBuffer()}. Never write
   * to the result.
   */
  public static ByteBuffer readView(com.google.protobuf.ByteString bytes) {
    Capture capture = new Capture();
    try {
      com.google.protobuf.UnsafeByteOperations.unsafeWriteTo(bytes, capture);
    } catch (IOException e) {
      throw new IllegalStateException("capturing a ByteString cannot fail", e);
    }
    ByteBuffer view = capture.captured.view();
    return view != null ? view : bytes.asReadOnlyByteBuffer();
  }

  /** {@link #readView(com.google.protobuf.ByteString)} for Ratis' shaded ByteString (a Raft entry's data). */
  public static ByteBuffer readView(org.apache.ratis.thirdparty.com.google.protobuf.ByteString bytes) {
    ShadedCapture capture = new ShadedCapture();
    try {
      org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations.unsafeWriteTo(bytes, capture);
    } catch (IOException e) {
      throw new IllegalStateException("capturing a ByteString cannot fail", e);
    }
    ByteBuffer view = capture.captured.view();
    return view != null ? view : bytes.asReadOnlyByteBuffer();
  }

  /**
   * Parses a message from a Raft entry's data without copying it: the message's {@code bytes}
   * fields (record batches) share the entry's array, so they must not outlive a reason to keep
   * that array, and are never written to (see the class comment).
   */
  public static <T> T parseAliased(org.apache.ratis.thirdparty.com.google.protobuf.ByteString data, Parser<T> parser)
      throws InvalidProtocolBufferException {
    ByteBuffer view = readView(data);
    CodedInputStream in;
    if (view.hasArray()) {
      // A wrapped array counts as immutable to protobuf, which is what lets enableAliasing share it.
      in = com.google.protobuf.UnsafeByteOperations
          .unsafeWrap(view.array(), view.arrayOffset() + view.position(), view.remaining())
          .newCodedInput();
    } else {
      in = CodedInputStream.newInstance(view);
    }
    in.enableAliasing(true);
    T message = parser.parseFrom(in);
    in.checkLastTagWas(0);
    return message;
  }

  /** The one array (or buffer) a ByteString wrote itself as, if it wrote exactly one. */
  private static final class Captured {
    private int writes;
    private byte[] array;
    private int offset;
    private int length;
    private ByteBuffer buffer;

    void array(byte[] value, int offset, int length) {
      if (writes++ == 0) {
        this.array = value;
        this.offset = offset;
        this.length = length;
      }
    }

    void buffer(ByteBuffer value) {
      if (writes++ == 0) {
        this.buffer = value.duplicate();
      }
    }

    /** Bytes that may not be kept (a single byte, or an array or buffer the writer may reuse). */
    void notKeepable() {
      writes += 2;
    }

    /** A view of the one array or buffer; null when there were several, or none. */
    ByteBuffer view() {
      if (writes != 1) {
        return null;
      }
      if (array != null) {
        return ByteBuffer.wrap(array, offset, length).slice();
      }
      return buffer.hasArray() || buffer.isDirect() ? buffer.slice() : null;
    }
  }

  private static final class Capture extends com.google.protobuf.ByteOutput {
    final Captured captured = new Captured();

    // Only the lazy writes hand over bytes that may be kept (ByteOutput's contract).
    @Override public void write(byte value) { captured.notKeepable(); }
    @Override public void write(byte[] value, int offset, int length) { captured.notKeepable(); }
    @Override public void writeLazy(byte[] value, int offset, int length) { captured.array(value, offset, length); }
    @Override public void write(ByteBuffer value) { captured.notKeepable(); }
    @Override public void writeLazy(ByteBuffer value) { captured.buffer(value); }
  }

  /** {@link Capture} for Ratis' shaded protobuf classes. */
  private static final class ShadedCapture extends org.apache.ratis.thirdparty.com.google.protobuf.ByteOutput {
    final Captured captured = new Captured();

    // Only the lazy writes hand over bytes that may be kept (ByteOutput's contract).
    @Override public void write(byte value) { captured.notKeepable(); }
    @Override public void write(byte[] value, int offset, int length) { captured.notKeepable(); }
    @Override public void writeLazy(byte[] value, int offset, int length) { captured.array(value, offset, length); }
    @Override public void write(ByteBuffer value) { captured.notKeepable(); }
    @Override public void writeLazy(ByteBuffer value) { captured.buffer(value); }
  }
}
