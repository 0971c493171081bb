package io.raftlog.broker.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.raftlog.api.v1.ErrorCode;
import io.raftlog.broker.BrokerException;
import io.raftlog.statemachine.ratis.ReplicaRepairingException;
import java.io.IOException;
import java.util.UUID;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.junit.jupiter.api.Test;

class RaftErrorsTest {

  private static final RaftGroupMemberId MEMBER = RaftGroupMemberId.valueOf(RaftPeerId.valueOf("2"),
      RaftGroupId.valueOf(UUID.nameUUIDFromBytes("t-0".getBytes())));

  private static RaftClientReply refusedBy(Throwable cause) {
    return RaftClientReply.newBuilder().setClientId(ClientId.randomId()).setServerId(MEMBER).setCallId(7)
        .setException(new StateMachineException(MEMBER, cause)).build();
  }

  @Test
  void aWriteRefusedByARepairingReplicaIsRetriable() {
    RaftClientReply reply = refusedBy(new ReplicaRepairingException("repairing"));
    assertEquals(ErrorCode.LEADER_NOT_AVAILABLE, RaftErrors.fromReply(reply, "produce").code());
  }

  @Test
  void theRefusalStaysRetriableAcrossTheNetwork() {
    // What a remote broker's Ratis client rebuilds from the reply (the cause, by class name).
    RaftClientReply received = ClientProtoUtils.toRaftClientReply(
        ClientProtoUtils.toRaftClientReplyProto(refusedBy(new ReplicaRepairingException("repairing"))));
    assertInstanceOf(ReplicaRepairingException.class, received.getException().getCause());
    BrokerException e = RaftErrors.fromReply(received, "produce");
    assertEquals(ErrorCode.LEADER_NOT_AVAILABLE, e.code(), e.getMessage());
  }

  @Test
  void otherStateMachineFailuresAreNot() {
    RaftClientReply reply = refusedBy(new IOException("bad"));
    assertEquals(ErrorCode.UNKNOWN_SERVER_ERROR, RaftErrors.fromReply(reply, "produce").code());
  }
}
