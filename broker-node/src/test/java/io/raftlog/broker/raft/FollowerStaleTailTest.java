package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.testkit.FreePorts;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.statemachine.ratis.MetadataStateMachine;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftGroupIdProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.proto.RaftProtos.TermIndexProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deposed leader rejoins as a follower with a tail of entries it appended but that were never
 * committed; the new leader's entries at the same indices must replace them before anything there
 * is applied. This is the Raft rule our fault suite saw broken once (scenario 3, seed 303): with
 * Ratis 3.2.2's default "append-entries compose", a follower checks a heartbeat's previous entry
 * against an append it has accepted but not yet written, then moves its commit index over the
 * entries its log still holds from the old leader, and applies those.
 *
 * <p>The scenario runs against one real Ratis server (peer A of a 3-peer group whose other peers
 * never start), driven by hand-made AppendEntries from two leaders B (term 1) and C (term 2), so
 * the interleaving is exact. To make "accepted but not yet written" last, the test holds the
 * follower's append chain with a gate; that chain only exists with compose on.
 */
class FollowerStaleTailTest {

  private static final RaftPeerId A = RaftPeerId.valueOf("a");
  private static final RaftPeerId B = RaftPeerId.valueOf("b");
  private static final RaftPeerId C = RaftPeerId.valueOf("c");
  private static final RaftGroupId GROUP = RaftGroupId.valueOf(java.util.UUID.fromString("5a1e7a11-0000-4000-8000-000000000001"));

  @TempDir
  Path dir;

  /** With the broker's Ratis properties the stale tail is replaced before it could be applied. */
  @Test
  void brokerPropertiesNeverApplyADeposedLeadersUncommittedTail() throws Exception {
    Recorder sm = new Recorder();
    RaftProperties p = RaftHost.properties(config());
    assertFalse(RaftServerConfigKeys.Log.appendEntriesComposeEnabled(p), "compose must stay off (see RaftHost)");
    runScenario(p, sm);
    Wait.until("entries up to 3 applied", Duration.ofSeconds(20), () -> sm.appliedIndex() >= 3);
    assertEquals(List.of("x0", "x1", "new2", "new3"), sm.applied);
  }

