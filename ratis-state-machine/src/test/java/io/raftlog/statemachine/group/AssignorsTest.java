package io.raftlog.statemachine.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AssignorsTest {

  @Test
  void defaultIsSticky() {
    assertEquals("sticky", Assignors.DEFAULT);
    assertInstanceOf(StickyAssignor.class, Assignors.byName(Assignors.DEFAULT));
  }

  @Test
  void byNameIsCaseInsensitive() {
    assertInstanceOf(RangeAssignor.class, Assignors.byName("range"));
    assertInstanceOf(RangeAssignor.class, Assignors.byName("RANGE"));
    assertInstanceOf(RoundRobinAssignor.class, Assignors.byName("RoundRobin"));
    assertInstanceOf(StickyAssignor.class, Assignors.byName("Sticky"));
    assertSame(Assignors.byName("sticky"), Assignors.byName("STICKY"));
  }

  @Test
  void unknownNameListsTheValidOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Assignors.byName("foo"));
    assertEquals("unknown assignor 'foo'; use one of: range, roundrobin, sticky", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Assignors.byName(""));
    assertThrows(IllegalArgumentException.class, () -> Assignors.byName(null));
    assertThrows(IllegalArgumentException.class, () -> Assignors.byName("round-robin"));
  }

  @Test
  void isKnown() {
    assertTrue(Assignors.isKnown("range"));
    assertTrue(Assignors.isKnown("ROUNDROBIN"));
    assertTrue(Assignors.isKnown("sticky"));
    assertFalse(Assignors.isKnown("cooperative-sticky"));
    assertFalse(Assignors.isKnown(""));
    assertFalse(Assignors.isKnown(null));
  }

  @Test
  void namesAreSortedAndMatchTheAssignors() {
    assertEquals(List.of("range", "roundrobin", "sticky"), Assignors.names());
    for (String name : Assignors.names()) {
      assertEquals(name, Assignors.byName(name).name());
    }
  }

  @Test
  void chooseTakesTheMajority() {
    assertEquals("range", Assignors.choose(List.of("range", "sticky", "range")));
    assertEquals("roundrobin", Assignors.choose(List.of("roundrobin")));
    assertEquals("range", Assignors.choose(List.of("RANGE", "Range", "sticky")), "votes are case-insensitive");
  }

  @Test
  void chooseBreaksTiesAlphabetically() {
    assertEquals("range", Assignors.choose(List.of("sticky", "roundrobin", "range")));
    assertEquals("roundrobin", Assignors.choose(List.of("sticky", "roundrobin")));
    assertEquals("range", Assignors.choose(List.of("roundrobin", "range", "range", "roundrobin")));
  }

  @Test
  void unknownAndEmptyPreferencesVoteForTheDefault() {
    assertEquals("sticky", Assignors.choose(Arrays.asList("foo", "", null, "range", "range")));
    assertEquals("range", Assignors.choose(List.of("foo", "range", "range")));
    // one unknown vote (sticky) ties with one range vote; range is first alphabetically
    assertEquals("range", Assignors.choose(List.of("foo", "range")));
    assertEquals("sticky", Assignors.choose(List.of("foo", "bar")));
  }

  @Test
  void chooseWithNoMembersIsTheDefault() {
    assertEquals(Assignors.DEFAULT, Assignors.choose(List.of()));
  }
}
