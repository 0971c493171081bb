package io.raftlog.statemachine.ratis;

import java.io.IOException;
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
 * <p>The rule: the local entry at index i is the committed one once the local log holds an entry
 * of the server's current term at an index at or after i. An entry of term T can only come from
 * T's leader (or be our own, as T's leader), and appending it required the log to match that
 * leader's up to there; that leader's log holds every entry committed before it. So before each
 * apply: if the log's last entry is of the current term (the usual case, a cheap check), go on; if
 * not (right after an election, or while such a stale tail waits to be replaced), wait until it is,
 * then re-read the entry at i: when it is not the one Ratis handed over, apply the log's entry
 * instead. A lagging follower waits at most until its log reaches the current leader's first
 * entry; the leader never waits (it appends an entry of its term when elected).
 */
final class CommittedEntryGuard {

  private static final Logger LOG = LoggerFactory.getLogger(CommittedEntryGuard.class);
  private static final long WARN_AFTER_MS = 10_000;

  private final String logPrefix;
  private final Supplier<RaftServer.Division> division;

  /** @param division this replica's division, or null before the server is up */
  CommittedEntryGuard(String logPrefix, Supplier<RaftServer.Division> division) {
    this.logPrefix = logPrefix;
    this.division = division;
  }

  /**
   * The entry to apply at {@code handed}'s index: {@code handed} itself, or the entry the log holds
   * there once it is confirmed. Blocks while the log is unconfirmed.
   *
   * @throws IOException when the division closes meanwhile (nothing is applied then)
   */
  LogEntryProto entryToApply(LogEntryProto handed) throws IOException {
    RaftServer.Division d = division.get();
    if (d == null) {
      return handed;
    }
    RaftLog log = d.getRaftLog();
    long started = 0;
    boolean warned = false;
    while (true) {
      long term = d.getInfo().getCurrentTerm();
      TermIndex last = log.getLastEntryTermIndex();
      if (last != null && last.getTerm() == term && last.getIndex() >= handed.getIndex()) {
        break;
      }
      if (!d.getInfo().isAlive()) {
        throw new IOException(logPrefix + ": closing while entry " + TermIndex.valueOf(handed)
            + " waited for the current leader to confirm the log");
      }
      long now = System.currentTimeMillis();
      if (started == 0) {
        started = now;
        LOG.debug("[{}] entry {} waits until the log holds an entry of term {} (last is {})", logPrefix,
            TermIndex.valueOf(handed), term, last);
      } else if (!warned && now - started > WARN_AFTER_MS) {
        warned = true;
        LOG.warn("[{}] applying entry {} has waited {} ms for the leader of term {} to send its first entry"
            + " (the log ends at {})", logPrefix, TermIndex.valueOf(handed), now - started, term, last);
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(logPrefix + ": interrupted while entry " + TermIndex.valueOf(handed)
            + " waited for the current leader to confirm the log", e);
      }
    }
    if (started == 0) {
      return handed;
    }
    LogEntryProto inLog = log.get(handed.getIndex());
    if (inLog == null) {
      throw new IOException(logPrefix + ": the Raft log no longer holds index " + handed.getIndex());
    }
    if (inLog.getTerm() == handed.getTerm()) {
      return handed;
    }
    LOG.warn("[{}] Ratis handed over entry {} of a deposed leader, which the group did not commit; applying"
        + " the current leader's entry {} at that index instead", logPrefix, TermIndex.valueOf(handed),
        TermIndex.valueOf(inLog));
    return inLog;
  }

  /** Fails the apply of an entry that was replaced: nothing of it was applied. */
  static IOException replaced(String logPrefix, LogEntryProto handed, LogEntryProto applied) {
    return new IOException(logPrefix + ": entry " + TermIndex.valueOf(handed) + " was never committed (the"
        + " committed entry " + TermIndex.valueOf(applied) + " was applied at its index)");
  }
}
