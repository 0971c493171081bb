package io.raftlog.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.chaos.Event.Ack;
import io.raftlog.chaos.Event.Nemesis;
import io.raftlog.chaos.Event.Phase;
import io.raftlog.chaos.Event.Poll;
import io.raftlog.chaos.Event.Read;
import io.raftlog.chaos.Event.Send;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckerTest {

  /** Producer 0 sends seq 0..n-1 to partition 0, each acknowledged at offset = seq. */
  private static List<Event> sentAndAcked(int n) {
    List<Event> events = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      events.add(new Send(s * 10L, 0, s, 0, "p0-" + s));
      events.add(new Ack(s * 10L + 5, 0, s, 0, s, "p0-" + s));
    }
    return events;
  }

  private static List<Read> log(String... values) {
    List<Read> reads = new ArrayList<>();
    for (int o = 0; o < values.length; o++) {
      reads.add(new Read(0, o, values[o]));
    }
    return reads;
  }

  private static CheckResult check(List<Event> events, List<Read> partition0) {
    return Checker.check(events, Map.of(0, partition0), Map.of(0, (long) partition0.size()), List.of());
  }

  @Test
  void aCleanRunPasses() {
    List<Event> events = sentAndAcked(3);
    events.add(new Poll(100, 0, log("p0-0", "p0-1")));
    events.add(new Poll(110, 0, List.of(new Read(0, 2, "p0-2"))));
    CheckResult r = check(events, log("p0-0", "p0-1", "p0-2"));
    assertTrue(r.passed(), r.toString());
    assertEquals(3, r.acked());
  }

  @Test
  void anAcknowledgedRecordMissingFromTheLogIsLost() {
    CheckResult r = check(sentAndAcked(3), log("p0-0", "p0-1"));
    assertEquals(1, r.lost());
    assertFalse(r.passed());
  }

  @Test
  void aFailedSendMissingFromTheLogIsNotLost() {
    List<Event> events = sentAndAcked(2);
    events.add(new Send(50, 0, 2, 0, "p0-2"));
    events.add(new Event.Fail(60, 0, 2, 0, "p0-2", "timeout"));
    CheckResult r = check(events, log("p0-0", "p0-1"));
    assertTrue(r.passed(), r.toString());
    assertEquals(1, r.failed());
  }

  @Test
  void aValueAtTwoOffsetsIsADuplicate() {
    CheckResult r = check(sentAndAcked(2), log("p0-0", "p0-1", "p0-1"));
    assertEquals(1, r.duplicate());
  }

  @Test
  void aRecordAtAnotherOffsetThanAcknowledgedIsAMismatch() {
    List<Event> events = new ArrayList<>();
    events.add(new Send(0, 0, 0, 0, "p0-0"));
    events.add(new Send(1, 0, 1, 0, "p0-1"));
    events.add(new Ack(5, 0, 0, 0, 0, "p0-0"));
    events.add(new Ack(6, 0, 1, 0, 5, "p0-1"));
    CheckResult r = check(events, log("p0-0", "p0-1"));
    assertEquals(1, r.mismatch());
    assertEquals(0, r.lost());
  }

  @Test
  void aConsumerGoingBackOrSkippingIsNonMonotonic() {
    List<Event> events = sentAndAcked(4);
    events.add(new Poll(100, 0, log("p0-0", "p0-1")));
    events.add(new Poll(110, 0, List.of(new Read(0, 1, "p0-1")))); // back
    events.add(new Poll(120, 1, List.of(new Read(0, 0, "p0-0"), new Read(0, 3, "p0-3")))); // skip
    CheckResult r = check(events, log("p0-0", "p0-1", "p0-2", "p0-3"));
    assertEquals(2, r.nonmonotonic());
  }

  @Test
  void aConsumerReadThatDisagreesWithTheFinalReadIsInconsistent() {
    List<Event> events = sentAndAcked(2);
    events.add(new Send(30, 1, 0, 0, "p1-0"));
    events.add(new Poll(100, 0, log("p0-0", "p1-0"))); // read p1-0 at offset 1, later replaced
    events.add(new Poll(101, 1, List.of(new Read(0, 7, "p1-0")))); // beyond the final end offset
    CheckResult r = check(events, log("p0-0", "p0-1"));
    assertEquals(2, r.inconsistent());
  }

  @Test
  void aValueNoProducerSentIsInconsistent() {
    CheckResult r = check(sentAndAcked(1), log("p0-0", "garbage"));
    assertEquals(1, r.inconsistent());
  }

  @Test
  void oneProducersRecordsOutOfSendOrderAreNonMonotonic() {
    CheckResult r = check(sentAndAcked(0), List.of());
    assertTrue(r.passed());
    List<Event> events = new ArrayList<>();
    events.add(new Send(0, 0, 0, 0, "p0-0"));
    events.add(new Send(1, 0, 1, 0, "p0-1"));
    CheckResult reordered = check(events, log("p0-1", "p0-0"));
    assertEquals(1, reordered.nonmonotonic());
  }

  @Test
  void replicaProblemsCountAsInconsistent() {
    CheckResult r = Checker.check(sentAndAcked(1), Map.of(0, log("p0-0")), Map.of(0, 1L),
        List.of("partition 0: replicas on brokers 1 and 2 differ at byte 70"));
    assertEquals(1, r.inconsistent());
    assertTrue(r.examples().get(0).contains("differ"));
  }

  @Test
  void unavailabilityIsTheLongestGapWithoutAnAckOnOnePartitionAfterTheFirstFault() {
    List<Event> events = new ArrayList<>();
    events.add(new Ack(100, 0, 0, 0, 0, "a"));
    events.add(new Ack(150, 0, 1, 1, 0, "b"));
    events.add(new Nemesis(1_000, false, "kill-leader", "SIGKILL broker 1"));
    events.add(new Ack(1_100, 0, 2, 1, 1, "c"));
    events.add(new Ack(1_900, 0, 3, 0, 1, "d")); // partition 0: 900 ms after the fault
    events.add(new Nemesis(2_000, true, "kill-leader", "restarted broker 1"));
    events.add(new Ack(2_050, 0, 4, 0, 2, "e"));
    events.add(new Ack(2_300, 0, 5, 1, 2, "f")); // partition 1: 1200 ms gap, 300 ms after the heal
    events.add(new Phase(2_400, "workload-end", ""));
    long[] a = Checker.availability(events, java.util.Set.of(0, 1));
    assertEquals(1_200, a[0]);
    assertEquals(300, a[1]);
  }

  @Test
  void theSummaryLineHasTheAgreedFormat() {
    CheckResult r = new CheckResult(1, 2, 3, 4, 5, 6, 0, 7, 0, List.of());
    assertEquals("seed=42 lost=1 duplicate=2 inconsistent=3 nonmonotonic=4 mismatch=5 acked=6 max_unavailable_ms=7",
        r.summaryLine(42));
  }
}
