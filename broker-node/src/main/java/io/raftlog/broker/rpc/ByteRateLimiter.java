package io.raftlog.broker.rpc;

/**
 * Keeps the bytes copied per second at or below a limit, over all the threads that use it (Kafka's
 * replication throttle, for the records a broker copies from its peers). A caller reports what it
 * just copied and is held back until that much is within the budget: the limiter paces, it never
 * splits or refuses a copy, so one answer larger than a second's budget is simply followed by a
 * longer wait.
 *
 * <p>Time and waiting are injected so the pacing is unit-tested without real waits.
 */
public final class ByteRateLimiter {

  /** Reads a monotonic clock in nanoseconds. */
  @FunctionalInterface
  public interface Nanos {
    long now();
  }

  /** Waits the given nanoseconds (an interrupt ends the wait with InterruptedException). */
  @FunctionalInterface
  public interface Waiter {
    void waitNanos(long nanos) throws InterruptedException;
  }

  private final long bytesPerSecond;
  private final Nanos clock;
  private final Waiter waiter;
  /** When the bytes reported so far are paid for at the limit: callers wait until then. */
  private long paidUntilNanos;
  private boolean started;

  /** @param bytesPerSecond the limit; a value <= 0 means unlimited */
  public ByteRateLimiter(long bytesPerSecond, Nanos clock, Waiter waiter) {
    this.bytesPerSecond = bytesPerSecond;
    this.clock = clock;
    this.waiter = waiter;
  }

  public static ByteRateLimiter realTime(long bytesPerSecond) {
    return new ByteRateLimiter(bytesPerSecond, System::nanoTime,
        nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)));
  }

  public boolean unlimited() {
    return bytesPerSecond <= 0;
  }

  /** Reports {@code bytes} just copied and waits until they are within the limit. */
  public void copied(long bytes) throws InterruptedException {
    if (unlimited() || bytes <= 0) {
      return;
    }
    long waitNanos;
    synchronized (this) {
      long now = clock.now();
      // A token bucket one second deep: time the caller spent copying counts, but a long pause
      // buys at most one second's worth of burst afterwards.
      long from = started ? Math.max(paidUntilNanos, now - 1_000_000_000L) : now;
      started = true;
      paidUntilNanos = from + (long) (bytes * 1_000_000_000.0 / bytesPerSecond);
      waitNanos = paidUntilNanos - now;
    }
    if (waitNanos > 0) {
      waiter.waitNanos(waitNanos);
    }
  }
}
