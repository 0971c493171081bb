import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * What one thread hand-off costs on this machine: two threads pass a token back and forth
 * (a SynchronousQueue each way), with an idle pause between round trips, and the process CPU
 * time per round trip is printed. Back to back, both threads stay hot; with a pause the CPUs go
 * idle and every hand-off has to wake a sleeping thread, which on a virtual machine costs far
 * more. A broker request crosses many such hand-offs (gRPC transport and executor threads, Ratis'
 * per-group log worker, appenders and state machine updater), so this bounds what a request costs
 * at moderate rates. Not part of the product; see docs/benchmarks.md.
 *
 * <p>Run: {@code java bench/WakeupCost.java [round trips] [pause microseconds]...}
 */
public class WakeupCost {
  public static void main(String[] args) throws Exception {
    int roundTrips = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    long[] pausesUs = {0, 1000, 5000};
    if (args.length > 1) {
      pausesUs = new long[args.length - 1];
      for (int i = 1; i < args.length; i++) {
        pausesUs[i - 1] = Long.parseLong(args[i]);
      }
    }
    run(roundTrips, 0, "warm-up (compiles the loop), not a result: ");
    for (long pauseUs : pausesUs) {
      run(roundTrips, pauseUs, "");
    }
  }

  private static void run(int roundTrips, long pauseUs, String label) throws Exception {
    SynchronousQueue<Integer> there = new SynchronousQueue<>();
    SynchronousQueue<Integer> back = new SynchronousQueue<>();
    Thread echo = new Thread(() -> {
      try {
        for (int i = 0; i < roundTrips; i++) {
          back.put(there.take());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "echo");
    echo.start();
    long cpu0 = cpuNanos();
    long wall0 = System.nanoTime();
    for (int i = 0; i < roundTrips; i++) {
      there.put(i);
      back.take();
      if (pauseUs > 0) {
        LockSupport.parkNanos(pauseUs * 1000);
      }
    }
    long wall = System.nanoTime() - wall0;
    long cpu = cpuNanos() - cpu0;
    echo.join();
    System.out.printf("%s%d round trips, %d us idle between them: %.1f us CPU per round trip (wall %.1f us)%n",
        label, roundTrips, pauseUs, cpu / 1e3 / roundTrips, wall / 1e3 / roundTrips);
  }

  private static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
  }
}
