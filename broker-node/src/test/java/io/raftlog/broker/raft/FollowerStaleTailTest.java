package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.testkit.FreePorts;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.RegisterBroker;
import io.raftlog.statemachine.ratis.MetadataStateMachine;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto.AppendResult;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
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
import org.apache.ratis.server.impl.FollowerAppendOrder;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deposed leader rejoins as a follower with a tail of entries it appended but that were never
 * committed; the new leader's entries at the same indices must be the ones applied. This is the
 * Raft rule our fault suite saw broken once (scenario 3, seed 303): with Ratis 3.2.2's default
 * "append-entries compose", a follower checks a heartbeat's previous entry against an append it
 * has accepted but not yet written, then moves its commit index over the entries its log still
 * holds from the old leader, and hands those to the state machine. Our state machines guard
 * against it ({@code CommittedEntryGuard}).
 *
 * <p>The scenario runs against one real Ratis server with the broker's Ratis properties (peer A
 * of a 3-peer group whose other peers never start), driven by hand-made AppendEntries from two
 * leaders B (term 1) and C (term 2), so the interleaving is exact. To make "accepted but not yet
 * written" last, the test holds the follower's append chain with a gate (reflection into Ratis'
 * compose state; what a loaded machine does by chance).
 */
class FollowerStaleTailTest {

  private static final RaftPeerId A = RaftPeerId.valueOf("a");
  private static final RaftPeerId B = RaftPeerId.valueOf("b");
  private static final RaftPeerId C = RaftPeerId.valueOf("c");
  private static final RaftGroupId GROUP = RaftGroupId.valueOf(java.util.UUID.fromString("5a1e7a11-0000-4000-8000-000000000001"));
  /** Entry names, and the broker each registers in the metadata variant. */
  private static final Map<String, Integer> BROKER_OF = Map.of("x0", 1, "x1", 2, "stale2", 98, "stale3", 99,
      "new2", 7, "new3", 8, "old2", 5, "old3", 6);

  @TempDir
  Path dir;

  /**
   * Ratis itself hands the stale entries over (a plain state machine applies them). Should a Ratis
   * upgrade fix this, the test fails: then the guard may go.
   */
  @Test
  void ratisHandsADeposedLeadersUncommittedEntriesToTheStateMachine() throws Exception {
    Recorder sm = new Recorder();
    runScenario(sm, ByteString::copyFromUtf8, server -> Wait.until("the stale entries applied",
        Duration.ofSeconds(20), () -> sm.appliedIndex() >= 3));
    assertEquals(List.of("x0", "x1", "stale2", "stale3"), sm.applied);
  }

  /** Our state machines apply the new leader's entries at those indices instead. */
  @Test
  void ourStateMachinesApplyTheCommittedEntriesInstead() throws Exception {
    List<Throwable> fatal = new CopyOnWriteArrayList<>();
    MetadataStateMachine sm = new MetadataStateMachine("test metadata", 0, fatal::add);
    runScenario(sm, FollowerStaleTailTest::registerBroker, server -> {
      Wait.until("commit index 3 while the stale entries are in the log", Duration.ofSeconds(20),
          () -> division(server).getRaftLog().getLastCommittedIndex() >= 3);
      Wait.until("the apply of a stale entry held by the guard", Duration.ofSeconds(20),
          FollowerStaleTailTest::applyHeldByGuard);
    });
    Wait.until("entries up to 3 applied", Duration.ofSeconds(20),
        () -> sm.getLastAppliedTermIndex() != null && sm.getLastAppliedTermIndex().getIndex() >= 3);
    assertEquals(Set.of(1, 2, 7, 8), sm.image().getBrokersList().stream()
        .map(b -> b.getBrokerId()).collect(Collectors.toSet()));
    assertEquals(TermIndex.valueOf(2, 3), sm.getLastAppliedTermIndex());
    assertTrue(fatal.isEmpty(), fatal.toString());
  }

  /**
   * Where the deposed leader had a batch, the group committed the new leader's configuration entry:
   * the batch is not applied, and the batch after it is.
   */
  @Test
  void aStaleEntryReplacedByAConfigurationEntryIsNotApplied() throws Exception {
    List<Throwable> fatal = new CopyOnWriteArrayList<>();
    MetadataStateMachine sm = new MetadataStateMachine("test metadata", 0, fatal::add);
    runScenario(sm, FollowerStaleTailTest::registerBroker, true, server -> {
      Wait.until("commit index 3 while the stale entries are in the log", Duration.ofSeconds(20),
          () -> division(server).getRaftLog().getLastCommittedIndex() >= 3);
      Wait.until("the apply of a stale entry held by the guard", Duration.ofSeconds(20),
          FollowerStaleTailTest::applyHeldByGuard);
    });
    assertEquals(Set.of(1, 2, 8), sm.image().getBrokersList().stream()
        .map(b -> b.getBrokerId()).collect(Collectors.toSet()));
    assertEquals(TermIndex.valueOf(2, 3), sm.getLastAppliedTermIndex());
    assertTrue(fatal.isEmpty(), fatal.toString());
  }

