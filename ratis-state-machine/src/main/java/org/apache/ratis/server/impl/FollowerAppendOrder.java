package org.apache.ratis.server.impl;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raftlog's replacement for the bookkeeping with which a Ratis 3.2.2 follower orders its log
 * appends ({@code ServerImplUtils.NavigableIndices}, used when "append-entries compose" is on, the
 * default). It lives in Ratis' package because the class it replaces is package-private; it is
 * installed into each division by {@link #install} (reflection: Ratis has no hook for it).
 *
 * <p>Why. A follower checks an AppendEntries (leader term, previous entry) under its server lock,
 * then, outside the lock, registers the request's entries as pending and chains their write after
 * the writes before. Ratis' version has three defects, each seen or reasoned from its bytecode:
 * <ol>
 *   <li>Registering and chaining are two steps, so a request that registered first can be chained
 *       second. A later request whose check relied on the first one's pending entries is then
 *       written before them and fails ("Difference between entry index and RaftLog's last index
 *       ... is greater than 1"). Our fault suite saw it (pause mix, seed 3031).</li>
 *   <li>That one failure then fails every later append for good, because each write is chained
 *       on the previous one's success: the replica stopped taking entries until its broker was
 *       restarted.</li>
 *   <li>A request whose first index is already pending is skipped as a duplicate even when its
 *       entries have another term (a new leader replacing a deposed one's entries). Its leader is
 *       told the entries were appended while the log gets the deposed leader's: a leader could
 *       count this replica for a commit it does not hold.</li>
 * </ol>
 * Here, registering and chaining are one step; every request is written (the Raft log skips
 * entries it already holds with the same term, and replaces conflicting ones); a failed write
 * fails only its own request; and a request is written in the order its check passed the server
 * lock. The last needs the lock order, which Ratis does not expose: {@link #contains} is called
 * under that lock (with the request's previous entry) by the same thread that calls
 * {@link #append} next, so it hands out numbered tickets. A request whose check passed before a
 * request already written is refused (its leader resends): written late it could overwrite a newer
 * leader's entries with a deposed leader's.
 */
public final class FollowerAppendOrder extends ServerImplUtils.NavigableIndices {

  private static final Logger LOG = LoggerFactory.getLogger(FollowerAppendOrder.class);

  /** Place of a checked request in the server lock's order, valid for the next append on its thread. */
  private record Ticket(FollowerAppendOrder owner, long order, long previousIndex) {
  }

  private static final ThreadLocal<Ticket> TICKET = new ThreadLocal<>();

  /** An entry accepted but not yet written, and the write that brings it. */
  private record Pending(long term, CompletableFuture<Void> write) {
  }

  private final String name;
  /** Accepted, unwritten entries by index, as the log will hold them once the chain is written. */
  private final TreeMap<Long, Pending> pending = new TreeMap<>();
  /** Ratis' bookkeeping this one replaced, asked while its writes are still running; then null. */
  private ServerImplUtils.NavigableIndices predecessor;
  private CompletableFuture<Void> predecessorDone;
  /** The last write in the chain (its outcome does not matter to the next one). */
  private CompletableFuture<Void> tail;
  private long lockOrder;
  private long lastWrittenOrder;

  private FollowerAppendOrder(String name, ServerImplUtils.NavigableIndices predecessor,
      CompletableFuture<Void> predecessorDone) {
    this.name = name;
    this.predecessor = predecessor;
    this.predecessorDone = predecessorDone;
    this.tail = predecessorDone;
  }

  /** For tests: starts empty. */
  static FollowerAppendOrder empty(String name) {
    return new FollowerAppendOrder(name, null, CompletableFuture.completedFuture(null));
  }

  /** Takes over from Ratis' bookkeeping {@code old}: its chained writes run first. */
  static FollowerAppendOrder replacing(String name, ServerImplUtils.NavigableIndices old)
      throws ReflectiveOperationException {
    return new FollowerAppendOrder(name, old, chainOf(old));
  }

  /**
   * Puts this bookkeeping into {@code division} in place of Ratis' own; call as early as possible
   * (a state machine's initialize). Writes Ratis already chained finish first.
   *
   * @return false (and nothing changed) when the division has no compose bookkeeping or its
   *     internals are not the ones this was written for (another Ratis version)
   */
  public static boolean install(RaftServer.Division division) {
    if (!(division instanceof RaftServerImpl impl)) {
      return false;
    }
    try {
      Field field = RaftServerImpl.class.getDeclaredField("appendLogTermIndices");
      field.setAccessible(true);
      // The division's monitor is the lock of its AppendEntries checks: a request checked after
      // this sees the new object.
      synchronized (impl) {
        Object current = field.get(impl);
        if (current instanceof FollowerAppendOrder) {
          return true;
        }
        if (!(current instanceof ServerImplUtils.NavigableIndices old)) {
          return false;
        }
        field.set(impl, replacing(impl.getMemberId().toString(), old));
      }
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("{}: cannot install Raftlog's follower append ordering ({}); Ratis' own is used, which can leave"
          + " a follower unable to take entries after a leader change", division.getMemberId(), e.toString());
      return false;
    }
  }

  @SuppressWarnings("unchecked")
  private static CompletableFuture<Void> chainOf(ServerImplUtils.NavigableIndices old)
      throws ReflectiveOperationException {
    Field f = ServerImplUtils.NavigableIndices.class.getDeclaredField("future");
    f.setAccessible(true);
    CompletableFuture<Void> last = ((AtomicReference<CompletableFuture<Void>>) f.get(old)).get();
    return last.handle((v, e) -> null);
  }

  /**
   * Called by Ratis under the server lock while checking a request's previous entry, on the thread
   * that appends the request's entries next: hands that thread its ticket.
   */
  @Override
  synchronized boolean contains(TermIndex previous) {
    TICKET.set(new Ticket(this, ++lockOrder, previous.getIndex()));
    Long term = getTerm(previous.getIndex());
    return term != null && term == previous.getTerm();
  }

  @Override
  synchronized Long getTerm(long index) {
    Pending p = pending.get(index);
    if (p != null) {
      return p.term();
    }
    if (predecessor != null) {
      if (!predecessorDone.isDone()) {
        return predecessor.getTerm(index);
      }
      predecessor = null;
    }
    return null;
  }

  @Override
  CompletableFuture<Void> append(List<LogEntryProto> entries,
      Function<List<LogEntryProto>, CompletableFuture<Void>> write) {
    Ticket ticket = TICKET.get();
    TICKET.remove();
    boolean ordered = ticket != null && ticket.owner() == this && !entries.isEmpty()
        && entries.get(0).getIndex() == ticket.previousIndex() + 1;
    CompletableFuture<Void> mine;
    synchronized (this) {
      if (ordered) {
        if (ticket.order() < lastWrittenOrder) {
          LOG.warn("{}: refused AppendEntries with entries {}..{}: a request checked after it is written already"
              + " (its leader resends)", name, TermIndex.valueOf(entries.get(0)),
              TermIndex.valueOf(entries.get(entries.size() - 1)));
          return CompletableFuture.failedFuture(new IllegalStateException(name + ": AppendEntries with entries from "
              + TermIndex.valueOf(entries.get(0)) + " arrived at its write after a request checked later"
              + " (a deposed leader's request?); refused, resend"));
        }
        lastWrittenOrder = ticket.order();
      }
      mine = tail.thenCompose(v -> write.apply(entries));
      tail = mine.handle((v, e) -> null);
      register(entries, mine);
    }
    mine.whenComplete((v, e) -> written(entries, mine));
    return mine;
  }

  /**
   * Records the entries as pending, as the log will hold them: from the first index where a
   * pending entry has another term on, the earlier pending entries are replaced (the write cuts
   * them).
   */
  private void register(List<LogEntryProto> entries, CompletableFuture<Void> write) {
    for (LogEntryProto e : entries) {
      Pending p = pending.get(e.getIndex());
      if (p != null && p.term() != e.getTerm()) {
        pending.tailMap(e.getIndex(), true).clear();
        break;
      }
    }
    for (LogEntryProto e : entries) {
      pending.put(e.getIndex(), new Pending(e.getTerm(), write));
    }
  }

  private synchronized void written(List<LogEntryProto> entries, CompletableFuture<Void> write) {
    for (LogEntryProto e : entries) {
      Pending p = pending.get(e.getIndex());
      if (p != null && p.write() == write) {
        pending.remove(e.getIndex());
      }
    }
  }

  /** For tests: the number of entries accepted and not yet written. */
  synchronized int pendingCount() {
    return pending.size();
  }

  /** For tests: (index, term) of every pending entry. */
  synchronized List<TermIndex> pendingEntries() {
    List<TermIndex> out = new ArrayList<>();
    for (Map.Entry<Long, Pending> e : pending.entrySet()) {
      out.add(TermIndex.valueOf(e.getValue().term(), e.getKey()));
    }
    return out;
  }
}
