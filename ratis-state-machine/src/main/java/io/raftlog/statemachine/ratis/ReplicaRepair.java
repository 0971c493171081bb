package io.raftlog.statemachine.ratis;

import io.raftlog.statemachine.codec.RecordBatches;
import io.raftlog.statemachine.core.BatchHeader;
import io.raftlog.statemachine.store.LogStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.record.internal.Records;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the committed batches {@code [from, until)} that a replica's segment files lost (a torn or
 * corrupt tail cut off below the snapshot's next offset) from another replica, through a
 * {@link ReplicaRepairSource}, into the replica's {@link LogStore}.
 *
 * <p>Nothing is stored unchecked: each batch must be a single v2 batch with a valid CRC32C whose
 * base offset is exactly the store's end (so the range is filled contiguously from {@code from})
 * and which ends below {@code until} (batch boundaries are the same on every replica, so
 * {@code until} is one). Batches at or beyond {@code until} in an answer are ignored. When the
 * store reaches {@code until} it is fsynced, and only then is {@link #done()} completed.
 *
 * <p>A failed attempt (no replica reachable, or an answer that does not check out) is retried
 * after a backoff (doubling up to {@link #MAX_BACKOFF_MS}) until it works or {@link #abort} is
 * called; a repair never gives up on its own.
 *
 * <p>Threading: {@link #run()} runs on one thread, the only writer of the store until
 * {@link #done()} completes (the apply thread waits for it). {@link #abort} may be called from
 * any thread; once it returns, the repair thread writes nothing more to the store, so the store
 * may be closed.
 */
final class ReplicaRepair implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaRepair.class);
  /** Bytes asked for per call; ReadReplicaLog serves at most 8 MiB (plus one oversized batch). */
  static final int CHUNK_BYTES = 4 * 1024 * 1024;
  static final long INITIAL_BACKOFF_MS = 100;
  static final long MAX_BACKOFF_MS = 5_000;

  private final String logPrefix;
  private final LogStore store;
  private final long from;
  private final long until;
  private final ReplicaRepairSource source;
  private final Runnable onStored;
  private final long initialBackoffMs;
  private final long maxBackoffMs;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  /** Guards store writes against {@link #abort}, and is what backoff waits on. */
  private final Object lock = new Object();
  private boolean aborted;
  private volatile Thread runner;

  /**
   * @param onStored runs on the repair thread once the range is stored and fsynced, before
   *     {@link #done()} completes (so whoever waits on {@code done} sees its effects)
   */
  ReplicaRepair(String logPrefix, LogStore store, long from, long until, ReplicaRepairSource source,
      Runnable onStored) {
    this(logPrefix, store, from, until, source, onStored, INITIAL_BACKOFF_MS, MAX_BACKOFF_MS);
  }

  ReplicaRepair(String logPrefix, LogStore store, long from, long until, ReplicaRepairSource source,
      Runnable onStored, long initialBackoffMs, long maxBackoffMs) {
    if (from < 0 || until <= from) {
      throw new IllegalArgumentException("invalid repair range [" + from + ", " + until + ")");
    }
    this.logPrefix = logPrefix;
    this.store = store;
    this.from = from;
    this.until = until;
    this.source = source;
    this.onStored = onStored;
    this.initialBackoffMs = initialBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
  }

  long from() {
    return from;
  }

  long until() {
    return until;
  }

  /**
   * Completes once {@code [from, until)} is stored and fsynced; is cancelled when {@link #abort}
   * came first; completes exceptionally when the store could not be written (a disk failure).
   */
  CompletableFuture<Void> done() {
    return done;
  }

  /** Starts {@link #run()} on a new daemon thread. */
  void start(String threadName) {
    Thread t = new Thread(this, threadName);
    t.setDaemon(true);
    runner = t;
    t.start();
  }

  @Override
  public void run() {
    runner = Thread.currentThread();
    long backoffMs = initialBackoffMs;
    int failures = 0;
    long batches = 0;
    long bytes = 0;
    try {
      while (store.logEndOffset() < until) {
        if (isAborted()) {
          return;
        }
        long next = store.logEndOffset();
        ByteBuffer answer;
        try {
          answer = source.read(next, until, CHUNK_BYTES);
        } catch (IOException e) {
          failures++;
          LOG.warn("[{}] repair of [{}, {}): attempt {} to read from offset {} failed ({}); retrying in {} ms",
              logPrefix, from, until, failures, next, e.getMessage(), backoffMs);
          if (!pause(backoffMs)) {
            return;
          }
          backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
          continue;
        }
        synchronized (lock) {
          if (aborted) {
            return;
          }
          try {
            Appended appended = appendChecked(store, answer, until);
            batches += appended.batches();
            bytes += appended.bytes();
            backoffMs = initialBackoffMs;
            failures = 0;
          } catch (IllegalArgumentException e) {
            failures++;
            LOG.warn("[{}] repair of [{}, {}): attempt {} at offset {} got data that does not check out ({}); "
                + "retrying in {} ms", logPrefix, from, until, failures, next, e.getMessage(), backoffMs);
          }
          if (store.logEndOffset() == until) {
            store.flush();
          }
        }
        if (failures > 0) {
          if (!pause(backoffMs)) {
            return;
          }
          backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
        }
      }
      LOG.info("[{}] repaired [{}, {}) from peers: {} batches, {} bytes, fsynced", logPrefix, from, until,
          batches, bytes);
      onStored.run();
      done.complete(null);
    } catch (InterruptedException e) {
      if (isAborted()) {
        LOG.info("[{}] repair of [{}, {}) stopped at offset {}: the replica is closing", logPrefix, from, until,
            store.logEndOffset());
      } else {
        done.completeExceptionally(new IOException("repair thread interrupted", e));
      }
    } catch (IOException | RuntimeException | Error e) {
      // Writing or syncing the store failed: a disk problem, like a failed apply.
      LOG.error("[{}] repair of [{}, {}) cannot write the segment files: {}", logPrefix, from, until, e.toString(), e);
      done.completeExceptionally(e);
    } finally {
      if (!done.isDone()) {
        done.cancel(false); // aborted
      }
      runner = null;
    }
  }

  private boolean isAborted() {
    synchronized (lock) {
      return aborted;
    }
  }

  /** Waits {@code ms} unless aborted meanwhile; false when aborted. */
  private boolean pause(long ms) throws InterruptedException {
    long deadline = System.nanoTime() + ms * 1_000_000;
    synchronized (lock) {
      long left;
      while (!aborted && (left = deadline - System.nanoTime()) > 0) {
        lock.wait(Math.max(1, left / 1_000_000));
      }
      return !aborted;
    }
  }

  /**
   * Stops the repair: after this returns the repair thread writes nothing more to the store. Waits
   * up to {@code joinMs} for the thread to end (it is interrupted, which ends a pending read).
   */
  void abort(long joinMs) {
    synchronized (lock) {
      aborted = true;
      lock.notifyAll();
    }
    Thread t = runner;
    if (t != null && t != Thread.currentThread()) {
      t.interrupt();
      try {
        t.join(joinMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (t == null || !t.isAlive()) {
      done.cancel(false); // never started, or ended: nothing else will complete it
    }
  }

  record Appended(int batches, long bytes) {}

  /**
   * Appends the batches of {@code answer} that lie below {@code until}, each checked first: a
   * single v2 batch with a valid CRC, starting exactly at the store's end, ending below
   * {@code until}. Batches are appended one by one, so a bad batch leaves the good ones before it
   * stored (they are as good as any other committed batch).
   *
   * @throws IllegalArgumentException when the answer does not check out (nothing after the bad
   *     batch is stored) or holds no batch at the store's end
   */
  static Appended appendChecked(LogStore store, ByteBuffer answer, long until) throws IOException {
    ByteBuffer data = answer.slice().order(ByteOrder.BIG_ENDIAN);
    int position = 0;
    int batches = 0;
    long bytes = 0;
    while (store.logEndOffset() < until && data.limit() - position >= Records.LOG_OVERHEAD) {
      long expected = store.logEndOffset();
      long base = data.getLong(position);
      long size = Records.LOG_OVERHEAD + (long) data.getInt(position + Records.SIZE_OFFSET);
      if (size <= Records.LOG_OVERHEAD || size > data.limit() - position) {
        throw new IllegalArgumentException("the answer holds a partial batch at offset " + base + " (" + size
            + " bytes announced, " + (data.limit() - position) + " left)");
      }
      if (base >= until) {
        break;
      }
      if (base != expected) {
        throw new IllegalArgumentException("expected a batch starting at offset " + expected + ", got one at " + base
            + (base < expected ? " (batch boundaries differ from this replica's)" : " (gap)"));
      }
      ByteBuffer batch = data.duplicate().position(position).limit(position + (int) size).slice();
      BatchHeader header = RecordBatches.parseHeader(batch); // one v2 batch, CRC32C checked
      long last = base + header.recordCount() - 1;
      if (last >= until) {
        throw new IllegalArgumentException("batch [" + base + ", " + last + "] crosses the end " + until
            + " of the range to repair");
      }
      store.append(batch);
      batches++;
      bytes += size;
      position += (int) size;
    }
    if (batches == 0 && store.logEndOffset() < until) {
      throw new IllegalArgumentException("the answer (" + data.limit() + " bytes) holds no batch at offset "
          + store.logEndOffset());
    }
    return new Appended(batches, bytes);
  }
}