  /**
   * The guard holds nothing back in the usual case: a follower catching up on entries of an older
   * term from the current leader applies them as they commit, before any entry of the leader's own
   * term arrives (a lagging follower must not buffer its whole catch-up in Ratis' log cache).
   */
  @Test
  void olderTermEntriesFromTheCurrentLeaderApplyAtOnce() throws Exception {
    List<Throwable> fatal = new CopyOnWriteArrayList<>();
    MetadataStateMachine sm = new MetadataStateMachine("test metadata", 0, fatal::add);
    Function<String, ByteString> data = FollowerStaleTailTest::registerBroker;
    try (RaftServer server = startServer(sm)) {
      AppendEntriesReplyProto first = server.appendEntriesAsync(request(B, 1, 1, null, 1,
          entry(1, 0, "x0", data), entry(1, 1, "x1", data))).get(20, TimeUnit.SECONDS);
      assertEquals(AppendResult.SUCCESS, first.getResult(), first.toString());
      // C, leader of term 2, replicates term-1 entries of its own log and commits them.
      AppendEntriesReplyProto catchUp = server.appendEntriesAsync(request(C, 2, 2, TermIndex.valueOf(1, 1), 3,
          entry(1, 2, "old2", data), entry(1, 3, "old3", data))).get(20, TimeUnit.SECONDS);
      assertEquals(AppendResult.SUCCESS, catchUp.getResult(), catchUp.toString());
      Wait.until("entries up to 3 applied", Duration.ofSeconds(20),
          () -> sm.getLastAppliedTermIndex() != null && sm.getLastAppliedTermIndex().getIndex() >= 3);
      assertEquals(Set.of(1, 2, 5, 6), sm.image().getBrokersList().stream()
          .map(b -> b.getBrokerId()).collect(Collectors.toSet()));
      assertTrue(fatal.isEmpty(), fatal.toString());
    }
  }

  /** A Raft log cut at or below what a state machine applied means divergence: the replica stops. */
  @Test
  void aLogCutBelowTheAppliedIndexIsFatal() throws Exception {
    List<Throwable> fatal = new CopyOnWriteArrayList<>();
    MetadataStateMachine sm = new MetadataStateMachine("test metadata", 0, fatal::add);
    try (RaftServer server = startServer(sm)) {
      AppendEntriesReplyProto first = server.appendEntriesAsync(request(B, 1, 1, null, 1,
          entry(1, 0, "x0", FollowerStaleTailTest::registerBroker), entry(1, 1, "x1", FollowerStaleTailTest::registerBroker),
          entry(1, 2, "stale2", FollowerStaleTailTest::registerBroker))).get(20, TimeUnit.SECONDS);
      assertEquals(AppendResult.SUCCESS, first.getResult(), first.toString());
      Wait.until("entries 0..1 applied", Duration.ofSeconds(20),
          () -> sm.getLastAppliedTermIndex() != null && sm.getLastAppliedTermIndex().getIndex() >= 1);
      sm.truncate(2).get(); // an uncommitted entry: fine
      assertTrue(fatal.isEmpty(), fatal.toString());
      sm.truncate(1).get();
      assertEquals(1, fatal.size(), fatal.toString());
      assertTrue(fatal.get(0) instanceof IllegalStateException, fatal.toString());
      assertTrue(fatal.get(0).getMessage().contains("never committed"), fatal.get(0).getMessage());
    }
  }

  /**
   * Ratis 3.2.2 skips an AppendEntries whose first index is pending from another request, whatever
   * the terms: here the new leader C (term 2) is told its entries 2..3 were appended while A's log
   * gets the deposed leader B's entry 2 and no entry 3. (C could count A for a commit A does not
   * hold.) Should a Ratis upgrade fix this, the test fails: then FollowerAppendOrder may go.
   */
  @Test
  void ratisSkipsANewLeadersEntriesWhoseFirstIndexIsPending() throws Exception {
    RaftServer.Division d = newLeaderAtAPendingIndex(new Recorder());
    assertEquals(TermIndex.valueOf(1, 2), d.getRaftLog().getTermIndex(2));
    assertEquals(null, d.getRaftLog().getTermIndex(3));
  }

