package io.raftlog.statemachine.ratis;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Long-poll fetches waiting for a partition's high watermark to move. Each waiter is its own
 * future, removed when it fires or when the fetch gives up, so idle partitions with many timed-out
 * polls hold no memory (a single shared "next append" future would accumulate a completion node
 * per timed-out poll until the next append).
 *
 * <p>Thread-safe. No wake-up is lost: a waiter is registered before the condition is re-checked,
 * and the apply thread moves the high watermark before it wakes the waiters.
 */
final class HighWatermarkWaiters {

  private final Set<CompletableFuture<Void>> waiting = ConcurrentHashMap.newKeySet();

  /** A future completed once {@code ready} holds (at once if it already does). */
  CompletableFuture<Void> await(BooleanSupplier ready) {
    CompletableFuture<Void> waiter = new CompletableFuture<>();
    waiting.add(waiter);
    if (ready.getAsBoolean()) {
      waiting.remove(waiter);
      waiter.complete(null);
    }
    return waiter;
  }

  void remove(CompletableFuture<Void> waiter) {
    waiting.remove(waiter);
  }

  /** Called after the high watermark moved (or when closing). */
  void wakeAll() {
    if (waiting.isEmpty()) {
      return;
    }
    for (CompletableFuture<Void> waiter : waiting) {
      waiting.remove(waiter);
      waiter.complete(null);
    }
  }

  int size() {
    return waiting.size();
  }
}
