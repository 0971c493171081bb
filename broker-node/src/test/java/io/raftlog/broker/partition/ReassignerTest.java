package io.raftlog.broker.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ReassignerTest {

  @Test
  void growStepsAddFewerPeersThanTheyKeepAsRatisRequires() {
    // One member may take one new peer; two members one; three members two.
    assertEquals(List.of(2, 1), Reassigner.grow(set(1), List.of(2, 3, 4)));
    assertEquals(List.of(2, 1), Reassigner.grow(set(1), List.of(2, 3)));
    assertEquals(List.of(2, 3, 1), Reassigner.grow(set(2, 3), List.of(2, 3, 1, 4)));
    assertEquals(List.of(4, 2, 3, 1), Reassigner.grow(set(1, 2, 3), List.of(4, 2, 3)));
    assertEquals(List.of(4, 5, 3, 1, 2), Reassigner.grow(set(1, 2, 3), List.of(4, 5, 3)));
    assertEquals(List.of(4, 5, 1, 2, 3), Reassigner.grow(set(1, 2, 3), List.of(4, 5, 6)));
  }

  private static Set<Integer> set(Integer... ids) {
    return new TreeSet<>(List.of(ids));
  }
}
