package org.apache.ratis.server.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The follower append ordering that replaces Ratis 3.2.2's, driven directly: a "write" here is a
 * future the test completes, so every interleaving is exact.
 */
class FollowerAppendOrderTest {

  private final FollowerAppendOrder order = FollowerAppendOrder.empty("test");
  /** Entries whose write was started, in the order they were started. */
  private final List<List<TermIndex>> started = new ArrayList<>();
  /** The write started for each entry list, to complete by hand. */
  private final List<CompletableFuture<Void>> writes = new ArrayList<>();
  private final ExecutorService threadA = Executors.newSingleThreadExecutor();
  private final ExecutorService threadB = Executors.newSingleThreadExecutor();

  private final Function<List<LogEntryProto>, CompletableFuture<Void>> write = entries -> {
    synchronized (started) {
      started.add(entries.stream().map(TermIndex::valueOf).toList());
      CompletableFuture<Void> w = new CompletableFuture<>();
      writes.add(w);
      return w;
    }
  };

  @AfterEach
  void stopThreads() {
    threadA.shutdownNow();
    threadB.shutdownNow();
  }

  @Test
  void writesRunOneAfterAnotherInOrder() throws Exception {
    CompletableFuture<Void> first = order.append(entries(1, 2, 3), write);
    CompletableFuture<Void> second = order.append(entries(1, 4, 5), write);
    assertEquals(List.of(tis(1, 2, 3)), startedSoFar(), "the second write waits for the first");
    assertEquals(Long.valueOf(1), order.getTerm(5), "pending entries count for the previous-entry check");
    writes.get(0).complete(null);
    assertEquals(List.of(tis(1, 2, 3), tis(1, 4, 5)), startedSoFar());
    writes.get(1).complete(null);
    first.get(5, TimeUnit.SECONDS);
    second.get(5, TimeUnit.SECONDS);
    assertEquals(0, order.pendingCount());
    assertNull(order.getTerm(5));
  }

  /** Ratis chains each write on the previous one's success: one failure failed every later append. */
  @Test
  void aFailedWriteFailsOnlyItsOwnRequest() throws Exception {
    CompletableFuture<Void> first = order.append(entries(1, 2, 3), write);
    CompletableFuture<Void> second = order.append(entries(1, 4), write);
    writes.get(0).completeExceptionally(new IllegalStateException("gap"));
    assertThrows(ExecutionException.class, () -> first.get(5, TimeUnit.SECONDS));
    assertEquals(2, startedSoFar().size(), "the next write runs after a failed one");
    writes.get(1).complete(null);
    second.get(5, TimeUnit.SECONDS);
    assertEquals(0, order.pendingCount());
  }

  /**
   * Ratis skipped a request whose first index was pending, whatever its term: a new leader's
   * entries were acknowledged while the deposed leader's were written.
   */
  @Test
  void aNewLeadersEntriesAtAPendingIndexAreWrittenAfterTheOldOnes() throws Exception {
    order.append(entries(1, 2, 3, 4), write);
    CompletableFuture<Void> replacing = order.append(entries(2, 2, 3), write);
    assertEquals(List.of(TermIndex.valueOf(2, 2), TermIndex.valueOf(2, 3)), order.pendingEntries(),
        "the old entries from index 2 on are cut by the new write, as the log will be");
    writes.get(0).complete(null);
    assertEquals(List.of(tis(1, 2, 3, 4), tis(2, 2, 3)), startedSoFar(), "both written, the new one last");
    writes.get(1).complete(null);
    replacing.get(5, TimeUnit.SECONDS);
    assertEquals(0, order.pendingCount());
  }

  /** A write that finishes does not remove pending entries a later write brings. */
  @Test
  void finishingAnOldWriteKeepsTheNewerPendingEntries() {
    order.append(entries(1, 2, 3), write);
    order.append(entries(2, 3), write);
    writes.get(0).complete(null);
    assertEquals(List.of(TermIndex.valueOf(2, 3)), order.pendingEntries());
  }

  /**
   * Request A passes the follower's checks, then request B (a later check, relying on nothing of
   * A) is written before A reaches its write: written now, A could overwrite B's entries with a
   * deposed leader's. A is refused (its leader resends); B is written.
   */
  @Test
  void aRequestReachingItsWriteAfterALaterCheckedOneIsRefused() throws Exception {
    on(threadA, () -> order.contains(TermIndex.valueOf(1, 1)));
    on(threadB, () -> order.contains(TermIndex.valueOf(1, 1)));
    CompletableFuture<Void> b = on(threadB, () -> order.append(entries(2, 2), write));
    CompletableFuture<Void> a = on(threadA, () -> order.append(entries(1, 2), write));
    ExecutionException refused = assertThrows(ExecutionException.class, () -> a.get(5, TimeUnit.SECONDS));
    assertTrue(refused.getCause().getMessage().contains("refused"), refused.getCause().getMessage());
    assertEquals(List.of(tis(2, 2)), startedSoFar());
    writes.get(0).complete(null);
    b.get(5, TimeUnit.SECONDS);
  }

