package io.raftlog.broker.partition;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Group commit for one partition led by this broker: at most {@code maxInFlight} Raft entries are
 * proposed and not yet finished; batches arriving meanwhile wait, and when an entry finishes the
 * waiting ones are proposed together as one entry (up to {@code maxGroupBytes}, at least one).
 *
 * <p>Why: every Raft entry costs the cluster a fixed amount of CPU (a request, a log append and
 * fsync on each replica, AppendEntries, applies, replies). Unloaded, a batch is proposed at once,
 * alone; as load grows, entries take longer, more batches wait, and each entry carries more of them,
 * so the per-entry cost is spread instead of saturating the CPU.
 *
 * <p>Order: items are proposed in the order they were offered (one producer's batches must reach
 * the log in order), because proposing happens under this queue's lock. The {@link Proposer} must
 * therefore not block, and must run the {@code finished} callback it is given once, from another
 * thread (never from inside {@link Proposer#propose}).
 *
 * @param <T> a batch with what is needed to answer it
 */
public final class GroupCommitQueue<T> {

  /** Proposes a group as one Raft entry and runs {@code finished} once when it is done. */
  @FunctionalInterface
  public interface Proposer<T> {
    void propose(List<T> group, Runnable finished);
  }

  private final int maxInFlight;
  private final long maxGroupBytes;
  private final ToIntFunction<T> sizeOf;
  private final Proposer<T> proposer;
  private final ArrayDeque<T> waiting = new ArrayDeque<>();
  private int inFlight;

  public GroupCommitQueue(int maxInFlight, long maxGroupBytes, ToIntFunction<T> sizeOf, Proposer<T> proposer) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1, got " + maxInFlight);
    }
    this.maxInFlight = maxInFlight;
    this.maxGroupBytes = maxGroupBytes;
    this.sizeOf = sizeOf;
    this.proposer = proposer;
  }

  /** Proposes the item now if fewer than maxInFlight entries are in flight and none waits; else queues it. */
  public synchronized void offer(T item) {
    waiting.add(item);
    proposeWhatFits();
  }

  /** An entry proposed by this queue finished (committed, failed or refused). */
  public synchronized void finished() {
    if (inFlight <= 0) {
      throw new IllegalStateException("finished() without an entry in flight");
    }
    inFlight--;
    proposeWhatFits();
  }

  public synchronized int waiting() {
    return waiting.size();
  }

  public synchronized int inFlight() {
    return inFlight;
  }

  private void proposeWhatFits() {
    while (inFlight < maxInFlight && !waiting.isEmpty()) {
      List<T> group = new ArrayList<>();
      long bytes = 0;
      do {
        bytes += sizeOf.applyAsInt(waiting.peek());
        group.add(waiting.poll());
      } while (!waiting.isEmpty() && bytes + sizeOf.applyAsInt(waiting.peek()) <= maxGroupBytes);
      inFlight++;
      proposer.propose(group, this::finished);
    }
  }
}
