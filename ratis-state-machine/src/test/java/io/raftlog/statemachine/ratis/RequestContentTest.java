package io.raftlog.statemachine.ratis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.raftlog.log.v1.AppendBatch;
import io.raftlog.log.v1.PartitionCommand;
import java.io.IOException;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class RequestContentTest {

  private static final PartitionCommand COMMAND = PartitionCommand.newBuilder().setAppend(AppendBatch.newBuilder()
      .setRecordBatch(com.google.protobuf.ByteString.copyFromUtf8("batch bytes ".repeat(30))).setProposedAtMs(42))
      .build();

  @Test
  void parsesWhatApplyParses() throws IOException {
    ByteString content = ByteString.copyFrom(COMMAND.toByteArray());
    assertEquals(COMMAND, RequestContent.parse(content, PartitionCommand.parser()));
    // A rope of two chunks (too long to be concatenated by copying) takes the copying path.
    byte[] bytes = COMMAND.toByteArray();
    ByteString rope = ByteString.copyFrom(bytes, 0, 5).concat(ByteString.copyFrom(bytes, 5, bytes.length - 5));
    assertEquals(COMMAND, RequestContent.parse(rope, PartitionCommand.parser()));
    assertEquals(PartitionCommand.getDefaultInstance(), RequestContent.parse(ByteString.EMPTY, PartitionCommand.parser()));
  }

  @Test
  void rejectsWhatApplyCouldNotParse() {
    for (byte[] bad : new byte[][] {{(byte) 0xff, (byte) 0xff}, {0x0a, 0x10, 1}, {0x00}, {0x0c} /* stray end group */}) {
      assertThrows(IOException.class, () -> RequestContent.parse(ByteString.copyFrom(bad), PartitionCommand.parser()));
      assertThrows(IOException.class, () -> PartitionCommand.parseFrom(bad), "apply would fail on it too");
    }
  }
}
