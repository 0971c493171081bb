package io.raftlog.broker.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ByteRateLimiterTest {

  private long now = 1_000_000_000L;
  private final List<Long> waits = new ArrayList<>();

  private ByteRateLimiter limiter(long bytesPerSecond) {
    // The fake waiter advances the fake clock, as a real wait would.
    return new ByteRateLimiter(bytesPerSecond, () -> now, nanos -> {
      waits.add(nanos);
      now += nanos;
    });
  }

  @Test
  void pacesCopiesToTheLimit() throws InterruptedException {
    ByteRateLimiter limiter = limiter(1_000_000);
    for (int i = 0; i < 10; i++) {
      limiter.copied(500_000);
    }
    // 5 MB at 1 MB/s: 5 s in all, half a second after each copy.
    assertEquals(10, waits.size());
    waits.forEach(w -> assertEquals(500_000_000L, w));
    assertEquals(1_000_000_000L + 5_000_000_000L, now);
  }

  @Test
  void timeSpentCopyingCountsAndAPauseBuysAtMostOneSecondOfBurst() throws InterruptedException {
    ByteRateLimiter limiter = limiter(1_000_000);
    limiter.copied(1_000_000);   // the first copy: waits its whole second
    now += 300_000_000L;         // the next copy took 0.3 s by itself
    limiter.copied(1_000_000);   // so it waits only 0.7 s more
    assertEquals(List.of(1_000_000_000L, 700_000_000L), waits);
    now += 60_000_000_000L;      // a minute idle
    limiter.copied(3_000_000);   // 3 MB: one second of it is the burst, 2 s wait
    assertEquals(2_000_000_000L, waits.get(2));
  }

  @Test
  void anUnlimitedLimiterNeverWaits() throws InterruptedException {
    ByteRateLimiter limiter = limiter(-1);
    assertTrue(limiter.unlimited());
    limiter.copied(Long.MAX_VALUE / 2);
    assertTrue(waits.isEmpty());
  }
}