  /**
   * The same scenario with compose on (Ratis' default) reproduces the defect: the entries only the
   * deposed leader had are applied. Should a Ratis upgrade fix it, this test fails: then compose
   * may be turned back on.
   */
  @Test
  void composeAppliesTheStaleTailWhenTheAppendIsStillPending() throws Exception {
    Recorder sm = new Recorder();
    RaftProperties p = RaftHost.properties(config());
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, true);
    runScenario(p, sm);
    Wait.until("entries up to 3 applied", Duration.ofSeconds(20), () -> sm.appliedIndex() >= 3);
    assertEquals(List.of("x0", "x1", "stale2", "stale3"), sm.applied);
  }

  /** Should it happen anyway, our state machines notice the cut below what they applied and stop. */
  @Test
  void aStateMachineThatAppliedTheStaleTailStopsWhenTheLogIsCut() throws Exception {
    List<Throwable> fatal = new CopyOnWriteArrayList<>();
    MetadataStateMachine sm = new MetadataStateMachine("test metadata", 0, fatal::add);
    RaftProperties p = RaftHost.properties(config());
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, true);
    runScenario(p, sm);
    Wait.until("the divergence reported", Duration.ofSeconds(20), () -> !fatal.isEmpty());
    assertTrue(fatal.get(0) instanceof IllegalStateException, fatal.toString());
    assertTrue(fatal.get(0).getMessage().contains("never committed"), fatal.get(0).getMessage());
  }

  /**
   * B (term 1) gives A entries 0..3 and commits 0..1. C (term 2, elected without A) has other
   * entries at 2..3 and has committed them; it sends them to A (held pending when a gate is
   * possible), then a heartbeat whose previous entry is its (2, 3) with commit index 3.
   */
  private void runScenario(RaftProperties p, StateMachine sm) throws Exception {
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.resolve("raft").toFile()));
    RaftGroup group = RaftGroup.valueOf(GROUP,
        RaftPeer.newBuilder().setId(A).setAddress("127.0.0.1:" + freePort()).build(),
        RaftPeer.newBuilder().setId(B).setAddress("127.0.0.1:" + freePort()).build(),
        RaftPeer.newBuilder().setId(C).setAddress("127.0.0.1:" + freePort()).build());
    org.apache.ratis.grpc.GrpcConfigKeys.Server.setPort(p, freePort());
    boolean metadata = sm instanceof MetadataStateMachine;
    try (RaftServer server = RaftServer.newBuilder().setServerId(A).setGroup(group).setStateMachine(sm)
        .setProperties(p).build()) {
      server.start();
      long call = 0;
      AppendEntriesReplyProto first = server.appendEntriesAsync(request(B, ++call, 1, null, 1,
          entry(1, 0, "x0", metadata), entry(1, 1, "x1", metadata),
          entry(1, 2, "stale2", metadata), entry(1, 3, "stale3", metadata))).get(20, TimeUnit.SECONDS);
      assertEquals(AppendResult.SUCCESS, first.getResult(), first.toString());
      Wait.until("B's entries 0..1 applied", Duration.ofSeconds(20),
          () -> sm.getLastAppliedTermIndex() != null && sm.getLastAppliedTermIndex().getIndex() >= 1);

      CompletableFuture<Void> gate = holdAppends(server);
      CompletableFuture<AppendEntriesReplyProto> replace = server.appendEntriesAsync(request(C, ++call, 2,
          TermIndex.valueOf(1, 1), 1, entry(2, 2, "new2", metadata), entry(2, 3, "new3", metadata)));
      // Without a gate the replace may already be written (heartbeat succeeds) or not (the
      // heartbeat is refused as inconsistent); either is correct Raft.
      server.appendEntriesAsync(request(C, ++call, 2, TermIndex.valueOf(2, 3), 3)).get(20, TimeUnit.SECONDS);
      if (gate != null) {
        // What a loaded machine does by chance: the pending append runs only after the heartbeat.
        Wait.until("the heartbeat's commit index applied", Duration.ofSeconds(20),
            () -> sm.getLastAppliedTermIndex() != null && sm.getLastAppliedTermIndex().getIndex() >= 3);
        gate.complete(null);
      }
      assertEquals(AppendResult.SUCCESS, replace.get(20, TimeUnit.SECONDS).getResult());
      // C repeats its heartbeat until A takes it, as a leader does.
      long c = call;
      Wait.until("C's heartbeat accepted", Duration.ofSeconds(20), () -> {
        try {
          return server.appendEntriesAsync(request(C, c + 1, 2, TermIndex.valueOf(2, 3), 3))
              .get(20, TimeUnit.SECONDS).getResult() == AppendResult.SUCCESS;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Wait.until("entries up to 3 applied", Duration.ofSeconds(20),
          () -> sm.getLastAppliedTermIndex() != null && sm.getLastAppliedTermIndex().getIndex() >= 3);
    }
  }

  /**
   * Holds the follower's appends behind an incomplete future at the head of its append chain;
   * null when the server has no such chain (compose off).
   */
  @SuppressWarnings("unchecked")
  private static CompletableFuture<Void> holdAppends(RaftServer server) throws Exception {
    Object division = server.getDivision(GROUP);
    Field indicesField = division.getClass().getDeclaredField("appendLogTermIndices");
    indicesField.setAccessible(true);
    Object indices = indicesField.get(division);
    if (indices == null) {
      return null;
    }
    Field futureField = indices.getClass().getDeclaredField("future");
    futureField.setAccessible(true);
    AtomicReference<CompletableFuture<Void>> head = (AtomicReference<CompletableFuture<Void>>) futureField.get(indices);
    assertNotNull(head);
    CompletableFuture<Void> gate = new CompletableFuture<>();
    head.set(gate);
    return gate;
  }

  private static AppendEntriesRequestProto request(RaftPeerId leader, long callId, long term, TermIndex previous,
      long leaderCommit, LogEntryProto... entries) {
    AppendEntriesRequestProto.Builder b = AppendEntriesRequestProto.newBuilder()
        .setServerRequest(RaftRpcRequestProto.newBuilder()
            .setRequestorId(leader.toByteString())
            .setReplyId(A.toByteString())
            .setRaftGroupId(RaftGroupIdProto.newBuilder().setId(GROUP.toByteString()))
            .setCallId(callId))
        .setLeaderTerm(term)
        .setLeaderCommit(leaderCommit)
        .setInitializing(false);
    if (previous != null) {
      b.setPreviousLog(TermIndexProto.newBuilder().setTerm(previous.getTerm()).setIndex(previous.getIndex()));
    }
    for (LogEntryProto e : entries) {
      b.addEntries(e);
    }
    return b.build();
  }

  /** Metadata entries are empty commands (applied as invalid, which is enough here). */
  private static LogEntryProto entry(long term, long index, String data, boolean metadata) {
    return LogEntryProto.newBuilder().setTerm(term).setIndex(index)
        .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder()
            .setLogData(metadata ? ByteString.EMPTY : ByteString.copyFromUtf8(data))
            .setClientId(ClientId.randomId().toByteString())
            .setCallId(index))
        .build();
  }

  private BrokerConfig config() throws IOException {
    Map<String, String> raw = new LinkedHashMap<>();
    raw.put(BrokerConfig.BROKER_ID, "1");
    raw.put(BrokerConfig.PORT, Integer.toString(freePort()));
    raw.put(BrokerConfig.RAFT_PORT, Integer.toString(freePort()));
    raw.put(BrokerConfig.DATA_DIR, dir.toString());
    raw.put(BrokerConfig.METADATA_VOTERS, "1@127.0.0.1:" + freePort());
    // A must not start elections of its own meanwhile (B and C never answer anyway).
    raw.put(BrokerConfig.ELECTION_TIMEOUT_MIN_MS, "30000");
    raw.put(BrokerConfig.ELECTION_TIMEOUT_MAX_MS, "31000");
    return BrokerConfig.parse(raw);
  }

  private static int freePort() {
    return FreePorts.next();
  }

  /** Records the data of each applied entry, in order. */
  private static final class Recorder extends BaseStateMachine {
    final List<String> applied = new CopyOnWriteArrayList<>();

    long appliedIndex() {
      TermIndex t = getLastAppliedTermIndex();
      return t == null ? -1 : t.getIndex();
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      LogEntryProto e = trx.getLogEntry();
      applied.add(e.getStateMachineLogEntry().getLogData().toStringUtf8());
      updateLastAppliedTermIndex(e.getTerm(), e.getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
  }
}
