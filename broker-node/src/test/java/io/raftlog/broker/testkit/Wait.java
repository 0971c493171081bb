package io.raftlog.broker.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting on a condition with a deadline: the only way tests synchronize. */
public final class Wait {

  private Wait() {}

  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Throwable last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        last = e;
      }
      pause();
    }
    AssertionError error = new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
    if (last != null) {
      error.initCause(last);
    }
    throw error;
  }

  /** Polls {@code supplier} until it returns non-null. */
  public static <T> T forValue(String what, Duration timeout, Supplier<T> supplier) {
    Object[] holder = new Object[1];
    until(what, timeout, () -> (holder[0] = supplier.get()) != null);
    @SuppressWarnings("unchecked")
    T value = (T) holder[0];
    return value;
  }

  private static void pause() {
    try {
      // Polling interval between condition checks, not a synchronization sleep.
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
