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
    return new Checker().run(events, finalRead, finalEnds, replicaProblems, null);
  }

  /**
   * What the consumer-group members reported and what the group had committed at the end.
   *
   * @param members every member process's output ({@link MemberEvent}), each process's lines in the
   *     order it wrote them (processes may be interleaved)
   * @param finalCommitted the group's committed offset of each partition after the members stopped
   *     (a partition without one is absent)
   */
  public record GroupObservations(List<MemberEvent> members, Map<Integer, Long> finalCommitted) {}

  /** As {@link #check(List, Map, Map, List)}, plus the consumer-group checks when {@code group} is not null. */
  public static CheckResult check(List<Event> events, Map<Integer, List<Read>> finalRead, Map<Integer, Long> finalEnds,
      List<String> replicaProblems, GroupObservations group) {
    return new Checker().run(events, finalRead, finalEnds, replicaProblems, group);
  }

  private CheckResult run(List<Event> events, Map<Integer, List<Read>> finalRead, Map<Integer, Long> finalEnds,
      List<String> replicaProblems, GroupObservations group) {
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
    CheckResult.GroupCounts groupCounts = group == null ? null : checkGroup(events, group, at, finalEnds);
    long[] availability = availability(events, finalRead.keySet());
    return new CheckResult(lost, duplicate, inconsistent, nonmonotonic, mismatch, acked, failed, availability[0],
        availability[1], List.copyOf(examples), groupCounts);
  }

  /** One member process's uninterrupted ownership of one partition: from "assigned" to "revoked", "lost" or its end. */
  private static final class Holding {
    final String label;
    final String memberId;
    final int partition;
    final long assignedTs;
    long endTs;
    int loEpoch = Integer.MAX_VALUE;
    int hiEpoch = Integer.MIN_VALUE;
    long firstOffset = -1;
    String end = "its last line (killed or stopped)";

    Holding(String label, String memberId, int partition, long assignedTs) {
      this.label = label;
      this.memberId = memberId;
      this.partition = partition;
      this.assignedTs = assignedTs;
      this.endTs = assignedTs;
    }

    void saw(int epoch, long ts) {
      if (epoch > 0) {
        loEpoch = Math.min(loEpoch, epoch);
        hiEpoch = Math.max(hiEpoch, epoch);
      }
      endTs = Math.max(endTs, ts);
    }

    boolean overlaps(Holding o) {
      return loEpoch <= hiEpoch && o.loEpoch <= o.hiEpoch && loEpoch <= o.hiEpoch && o.loEpoch <= hiEpoch;
    }

    String describe() {
      return label + " (member " + memberId + ") at epochs " + (loEpoch <= hiEpoch ? loEpoch + ".." + hiEpoch : "?")
          + " from ts " + assignedTs + " to " + end;
    }
  }

  /**
   * The consumer-group checks (scenario 6).
   *
   * <p><b>unprocessed</b> (at-least-once): an acknowledged record that no member reported
   * processing.
   *
   * <p><b>double_owner</b>: two member processes owned the same partition at the same member
   * epoch. A process owns a partition from its "assigned" line until its "revoked" or "lost" line
   * for it, or its last line (it was killed or stopped); the epochs of that ownership are the
   * member epochs of the lines it wrote meanwhile that show it holding the partition: the
   * "assigned" line and every "processed" and "committed" line (the epoch of the "revoked"/"lost"
   * line is not counted: the callback runs while the partition is given up). Two ownerships of one
   * partition by different processes whose epoch ranges [lowest, highest] intersect are one
   * anomaly. The coordinator hands a partition to a new owner only at an epoch above the ones at
   * which its previous owner held it (KIP-848 style), and a member expelled while still running
   * keeps its old epoch, so ranges never intersect in a correct run. A member processing records
   * of a partition it does not own counts too.
   *
   * <p><b>offset_regressions</b> ("committed offsets survive"): a successful commitSync of offset O
   * for partition P is durable: the committed offset of P must never again be below O. In a
   * correct run the committed offset of a partition only moves forward (each commit comes from the
   * partition's current owner, which started at the committed offset and moves forward; a stale
   * owner's commit is refused), so the largest offset ever committed successfully for P is also
   * the last one, and two things are checked against it: (1) the group's final committed offset of
   * P must be at least the largest offset any member saw commitSync succeed for; (2) a member that
   * is assigned P must start processing P at or above every offset committed successfully for P
   * before (by the members' common wall clock) its "assigned" line: starting below means the
   * committed offset it was positioned at had lost a commit, even if later commits hid it.
   */
  private CheckResult.GroupCounts checkGroup(List<Event> events, GroupObservations group,
      Map<Integer, Map<Long, String>> at, Map<Integer, Long> finalEnds) {
    long unprocessed = 0;
    long doubleOwner = 0;
    long offsetRegressions = 0;
    long processedCount = 0;
    long commits = 0;

    Map<String, List<MemberEvent>> byLabel = new java.util.LinkedHashMap<>();
    java.util.Set<String> processedValues = new java.util.HashSet<>();
    for (MemberEvent m : group.members()) {
      byLabel.computeIfAbsent(m.label(), l -> new ArrayList<>()).add(m);
      if (m instanceof MemberEvent.Processed p) {
        processedCount++;
        processedValues.add(p.value());
        String stored = at.getOrDefault(p.partition(), Map.of()).get(p.offset());
        if (stored == null) {
          if (p.offset() >= finalEnds.getOrDefault(p.partition(), 0L)) {
            inconsistent++;
            example("group member " + p.label() + " processed " + p.value() + " at partition " + p.partition()
                + " offset " + p.offset() + ", beyond the final end offset " + finalEnds.get(p.partition()));
          }
        } else if (!stored.equals(p.value())) {
          inconsistent++;
          example("group member " + p.label() + " processed " + p.value() + " at partition " + p.partition()
              + " offset " + p.offset() + " but the final read has " + stored + " there");
        }
      } else if (m instanceof MemberEvent.Committed) {
        commits++;
      }
    }

    // unprocessed: at-least-once
    for (Event e : events) {
      if (e instanceof Ack a && !processedValues.contains(a.value())) {
        unprocessed++;
        example("acknowledged " + a.value() + " (partition " + a.partition() + " offset " + a.offset()
            + ") was processed by no group member");
      }
    }

    // Ownerships, per process.
    Map<Integer, List<Holding>> holdings = new TreeMap<>();
    for (List<MemberEvent> lines : byLabel.values()) {
      Map<Integer, Holding> open = new TreeMap<>();
      for (MemberEvent m : lines) {
        if (m instanceof MemberEvent.Assigned a) {
          for (int p : a.partitions()) {
            open.computeIfAbsent(p, q -> {
              Holding h = new Holding(a.label(), a.memberId(), q, a.ts());
              holdings.computeIfAbsent(q, x -> new ArrayList<>()).add(h);
              return h;
            });
          }
          open.values().forEach(h -> h.saw(a.memberEpoch(), a.ts()));
        } else if (m instanceof MemberEvent.Revoked r) {
          close(open, r.partitions(), r.ts(), "revoked at ts " + r.ts());
        } else if (m instanceof MemberEvent.Lost l) {
          close(open, l.partitions(), l.ts(), "lost at ts " + l.ts());
        } else if (m instanceof MemberEvent.Processed p) {
          Holding h = open.get(p.partition());
          if (h == null) {
            doubleOwner++;
            example("group member " + p.label() + " processed partition " + p.partition() + " offset " + p.offset()
                + " at epoch " + p.memberEpoch() + " without owning the partition");
          } else if (h.firstOffset < 0) {
            h.firstOffset = p.offset();
          }
          open.values().forEach(x -> x.saw(p.memberEpoch(), p.ts()));
        } else if (m instanceof MemberEvent.Committed c) {
          open.values().forEach(x -> x.saw(c.memberEpoch(), c.ts()));
        }
      }
    }
    for (Map.Entry<Integer, List<Holding>> e : holdings.entrySet()) {
      List<Holding> list = e.getValue();
      for (int i = 0; i < list.size(); i++) {
        for (int j = i + 1; j < list.size(); j++) {
          Holding a = list.get(i);
          Holding b = list.get(j);
          if (!a.label.equals(b.label) && a.overlaps(b)) {
            doubleOwner++;
            example("partition " + e.getKey() + " owned by two members at the same epoch: " + a.describe() + "; "
                + b.describe());
          }
        }
      }
    }

    // offset_regressions
    Map<Integer, Long> maxCommitted = new TreeMap<>();
    Map<Integer, String> maxCommitter = new HashMap<>();
    List<MemberEvent.Committed> committedLines = new ArrayList<>();
    for (MemberEvent m : group.members()) {
      if (m instanceof MemberEvent.Committed c) {
        committedLines.add(c);
        c.offsets().forEach((p, o) -> {
          if (o > maxCommitted.getOrDefault(p, -1L)) {
            maxCommitted.put(p, o);
            maxCommitter.put(p, c.label() + " at ts " + c.ts());
          }
        });
      }
    }
    for (Map.Entry<Integer, Long> e : maxCommitted.entrySet()) {
      Long last = group.finalCommitted().get(e.getKey());
      if (last == null || last < e.getValue()) {
        offsetRegressions++;
        example("partition " + e.getKey() + ": the group's final committed offset is " + (last == null ? "none" : last)
            + " but " + maxCommitter.get(e.getKey()) + " saw offset " + e.getValue() + " committed");
      }
    }
    for (List<Holding> list : holdings.values()) {
      for (Holding h : list) {
        if (h.firstOffset < 0) {
          continue;
        }
        long before = -1;
        String by = null;
        for (MemberEvent.Committed c : committedLines) {
          Long o = c.offsets().get(h.partition);
          if (o != null && c.ts() < h.assignedTs && o > before) {
            before = o;
            by = c.label() + " at ts " + c.ts();
          }
        }
        if (h.firstOffset < before) {
          offsetRegressions++;
          example("partition " + h.partition + ": " + h.label + ", assigned it at ts " + h.assignedTs
              + ", started processing at offset " + h.firstOffset + " although " + by + " had committed " + before);
        }
      }
    }
    return new CheckResult.GroupCounts(byLabel.size(), processedCount, processedCount - processedValues.size(), commits,
        unprocessed, doubleOwner, offsetRegressions);
  }

  private static void close(Map<Integer, Holding> open, List<Integer> partitions, long ts, String how) {
    for (int p : partitions) {
      Holding h = open.remove(p);
      if (h != null) {
        h.endTs = Math.max(h.endTs, ts);
        h.end = how;
      }
    }
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