  /** With our state machines (they install FollowerAppendOrder), the new leader's entries are written. */
  @Test
  void withOurAppendOrderTheNewLeadersEntriesAreWritten() throws Exception {
    List<Throwable> fatal = new CopyOnWriteArrayList<>();
    MetadataStateMachine sm = new MetadataStateMachine("test metadata", 0, fatal::add);
    RaftServer.Division d = newLeaderAtAPendingIndex(sm);
    assertEquals(TermIndex.valueOf(2, 2), d.getRaftLog().getTermIndex(2));
    assertEquals(TermIndex.valueOf(2, 3), d.getRaftLog().getTermIndex(3));
    assertTrue(fatal.isEmpty(), fatal.toString());
  }

  /**
   * B (term 1) gives A entries 0..1, then entry 2 (held pending by the gate); C (term 2) sends its
   * entries 2..3 after the same previous entry. Both replies are successes.
   *
   * @return A's division after both appends, while its server still runs
   */
  private RaftServer.Division newLeaderAtAPendingIndex(StateMachine sm) throws Exception {
    Function<String, ByteString> data = FollowerStaleTailTest::registerBroker;
    RaftServer server = startServer(sm);
    servers.add(server);
    AppendEntriesReplyProto first = server.appendEntriesAsync(request(B, 1, 1, null, 1,
        entry(1, 0, "x0", data), entry(1, 1, "x1", data))).get(20, TimeUnit.SECONDS);
    assertEquals(AppendResult.SUCCESS, first.getResult(), first.toString());
    CompletableFuture<Void> gate = holdAppends(server);
    CompletableFuture<AppendEntriesReplyProto> old = server.appendEntriesAsync(request(B, 2, 1,
        TermIndex.valueOf(1, 1), 1, entry(1, 2, "stale2", data)));
    CompletableFuture<AppendEntriesReplyProto> replacing = server.appendEntriesAsync(request(C, 3, 2,
        TermIndex.valueOf(1, 1), 1, entry(2, 2, "new2", data), entry(2, 3, "new3", data)));
    gate.complete(null);
    assertEquals(AppendResult.SUCCESS, old.get(20, TimeUnit.SECONDS).getResult());
    AppendEntriesReplyProto reply = replacing.get(20, TimeUnit.SECONDS);
    assertEquals(AppendResult.SUCCESS, reply.getResult(), reply.toString());
    assertEquals(3, reply.getMatchIndex(), "C is told A holds its entries up to 3");
    RaftServer.Division d = division(server);
    Wait.until("the log flushed up to its end", Duration.ofSeconds(20),
        () -> d.getRaftLog().getFlushIndex() >= d.getRaftLog().getLastEntryTermIndex().getIndex());
    return d;
  }

  private final List<RaftServer> servers = new CopyOnWriteArrayList<>();

  @org.junit.jupiter.api.AfterEach
  void closeServers() throws IOException {
    for (RaftServer s : servers) {
      s.close();
    }
  }

  /**
   * B (term 1) gives A entries 0..3 and commits 0..1. C (term 2, elected without A) has other
   * entries at 2..3 and has committed them; it sends them to A (held pending by the gate), then a
   * heartbeat whose previous entry is its (2, 3) with commit index 3. {@code whileHeld} runs
   * before the gate opens.
   */
  private void runScenario(StateMachine sm, Function<String, ByteString> data, Consumer<RaftServer> whileHeld)
      throws Exception {
    runScenario(sm, data, false, whileHeld);
  }

  /** @param configurationAt2 C's entry at index 2 is a configuration entry (a new leader's first) */
  private void runScenario(StateMachine sm, Function<String, ByteString> data, boolean configurationAt2,
      Consumer<RaftServer> whileHeld) throws Exception {
    try (RaftServer server = startServer(sm)) {
      long call = 0;
      AppendEntriesReplyProto first = server.appendEntriesAsync(request(B, ++call, 1, null, 1,
          entry(1, 0, "x0", data), entry(1, 1, "x1", data),
          entry(1, 2, "stale2", data), entry(1, 3, "stale3", data))).get(20, TimeUnit.SECONDS);
      assertEquals(AppendResult.SUCCESS, first.getResult(), first.toString());
      Wait.until("B's entries 0..1 applied", Duration.ofSeconds(20),
          () -> sm.getLastAppliedTermIndex() != null && sm.getLastAppliedTermIndex().getIndex() >= 1);

      CompletableFuture<Void> gate = holdAppends(server);
      LogEntryProto at2 = configurationAt2 ? configuration(2, 2) : entry(2, 2, "new2", data);
      CompletableFuture<AppendEntriesReplyProto> replace = server.appendEntriesAsync(request(C, ++call, 2,
          TermIndex.valueOf(1, 1), 1, at2, entry(2, 3, "new3", data)));
      AppendEntriesReplyProto heartbeat = server.appendEntriesAsync(request(C, ++call, 2, TermIndex.valueOf(2, 3), 3))
          .get(20, TimeUnit.SECONDS);
      assertEquals(AppendResult.SUCCESS, heartbeat.getResult(), "the heartbeat passes on the pending append");
      whileHeld.accept(server);
      gate.complete(null);
      assertEquals(AppendResult.SUCCESS, replace.get(20, TimeUnit.SECONDS).getResult());
      Wait.until("entries up to 3 applied", Duration.ofSeconds(20),
          () -> sm.getLastAppliedTermIndex() != null && sm.getLastAppliedTermIndex().getIndex() >= 3);
    }
  }