  /**
   * Seed 3031: A (term 36) registered its entry 55041, B (term 37, previous entry A's) passed its
   * check on it; Ratis then wrote B before A, failing B and, through the chain, every append
   * after. Here registering is chaining: A, checked and registered first, is written first.
   */
  @Test
  void aRequestRelyingOnAPendingEntryIsWrittenAfterIt() throws Exception {
    on(threadA, () -> order.contains(TermIndex.valueOf(35, 55040)));
    CompletableFuture<Void> a = on(threadA, () -> order.append(entries(36, 55041), write));
    boolean bPasses = on(threadB, () -> order.contains(TermIndex.valueOf(36, 55041)));
    assertTrue(bPasses, "B's previous entry is A's pending one");
    CompletableFuture<Void> b = on(threadB, () -> order.append(entries(37, 55042), write));
    writes.get(0).complete(null);
    writes.get(1).complete(null);
    a.get(5, TimeUnit.SECONDS);
    b.get(5, TimeUnit.SECONDS);
    assertEquals(List.of(tis(36, 55041), tis(37, 55042)), startedSoFar());
  }

  /** A check that did not lead to a write (a heartbeat, a mismatch) leaves nothing that refuses later requests. */
  @Test
  void checksWithoutWritesDoNotRefuseLaterRequests() throws Exception {
    on(threadA, () -> order.contains(TermIndex.valueOf(1, 1)));
    on(threadB, () -> order.contains(TermIndex.valueOf(1, 1)));
    on(threadB, () -> order.contains(TermIndex.valueOf(1, 1)));
    CompletableFuture<Void> b = on(threadB, () -> order.append(entries(1, 2), write));
    on(threadA, () -> order.contains(TermIndex.valueOf(1, 2)));
    CompletableFuture<Void> a = on(threadA, () -> order.append(entries(1, 3), write));
    writes.get(0).complete(null);
    writes.get(1).complete(null);
    b.get(5, TimeUnit.SECONDS);
    a.get(5, TimeUnit.SECONDS);
  }

  /** Taking over from Ratis' own bookkeeping: its pending writes finish first and still count. */
  @Test
  void takesOverFromRatisBookkeepingAfterItsWrites() throws Exception {
    ServerImplUtils.NavigableIndices ratis = new ServerImplUtils.NavigableIndices();
    CompletableFuture<Void> old = ratis.append(entries(1, 2, 3), write);
    FollowerAppendOrder taken = FollowerAppendOrder.replacing("test", ratis);
    awaitStarted(1);
    assertEquals(Long.valueOf(1), taken.getTerm(3), "Ratis' pending entry");
    CompletableFuture<Void> next = taken.append(entries(1, 4), write);
    assertEquals(1, startedSoFar().size(), "waits for Ratis' write");
    writes.get(0).complete(null);
    old.get(5, TimeUnit.SECONDS);
    awaitStarted(2);
    writes.get(1).complete(null);
    next.get(5, TimeUnit.SECONDS);
    assertNull(taken.getTerm(3));
    assertFalse(taken.contains(TermIndex.valueOf(1, 3)), "written entries are the log's to answer for");
  }

  private static <T> T on(ExecutorService thread, Callable<T> call) throws Exception {
    return thread.submit(call).get(5, TimeUnit.SECONDS);
  }

  private List<List<TermIndex>> startedSoFar() {
    synchronized (started) {
      return new ArrayList<>(started);
    }
  }

  /** Ratis' own bookkeeping starts a write on another thread. */
  private void awaitStarted(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (startedSoFar().size() < n) {
      assertTrue(System.nanoTime() < deadline, "write " + n + " did not start");
      Thread.sleep(1);
    }
  }

  private static List<LogEntryProto> entries(long term, long... indices) {
    List<LogEntryProto> out = new ArrayList<>();
    for (long i : indices) {
      out.add(LogEntryProto.newBuilder().setTerm(term).setIndex(i).build());
    }
    return out;
  }

  private static List<TermIndex> tis(long term, long... indices) {
    List<TermIndex> out = new ArrayList<>();
    for (long i : indices) {
      out.add(TermIndex.valueOf(term, i));
    }
    return out;
  }
}
