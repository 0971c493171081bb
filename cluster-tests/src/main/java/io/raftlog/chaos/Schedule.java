package io.raftlog.chaos;

import java.util.List;
import java.util.Random;

/**
 * The faults of a run, derived from its seed alone: the same seed gives the same sequence of
 * faults, quiet times, hold times and target choices (which broker is "the leader" is decided at
 * run time, so it follows the cluster's state).
 */
public final class Schedule {

  /**
   * One fault.
   *
   * @param index position in the schedule, from 0
   * @param kind what to inject
   * @param partition the partition whose leader or follower is the target (round-robin over the
   *     partitions, so every partition gets its share)
   * @param quietMs time without fault before this one
   * @param holdMs how long the fault lasts before it is healed
   * @param targetSeed seeds the random choices made while injecting (which broker, which bytes)
   */
  public record Step(int index, FaultKind kind, int partition, long quietMs, long holdMs, long targetSeed) {
    @Override
    public String toString() {
      return "#" + index + " " + kind.cliName() + " partition " + partition + " after " + quietMs + " ms quiet, held "
          + holdMs + " ms";
    }
  }

  private final Random random;
  private final List<FaultKind> kinds;
  private final int partitions;
  private final long quietMinMs;
  private final long quietMaxMs;
  private int next;

  public Schedule(long seed, List<FaultKind> kinds, int partitions, long quietMinMs, long quietMaxMs) {
    if (kinds.isEmpty()) {
      throw new IllegalArgumentException("no fault kinds to schedule");
    }
    this.random = new Random(seed);
    this.kinds = List.copyOf(kinds);
    this.partitions = partitions;
    this.quietMinMs = quietMinMs;
    this.quietMaxMs = quietMaxMs;
  }

  public Step next() {
    FaultKind kind = kinds.get(random.nextInt(kinds.size()));
    long quiet = quietMinMs + (quietMaxMs > quietMinMs ? random.nextLong(quietMaxMs - quietMinMs) : 0);
    long hold = switch (kind) {
      // Longer than the election timeout (max 450 ms by default), often much longer.
      case PAUSE_LEADER -> 1_500 + random.nextInt(3_000);
      case ISOLATE_LEADER, SPLIT, BRIDGE -> 2_000 + random.nextInt(4_000);
      case DROP_RESPONSES -> 1_000 + random.nextInt(2_000);
      case KILL_LEADER, KILL_RANDOM, KILL_ALL, KILL_MEMBER, KILL_COORDINATOR -> 200 + random.nextInt(2_000);
      case CORRUPT_FOLLOWER, WIPE_FOLLOWER -> 0;
      // How long each broker killed during a reassignment stays down.
      case REASSIGN -> 200 + random.nextInt(2_000);
    };
    int index = next++;
    return new Step(index, kind, index % partitions, quiet, hold, random.nextLong());
  }
}
