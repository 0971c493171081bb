package io.raftlog.chaos;

import io.raftlog.chaos.Event.Ack;
import io.raftlog.chaos.Event.Nemesis;
import io.raftlog.chaos.Event.Phase;
import io.raftlog.chaos.Event.Poll;
import io.raftlog.chaos.Event.Read;
import io.raftlog.chaos.Event.Send;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks a run's history against the final read of every partition. Pure: no cluster, no clock.
 *
 * <p>The final read is the truth about the log; every other observation must agree with it:
 * acknowledgments (lost, mismatch), consumers' reads (inconsistent, nonmonotonic) and the producers'
 * send order. Replica comparison happens outside (it needs the brokers) and is added as
 * inconsistencies.
 */
public final class Checker {

  static final int MAX_EXAMPLES = 50;

  private final List<String> examples = new ArrayList<>();
  private long lost;
  private long duplicate;
  private long inconsistent;
  private long nonmonotonic;
  private long mismatch;

  private Checker() {}

  /**
   * @param events the run's history
   * @param finalRead every partition's records from its log start to its end, as read at the end
   * @param finalEnds every partition's end offset (high watermark) when the final read was made
   * @param replicaProblems replica divergences found by comparing the brokers' copies
   */
  public static CheckResult check(List<Event> events, Map<Integer, List<Read>> finalRead, Map<Integer, Long> finalEnds,
      List<String> replicaProblems) {
    return new Checker().run(events, finalRead, finalEnds, replicaProblems);
  }

  private CheckResult run(List<Event> events, Map<Integer, List<Read>> finalRead, Map<Integer, Long> finalEnds,
      List<String> replicaProblems) {
    Map<String, Send> sends = new HashMap<>();
    long acked = 0;
    long failed = 0;
    for (Event e : events) {
      if (e instanceof Send s) {
        sends.put(s.value(), s);
      } else if (e instanceof Ack) {
        acked++;
      } else if (e instanceof Event.Fail) {
        failed++;
      }
    }

    // The final read: where each value is, and the log's own shape.
    Map<Integer, Map<Long, String>> at = new HashMap<>();
    Map<String, List<Read>> locations = new HashMap<>();
    for (Map.Entry<Integer, List<Read>> e : new TreeMap<>(finalRead).entrySet()) {
      int partition = e.getKey();
      Map<Long, String> byOffset = at.computeIfAbsent(partition, p -> new HashMap<>());
      long previous = -1;
      Map<Integer, Long> lastSeqByProducer = new HashMap<>();
      for (Read r : e.getValue()) {
        if (previous >= 0 && r.offset() != previous + 1) {
          nonmonotonic++;
          example("final read of partition " + partition + " went from offset " + previous + " to " + r.offset());
        }
        previous = r.offset();
        byOffset.put(r.offset(), r.value());
        locations.computeIfAbsent(r.value(), v -> new ArrayList<>()).add(r);
        Send s = sends.get(r.value());
        if (s == null) {
          inconsistent++;
          example("partition " + partition + " offset " + r.offset() + " holds " + r.value()
              + ", which no producer sent");
          continue;
        }
        Long lastSeq = lastSeqByProducer.put(s.producer(), s.seq());
        if (lastSeq != null && s.seq() <= lastSeq) {
          nonmonotonic++;
          example("partition " + partition + " stores producer " + s.producer() + "'s seq " + s.seq() + " at offset "
              + r.offset() + ", after its seq " + lastSeq);
        }
      }
      long end = finalEnds.getOrDefault(partition, previous + 1);
      if (previous + 1 != end && !e.getValue().isEmpty()) {
        inconsistent++;
        example("final read of partition " + partition + " ended at offset " + previous + " but its end offset is " + end);
      }
    }
    for (Map.Entry<String, List<Read>> e : locations.entrySet()) {
      if (e.getValue().size() > 1) {
        duplicate += e.getValue().size() - 1;
        example(e.getKey() + " is stored " + e.getValue().size() + " times: " + e.getValue());
      }
    }

    for (Event e : events) {
      if (e instanceof Ack a) {
        List<Read> where = locations.get(a.value());
        if (where == null) {
          lost++;
          example("acknowledged " + a.value() + " (partition " + a.partition() + " offset " + a.offset()
              + ") is not in the final read");
        } else if (where.stream().noneMatch(r -> r.partition() == a.partition() && r.offset() == a.offset())) {
          mismatch++;
          example(a.value() + " was acknowledged at partition " + a.partition() + " offset " + a.offset()
              + " but is stored at " + where);
        }
      }
    }

    checkConsumers(events, at, finalEnds);

    for (String problem : replicaProblems) {
      inconsistent++;
      example(problem);
    }
    long[] availability = availability(events, finalRead.keySet());
    return new CheckResult(lost, duplicate, inconsistent, nonmonotonic, mismatch, acked, failed, availability[0],
        availability[1], List.copyOf(examples));
  }

