package io.raftlog.statemachine.ratis;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure a state machine applies, at each index, the entry the group committed there, and not
 * an entry of a deposed leader that the local Raft log still holds.
 *
 * <p>Why: Ratis 3.2.2 (with its default "append-entries compose") checks a follower's incoming
 * AppendEntries against appends it has accepted but not written yet. A heartbeat arriving
 * meanwhile moves the follower's commit index up to the heartbeat's previous index, bounded only
 * by the flushed end of the local log, which may still hold a deposed leader's uncommitted entries
 * at those indices; Ratis then hands those to the state machine. (Our fault suite saw a replica
 * diverge this way, seed 303; {@code FollowerStaleTailTest} in broker-node reproduces it.) Turning
 * compose off is no way out in 3.2.2: followers then append concurrently and fail with "Already
 * running a method", and a leader's log appender can die on the replies.
 *
 * <p>The check, before each apply of the entry Ratis handed over for index i: while an accepted
 * but unwritten append holds index i with another term, wait for it to be written; then compare
 * with the entry the log holds at i now, and when that is another one (the pending append
 * replaced the handed entry), apply the log's entry instead. An append holding i with the handed
 * entry's term brings the same entry (Raft's log matching), and an index outside every pending
 * append was not replaced by one; so nothing waits except in the race above. The pending appends
 * are Ratis internals ({@code RaftServerImpl.appendLogTermIndices}), read by reflection: Ratis has
 * no API for them. Should they not be readable (another Ratis version), the fallback is a stricter
 * rule that needs no internals: the entry at i is the committed one once the log holds an entry
 * of the server's current term at or after i (only the current leader writes those, after
 * matching its log); it can hold applies back until a lagging follower's log reaches the current
 * leader's first entry.
 */
final class CommittedEntryGuard {

  private static final Logger LOG = LoggerFactory.getLogger(CommittedEntryGuard.class);
  private static final long WARN_AFTER_MS = 10_000;
  /** {@code RaftServerImpl.appendLogTermIndices} and its {@code getTerm(long)}, or null. */
  private static volatile Field pendingField;
  private static volatile Method pendingTerm;
  private static volatile boolean internalsUnavailable;

  private final String logPrefix;
  private final Supplier<RaftServer.Division> division;

  /** @param division this replica's division, or null before the server is up */
  CommittedEntryGuard(String logPrefix, Supplier<RaftServer.Division> division) {
    this.logPrefix = logPrefix;
    this.division = division;
  }

  /**
   * Checks the entry Ratis hands over at {@code handed} (a state machine entry for
   * applyTransaction, or a configuration/no-op entry for notifyTermIndexUpdated). Blocks only
   * while a pending append holds that index with another term.
   *
   * @return null when the handed entry is the one to apply; otherwise the entry the log holds at
   *     that index now, of any kind (the caller applies it in place of the handed one)
   * @throws IOException when the division closes meanwhile (nothing is applied then)
   */
  LogEntryProto replacement(TermIndex handed) throws IOException {
    RaftServer.Division d = division.get();
    if (d == null) {
      return null;
    }
    RaftLog log = d.getRaftLog();
    long index = handed.getIndex();
    Waiting waiting = new Waiting(handed);
    if (!(internals(d) && awaitPendingAppend(d, handed, waiting))) {
      while (true) {
        long term = d.getInfo().getCurrentTerm();
        TermIndex last = log.getLastEntryTermIndex();
        if (last != null && last.getTerm() == term && last.getIndex() >= index) {
          break;
        }
        waiting.pause(d, "the log to hold an entry of term " + term + " (it ends at " + last + ")");
      }
    }
    // The log cannot lose index i while i is being applied, except by a cut below what is applied,
    // which truncate() reports as fatal; without an entry to compare, the handed one is all there is.
    TermIndex now = log.getTermIndex(index);
    if (now == null || now.getTerm() == handed.getTerm()) {
      return null;
    }
    LogEntryProto inLog = log.get(index);
    if (inLog == null) {
      return null;
    }
    LOG.warn("[{}] Ratis handed over entry {} of a deposed leader, which the group did not commit; applying"
        + " the current leader's entry {} ({}) at that index instead", logPrefix, handed,
        TermIndex.valueOf(inLog), inLog.getLogEntryBodyCase());
    return inLog;
  }

  /** Fails the apply of an entry that was replaced: nothing of it was applied. */
  static IOException replaced(String logPrefix, TermIndex handed, LogEntryProto applied) {
    return new IOException(logPrefix + ": entry " + handed + " was never committed (the"
        + " committed entry " + TermIndex.valueOf(applied) + " was applied at its index)");
  }

  /**
   * Waits while a pending append holds the handed entry's index with another term.
   *
   * @return false when the pending appends turned out unreadable (the caller falls back)
   */
  private boolean awaitPendingAppend(RaftServer.Division d, TermIndex handed, Waiting waiting)
      throws IOException {
    while (true) {
      Long term;
      try {
        term = pendingTerm(d, handed.getIndex());
      } catch (ReflectiveOperationException | RuntimeException e) {
        internalsUnavailable = true;
        LOG.warn("[{}] cannot read Ratis' pending appends ({}); applies wait for an entry of the current term"
            + " instead", logPrefix, e.toString());
        return false;
      }
      if (term == null || term == handed.getTerm()) {
        return true;
      }
      waiting.pause(d, "a pending append of term " + term + " to be written");
    }
  }

  /** True when the pending appends of {@code d} can be read (the field is resolved once). */
  private boolean internals(RaftServer.Division d) {
    if (internalsUnavailable) {
      return false;
    }
    if (pendingField != null) {
      return true;
    }
    try {
      Field f = d.getClass().getDeclaredField("appendLogTermIndices");
      f.setAccessible(true);
      pendingField = f;
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      internalsUnavailable = true;
      LOG.warn("[{}] cannot read Ratis' pending appends ({}); applies wait for an entry of the current term"
          + " instead", logPrefix, e.toString());
      return false;
    }
  }

  /**
   * The term of the pending (accepted, not yet written) append holding {@code index}, or null; also
   * null when compose is off (no pending appends: the check is against the log itself).
   */
  private static Long pendingTerm(RaftServer.Division d, long index) throws ReflectiveOperationException {
    Object indices = pendingField.get(d);
    if (indices == null) {
      return null;
    }
    Method m = pendingTerm;
    if (m == null) {
      // Looked up on the field's type: the object may be Ratis' own or our FollowerAppendOrder.
      m = pendingField.getType().getDeclaredMethod("getTerm", long.class);
      m.setAccessible(true);
      pendingTerm = m;
    }
    return (Long) m.invoke(indices, index);
  }

  /** Polls while an apply waits; warns once when it waits long, gives up when the division closes. */
  private final class Waiting {
    private final TermIndex handed;
    private long started;
    private boolean warned;

    Waiting(TermIndex handed) {
      this.handed = handed;
    }

    void pause(RaftServer.Division d, String forWhat) throws IOException {
      if (!d.getInfo().isAlive()) {
        throw new IOException(logPrefix + ": closing while entry " + handed + " waited for "
            + forWhat);
      }
      long now = System.currentTimeMillis();
      if (started == 0) {
        started = now;
        LOG.debug("[{}] entry {} waits for {}", logPrefix, handed, forWhat);
      } else if (!warned && now - started > WARN_AFTER_MS) {
        warned = true;
        LOG.warn("[{}] applying entry {} has waited {} ms for {}", logPrefix, handed,
            now - started, forWhat);
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(logPrefix + ": interrupted while entry " + handed + " waited for "
            + forWhat, e);
      }
    }
  }
}
