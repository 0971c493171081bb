package io.raftlog.statemachine.ratis;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Parser;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteOutput;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Checks that a Raft client request's content parses as the group's command message, the way
 * apply will parse it, before the request enters the Raft log. Parses in place (bytes fields alias
 * the request) when the content is one array, so a large record batch is not copied for this.
 */
final class RequestContent {

  private RequestContent() {}

  /**
   * @throws IOException (Ratis answers the client with a StateMachineException) when the content
   *     is not a valid encoding of the message
   */
  static <T> T parse(ByteString content, Parser<T> parser) throws IOException {
    InPlace<T> inPlace = new InPlace<>(content.size(), parser);
    UnsafeByteOperations.unsafeWriteTo(content, inPlace);
    if (inPlace.parsed != null) {
      return inPlace.parsed;
    }
    // Not a single array (e.g. a rope): parse a copy.
    byte[] copy = content.toByteArray();
    return parseAll(CodedInputStream.newInstance(copy), parser);
  }

  /**
   * A transaction that Ratis answers with a StateMachineException (carrying {@code problem})
   * instead of appending it; throwing from startTransaction would not reach the client that way.
   */
  static TransactionContext refused(StateMachine sm, RaftClientRequest request, String logPrefix,
      IOException problem) {
    TransactionContext trx = TransactionContext.newBuilder().setStateMachine(sm).setClientRequest(request).build();
    trx.setException(new IOException(logPrefix + ": refusing the request: " + problem.getMessage(), problem));
    return trx;
  }

  private static <T> T parseAll(CodedInputStream in, Parser<T> parser) throws IOException {
    T message = parser.parseFrom(in);
    // What Message.parseFrom(bytes) checks too: no stray end-group tag stopped the parse early.
    in.checkLastTagWas(0);
    return message;
  }

  /** Receives the content's backing arrays; parses when one array holds it all. */
  private static final class InPlace<T> extends ByteOutput {
    private final int size;
    private final Parser<T> parser;
    T parsed;

    InPlace(int size, Parser<T> parser) {
      this.size = size;
      this.parser = parser;
    }

    @Override
    public void write(byte value) {
      // Part of a multi-chunk content: the caller falls back to a copy.
    }

    @Override
    public void write(byte[] value, int offset, int length) throws IOException {
      writeLazy(value, offset, length);
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) throws IOException {
      if (length == size && parsed == null) {
        CodedInputStream in = CodedInputStream.newInstance(value, offset, length);
        in.enableAliasing(true);
        parsed = parseAll(in, parser);
      }
    }

    @Override
    public void write(ByteBuffer value) throws IOException {
      writeLazy(value);
    }

    @Override
    public void writeLazy(ByteBuffer value) throws IOException {
      if (value.hasArray()) {
        writeLazy(value.array(), value.arrayOffset() + value.position(), value.remaining());
      }
    }
  }
}