  /** Each following consumer reads every partition from its start, in order, never skipping. */
  private void checkConsumers(List<Event> events, Map<Integer, Map<Long, String>> at, Map<Integer, Long> finalEnds) {
    Map<Integer, Map<Integer, Long>> lastByConsumer = new HashMap<>();
    for (Event e : events) {
      if (!(e instanceof Poll poll)) {
        continue;
      }
      Map<Integer, Long> last = lastByConsumer.computeIfAbsent(poll.consumer(), c -> new HashMap<>());
      for (Read r : poll.records()) {
        Long previous = last.put(r.partition(), r.offset());
        if (previous != null && r.offset() <= previous) {
          nonmonotonic++;
          example("consumer " + poll.consumer() + " went back on partition " + r.partition() + " from offset "
              + previous + " to " + r.offset() + " at t=" + poll.t());
        } else if (previous != null && r.offset() != previous + 1) {
          nonmonotonic++;
          example("consumer " + poll.consumer() + " skipped on partition " + r.partition() + " from offset "
              + previous + " to " + r.offset() + " at t=" + poll.t());
        }
        String stored = at.getOrDefault(r.partition(), Map.of()).get(r.offset());
        if (stored == null) {
          if (r.offset() >= finalEnds.getOrDefault(r.partition(), 0L)) {
            inconsistent++;
            example("consumer " + poll.consumer() + " read " + r.value() + " at partition " + r.partition() + " offset "
                + r.offset() + ", beyond the final end offset " + finalEnds.get(r.partition()) + " at t=" + poll.t());
          }
        } else if (!stored.equals(r.value())) {
          inconsistent++;
          example("consumer " + poll.consumer() + " read " + r.value() + " at partition " + r.partition() + " offset "
              + r.offset() + " but the final read has " + stored + " there (t=" + poll.t() + ")");
        }
      }
    }
  }

  /**
   * {longest time one partition had no acknowledged write after the first fault, longest time from
   * a heal until every partition had one}. The window ends with the workload.
   */
  static long[] availability(List<Event> events, java.util.Set<Integer> partitions) {
    long firstFault = -1;
    long end = -1;
    List<Long> heals = new ArrayList<>();
    Map<Integer, List<Long>> ackTimes = new HashMap<>();
    for (Event e : events) {
      if (e instanceof Nemesis n && !n.heal() && firstFault < 0) {
        firstFault = n.t();
      } else if (e instanceof Nemesis n && n.heal()) {
        heals.add(n.t());
      } else if (e instanceof Phase p && p.name().equals("workload-end")) {
        end = p.t();
      } else if (e instanceof Ack a) {
        ackTimes.computeIfAbsent(a.partition(), p -> new ArrayList<>()).add(a.t());
      }
    }
    if (end < 0) {
      end = events.isEmpty() ? 0 : events.get(events.size() - 1).t();
    }
    long maxGap = 0;
    if (firstFault >= 0) {
      for (int partition : partitions) {
        long previous = firstFault;
        for (long t : ackTimes.getOrDefault(partition, List.of()).stream().sorted().toList()) {
          if (t < firstFault || t > end) {
            continue;
          }
          maxGap = Math.max(maxGap, t - previous);
          previous = t;
        }
        maxGap = Math.max(maxGap, end - previous);
      }
    }
    long maxRecovery = 0;
    for (long heal : heals) {
      if (heal > end) {
        continue;
      }
      for (int partition : partitions) {
        long firstAck = ackTimes.getOrDefault(partition, List.of()).stream().filter(t -> t >= heal).min(Long::compare)
            .orElse(end);
        maxRecovery = Math.max(maxRecovery, Math.min(firstAck, end) - heal);
      }
    }
    return new long[] {maxGap, maxRecovery};
  }

  private void example(String text) {
    if (examples.size() < MAX_EXAMPLES) {
      examples.add(text);
    }
  }
}
