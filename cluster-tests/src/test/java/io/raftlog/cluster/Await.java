package io.raftlog.cluster;

import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes: the only way these tests wait. */
final class Await {

  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);

  private Await() {}

  /**
   * Polls {@code probe} until it returns a value. An RPC failure of the probe counts as "not yet"
   * (brokers come and go in these tests) and is reported if the deadline passes.
   *
   * @throws AssertionError naming {@code what} when the deadline passes
   */
  static <T> T value(String what, Duration timeout, Supplier<Optional<T>> probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    StatusRuntimeException lastError = null;
    while (true) {
      try {
        Optional<T> v = probe.get();
        if (v.isPresent()) {
          return v.get();
        }
      } catch (StatusRuntimeException e) {
        lastError = e;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
            + (lastError == null ? "" : "; last RPC error: " + lastError.getStatus()));
      }
      BrokerClients.pause(POLL_INTERVAL);
    }
  }

  static void condition(String what, Duration timeout, BooleanSupplier condition) {
    value(what, timeout, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty());
  }
}