  private RaftGroup group;

  private RaftServer startServer(StateMachine sm) throws Exception {
    RaftProperties p = RaftHost.properties(config());
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.resolve("raft").toFile()));
    group = RaftGroup.valueOf(GROUP,
        RaftPeer.newBuilder().setId(A).setAddress("127.0.0.1:" + freePort()).build(),
        RaftPeer.newBuilder().setId(B).setAddress("127.0.0.1:" + freePort()).build(),
        RaftPeer.newBuilder().setId(C).setAddress("127.0.0.1:" + freePort()).build());
    org.apache.ratis.grpc.GrpcConfigKeys.Server.setPort(p, freePort());
    RaftServer server = RaftServer.newBuilder().setServerId(A).setGroup(group).setStateMachine(sm)
        .setProperties(p).build();
    server.start();
    return server;
  }

  private static RaftServer.Division division(RaftServer server) {
    try {
      return server.getDivision(GROUP);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** True while Ratis' apply thread of A waits in the guard. */
  private static boolean applyHeldByGuard() {
    for (Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
      if (t.getKey().getName().startsWith("a@") && t.getKey().getName().endsWith("StateMachineUpdater")) {
        for (StackTraceElement frame : t.getValue()) {
          if (frame.getClassName().endsWith("CommittedEntryGuard")) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static ByteString registerBroker(String name) {
    return ByteString.copyFrom(MetadataCommand.newBuilder().setRegisterBroker(RegisterBroker.newBuilder()
        .setBrokerId(BROKER_OF.get(name)).setHost("127.0.0.1").setPort(1).setRaftPort(2)).build().toByteArray());
  }

  /**
   * Holds the follower's appends behind an incomplete future at the head of its append chain
   * (Ratis' own bookkeeping, or ours once a state machine of ours installed it).
   */
  @SuppressWarnings("unchecked")
  private static CompletableFuture<Void> holdAppends(RaftServer server) throws Exception {
    Object indices = appendBookkeeping(server);
    CompletableFuture<Void> gate = new CompletableFuture<>();
    if (indices instanceof FollowerAppendOrder) {
      Field tail = FollowerAppendOrder.class.getDeclaredField("tail");
      tail.setAccessible(true);
      tail.set(indices, gate);
      return gate;
    }
    Field futureField = indices.getClass().getDeclaredField("future");
    futureField.setAccessible(true);
    AtomicReference<CompletableFuture<Void>> head = (AtomicReference<CompletableFuture<Void>>) futureField.get(indices);
    assertNotNull(head);
    head.set(gate);
    return gate;
  }

  private static Object appendBookkeeping(RaftServer server) throws Exception {
    Object division = server.getDivision(GROUP);
    Field indicesField = division.getClass().getDeclaredField("appendLogTermIndices");
    indicesField.setAccessible(true);
    Object indices = indicesField.get(division);
    assertNotNull(indices, "no append chain: is append-entries compose off? Then this scenario needs another gate");
    return indices;
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

  /** A configuration entry with the group's peers (what a new leader writes first). */
  private LogEntryProto configuration(long term, long index) {
    RaftConfigurationProto.Builder conf = RaftConfigurationProto.newBuilder();
    group.getPeers().forEach(peer -> conf.addPeers(peer.getRaftPeerProto()));
    return LogEntryProto.newBuilder().setTerm(term).setIndex(index).setConfigurationEntry(conf).build();
  }

  private static LogEntryProto entry(long term, long index, String name, Function<String, ByteString> data) {
    return LogEntryProto.newBuilder().setTerm(term).setIndex(index)
        .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder()
            .setLogData(data.apply(name))
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
