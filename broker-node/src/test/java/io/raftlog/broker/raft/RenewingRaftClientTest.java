package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker's client reaches a peer before that peer has added the group (brokers starting at the
 * same time): the group mismatch makes Ratis close the client's ordered window for good. A plain
 * client then fails every later request; the renewing client recovers with the next request.
 */
class RenewingRaftClientTest {

  private static final RaftGroupId GROUP = RaftGroupId.valueOf(UUID.fromString("2e9e7a11-0000-4000-8000-000000000002"));

  @TempDir
  Path dir;

  @Test
  void aGroupMismatchBreaksAPlainClientButNotARenewingOne() throws Exception {
    BrokerConfig config = config();
    try (RaftHost host = new RaftHost(config, gid -> new Echo())) {
      host.start();
      RaftGroup group = RaftGroup.valueOf(GROUP, RaftPeer.newBuilder().setId(GroupIds.peerId(config.brokerId))
          .setAddress("127.0.0.1:" + config.raftPort).build());
      try (RaftClient plain = RaftClients.create(group, 1 << 20);
          RenewingRaftClient renewing = new RenewingRaftClient("test client", () -> RaftClients.create(group, 1 << 20))) {
        // The peer does not host the group yet.
        assertTrue(RenewingRaftClient.breaksClient(failureOf(plain.async().send(Message.valueOf("a")))));
        assertTrue(RenewingRaftClient.breaksClient(failureOf(renewing.send(Message.valueOf("a")))));

        host.addGroup(group);
        // The plain client's window stays closed even though the group is there now.
        Throwable stillBroken = failureOf(plain.async().send(Message.valueOf("b")));
        assertTrue(hasCause(stillBroken, AlreadyClosedException.class), stillBroken.toString());

        RaftClientReply reply = renewing.send(Message.valueOf("b")).get(30, TimeUnit.SECONDS);
        assertTrue(reply.isSuccess(), reply.toString());
        assertEquals("b", reply.getMessage().getContent().toStringUtf8());
      }
    }
  }

  @Test
  void onlyFailuresThatCloseTheWindowCountAsBreaking() {
    assertTrue(RenewingRaftClient.breaksClient(new java.util.concurrent.CompletionException(
        new GroupMismatchException("group not found"))));
    assertTrue(RenewingRaftClient.breaksClient(new AlreadyClosedException("closed")));
    assertTrue(RenewingRaftClient.breaksClient(new RaftRetryFailureException(null, 15, null,
        new IOException("no leader"))));
    assertFalse(RenewingRaftClient.breaksClient(new NotLeaderException(null, null, java.util.List.of())));
    assertFalse(RenewingRaftClient.breaksClient(new java.util.concurrent.TimeoutException()));
  }

  @Test
  void aClosedRenewingClientRefusesRequests() throws Exception {
    BrokerConfig config = config();
    RaftGroup group = RaftGroup.valueOf(GROUP, RaftPeer.newBuilder().setId(GroupIds.peerId(config.brokerId))
        .setAddress("127.0.0.1:" + config.raftPort).build());
    RenewingRaftClient client = new RenewingRaftClient("test client", () -> RaftClients.create(group, 1 << 20));
    client.close();
    assertThrows(ExecutionException.class, () -> client.send(Message.valueOf("x")).get(5, TimeUnit.SECONDS));
  }

  private static Throwable failureOf(CompletableFuture<RaftClientReply> f) throws Exception {
    try {
      RaftClientReply r = f.get(60, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + r);
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  private BrokerConfig config() throws IOException {
    Map<String, String> raw = new LinkedHashMap<>();
    raw.put(BrokerConfig.BROKER_ID, "1");
    raw.put(BrokerConfig.PORT, Integer.toString(freePort()));
    int raftPort = freePort();
    raw.put(BrokerConfig.RAFT_PORT, Integer.toString(raftPort));
    raw.put(BrokerConfig.DATA_DIR, dir.toString());
    raw.put(BrokerConfig.METADATA_VOTERS, "1@127.0.0.1:" + raftPort);
    return BrokerConfig.parse(raw);
  }

  private static int freePort() {
    return FreePorts.next();
  }

  /** Answers each write with its own content. */
  private static final class Echo extends BaseStateMachine {
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      var entry = trx.getLogEntry();
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      return CompletableFuture.completedFuture(Message.valueOf(entry.getStateMachineLogEntry().getLogData()));
    }
  }
}
