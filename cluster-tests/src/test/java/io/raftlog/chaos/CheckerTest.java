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

  // ---- consumer groups (scenario 6) ------------------------------------------------------------

  private static MemberEvent.Assigned assigned(long ts, String label, int epoch, Integer... partitions) {
    return new MemberEvent.Assigned(ts, label, "id-" + label, epoch, List.of(partitions));
  }

  private static MemberEvent.Revoked revoked(long ts, String label, int epoch, Integer... partitions) {
    return new MemberEvent.Revoked(ts, label, "id-" + label, epoch, List.of(partitions));
  }

  private static MemberEvent.Processed processed(long ts, String label, int epoch, long offset) {
    return new MemberEvent.Processed(ts, label, "id-" + label, epoch, "chaos", 0, offset, "p0-" + offset);
  }

  private static MemberEvent.Committed committed(long ts, String label, int epoch, long offset) {
    return new MemberEvent.Committed(ts, label, "id-" + label, epoch, Map.of(0, offset));
  }

  private static CheckResult checkGroup(List<Event> events, List<Read> partition0, List<MemberEvent> members,
      Long finalCommitted) {
    Map<Integer, Long> committed = finalCommitted == null ? Map.of() : Map.of(0, finalCommitted);
    return Checker.check(events, Map.of(0, partition0), Map.of(0, (long) partition0.size()), List.of(),
        new Checker.GroupObservations(members, committed));
  }

  /** m0 processes 0..1 and commits 2, hands partition 0 over to m1 at the next epoch, m1 does the rest. */
  private static List<MemberEvent> cleanHandOver() {
    List<MemberEvent> m = new ArrayList<>();
    m.add(assigned(1_000, "m0", 3, 0));
    m.add(processed(1_010, "m0", 3, 0));
    m.add(processed(1_011, "m0", 3, 1));
    m.add(committed(1_020, "m0", 3, 2));
    m.add(revoked(1_030, "m0", 4, 0)); // the SDK may already report the next epoch here
    m.add(assigned(1_040, "m1", 4, 0));
    m.add(processed(1_050, "m1", 4, 2));
    m.add(committed(1_060, "m1", 4, 3));
    return m;
  }

  @Test
  void aCleanGroupRunPassesAndAppendsTheGroupCountsToTheSummaryLine() {
    CheckResult r = checkGroup(sentAndAcked(3), log("p0-0", "p0-1", "p0-2"), cleanHandOver(), 3L);
    assertTrue(r.passed(), r.toString());
    assertEquals(2, r.group().members());
    assertEquals(3, r.group().processed());
    assertEquals(0, r.group().reprocessed());
    assertEquals(2, r.group().commits());
    assertEquals("seed=6 lost=0 duplicate=0 inconsistent=0 nonmonotonic=0 mismatch=0 acked=3 max_unavailable_ms=0"
        + " unprocessed=0 double_owner=0 offset_regressions=0", r.summaryLine(6));
  }

  @Test
  void anAcknowledgedRecordNoMemberProcessedIsUnprocessed() {
    List<MemberEvent> m = new ArrayList<>(cleanHandOver());
    m.removeIf(e -> e instanceof MemberEvent.Processed p && p.offset() == 1);
    CheckResult r = checkGroup(sentAndAcked(3), log("p0-0", "p0-1", "p0-2"), m, 3L);
    assertEquals(1, r.group().unprocessed());
    assertFalse(r.passed());
    assertTrue(r.summaryLine(1).endsWith(" unprocessed=1 double_owner=0 offset_regressions=0"), r.summaryLine(1));
  }

  @Test
  void twoMembersOwningAPartitionAtTheSameEpochIsADoubleOwner() {
    List<MemberEvent> m = new ArrayList<>();
    m.add(assigned(1_000, "m0", 3, 0));
    m.add(processed(1_010, "m0", 3, 0));
    m.add(assigned(1_020, "m1", 3, 0)); // m0 never gave it up
    m.add(processed(1_030, "m1", 3, 1));
    m.add(processed(1_040, "m0", 3, 2));
    CheckResult r = checkGroup(sentAndAcked(3), log("p0-0", "p0-1", "p0-2"), m, null);
    assertEquals(1, r.group().doubleOwner());
    assertFalse(r.passed());
  }

  @Test
  void overlappingEpochRangesAreADoubleOwnerButAHandOverOrAZombieAtAnOlderEpochIsNot() {
    // m0 owns partition 0 from epoch 3 and is still processing it at epoch 5; m1 got it at 4.
    List<MemberEvent> overlap = new ArrayList<>();
    overlap.add(assigned(1_000, "m0", 3, 0));
    overlap.add(assigned(1_010, "m1", 4, 0));
    overlap.add(processed(1_020, "m0", 5, 0));
    assertEquals(1, checkGroup(sentAndAcked(1), log("p0-0"), overlap, null).group().doubleOwner());

    // m0 was expelled (still running, it keeps its epoch 3 and processes on until it learns it);
    // m1 owns the partition at epoch 4: an at-least-once repeat, not a double owner.
    List<MemberEvent> zombie = new ArrayList<>();
    zombie.add(assigned(1_000, "m0", 3, 0));
    zombie.add(assigned(1_010, "m1", 4, 0));
    zombie.add(processed(1_020, "m1", 4, 0));
    zombie.add(processed(1_021, "m0", 3, 0));
    zombie.add(new MemberEvent.Lost(1_030, "m0", "id-m0", 3, List.of(0)));
    zombie.add(committed(1_040, "m1", 4, 1));
    CheckResult r = checkGroup(sentAndAcked(1), log("p0-0"), zombie, 1L);
    assertTrue(r.passed(), r.toString());
  }

  @Test
  void processingAPartitionOneDoesNotOwnCountsAsADoubleOwner() {
    List<MemberEvent> m = new ArrayList<>(cleanHandOver());
    m.add(processed(1_070, "m0", 4, 2)); // m0 revoked partition 0 at 1_030
    CheckResult r = checkGroup(sentAndAcked(3), log("p0-0", "p0-1", "p0-2"), m, 3L);
    assertEquals(1, r.group().doubleOwner());
  }

  @Test
  void aFinalCommittedOffsetBelowASuccessfulCommitIsAnOffsetRegression() {
    CheckResult r = checkGroup(sentAndAcked(3), log("p0-0", "p0-1", "p0-2"), cleanHandOver(), 2L);
    assertEquals(1, r.group().offsetRegressions());
    CheckResult none = checkGroup(sentAndAcked(3), log("p0-0", "p0-1", "p0-2"), cleanHandOver(), null);
    assertEquals(1, none.group().offsetRegressions());
    assertFalse(none.passed());
  }

  @Test
  void aNewOwnerStartingBelowAnEarlierCommitIsAnOffsetRegressionEvenIfLaterCommitsHideIt() {
    List<MemberEvent> m = new ArrayList<>();
    m.add(assigned(1_000, "m0", 3, 0));
    m.add(processed(1_010, "m0", 3, 0));
    m.add(processed(1_011, "m0", 3, 1));
    m.add(committed(1_020, "m0", 3, 2)); // then m0 is SIGKILLed
    m.add(assigned(9_000, "m1", 5, 0));
    m.add(processed(9_010, "m1", 5, 0)); // positioned at 0: the commit of 2 was lost
    m.add(processed(9_011, "m1", 5, 1));
    m.add(processed(9_012, "m1", 5, 2));
    m.add(committed(9_020, "m1", 5, 3));
    CheckResult r = checkGroup(sentAndAcked(3), log("p0-0", "p0-1", "p0-2"), m, 3L);
    assertEquals(1, r.group().offsetRegressions());
    assertEquals(2, r.group().reprocessed());
    assertEquals(0, r.group().unprocessed());
    assertEquals(0, r.group().doubleOwner());
  }

  @Test
  void aRecordAMemberProcessedThatDisagreesWithTheFinalReadIsInconsistent() {
    List<MemberEvent> m = new ArrayList<>(cleanHandOver());
    m.add(new MemberEvent.Processed(1_055, "m1", "id-m1", 4, "chaos", 0, 1, "p0-2"));
    CheckResult r = checkGroup(sentAndAcked(3), log("p0-0", "p0-1", "p0-2"), m, 3L);
    assertEquals(1, r.inconsistent());
  }

  @Test
  void memberEventsRoundTripThroughTheirJsonLines() {
    List<MemberEvent> all = List.of(
        new MemberEvent.Started(1, "m0", "", 0, 4242),
        assigned(2, "m0", 3, 0, 5),
        revoked(3, "m0", 3, 5),
        new MemberEvent.Lost(4, "m0", "id", 3, List.of(0)),
        new MemberEvent.Processed(5, "m0", "id", 3, "chaos", 0, 17, "p1-\"quoted\"\\"),
        new MemberEvent.Committed(6, "m0", "id", 3, Map.of(0, 18L, 5, 2L)),
        new MemberEvent.CommitFailed(7, "m0", "id", 3, Map.of(0, 18L), "CommitFailedException: stale\nepoch"),
        new MemberEvent.PollFailed(8, "m0.1", "id", -1, "boom"));
    for (MemberEvent e : all) {
      assertEquals(e, MemberEvent.parse(e.toJson()), e.toJson());
    }
  }

  @Test
  void aTornLastLineIsIgnoredButATornLineInTheMiddleIsAnError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    String a = assigned(1, "m0", 3, 0).toJson();
    String p = processed(2, "m0", 3, 0).toJson();
    java.nio.file.Path torn = dir.resolve("torn.jsonl");
    java.nio.file.Files.writeString(torn, a + "\n" + p + "\n" + p.substring(0, 20));
    assertEquals(2, MemberEvent.read(torn).size());
    java.nio.file.Path bad = dir.resolve("bad.jsonl");
    java.nio.file.Files.writeString(bad, a + "\n" + p.substring(0, 20) + "\n" + p + "\n");
    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> MemberEvent.read(bad));
  }
}
