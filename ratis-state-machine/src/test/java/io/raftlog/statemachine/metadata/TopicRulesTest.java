package io.raftlog.statemachine.metadata;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicRulesTest {

  @ParameterizedTest
  @ValueSource(strings = {"a", "orders", "Orders-2024_v1.0", "...", "a..b", ".hidden", "_", "-", "0", "x.y-z_W"})
  void legalNamesAreAccepted(String name) {
    assertNull(TopicRules.checkName(name));
  }

  @Test
  void nameOf249CharactersIsAcceptedAnd250IsRejected() {
    assertNull(TopicRules.checkName("a".repeat(249)));
    String problem = TopicRules.checkName("a".repeat(250));
    assertNotNull(problem);
    assertTrue(problem.contains("250") && problem.contains("249"), problem);
  }

  @Test
  void dotAndDotDotAreRejected() {
    assertTrue(TopicRules.checkName(".").contains("'.' or '..'"));
    assertTrue(TopicRules.checkName("..").contains("'.' or '..'"));
  }

  @Test
  void emptyAndNullAreRejected() {
    assertNotNull(TopicRules.checkName(""));
    assertNotNull(TopicRules.checkName(null));
  }

  @ParameterizedTest
  @ValueSource(strings = {"with space", " lead", "trail ", "tab\there", "new\nline", "slash/es", "back\\slash",
      "colon:", "star*", "tópico", "主题", "emoji😀", "a+b", "ü", "\u00a0", "a\u0000b"})
  void illegalCharactersAreRejectedWithTheName(String name) {
    String problem = TopicRules.checkName(name);
    assertNotNull(problem, name);
    assertTrue(problem.contains("illegal"), problem);
  }

  @Test
  void illegalCharacterIsNamedAndEscaped() {
    assertTrue(TopicRules.checkName("orders/eu").contains("character '/' (U+002F) at index 6"),
        TopicRules.checkName("orders/eu"));
    String problem = TopicRules.checkName("tab\there");
    assertTrue(problem.contains("'tab\\u0009here'") && problem.contains("(U+0009) at index 3"), problem);
    assertFalse(problem.contains("\t"), "no raw control characters in the message");
  }

  @Test
  void partitionCountBounds() {
    assertNotNull(TopicRules.checkPartitions(0));
    assertNotNull(TopicRules.checkPartitions(-5));
    assertNull(TopicRules.checkPartitions(1));
    assertNull(TopicRules.checkPartitions(TopicRules.MAX_PARTITIONS));
    assertNotNull(TopicRules.checkPartitions(TopicRules.MAX_PARTITIONS + 1));
  }

  @Test
  void replicationFactorBounds() {
    assertNotNull(TopicRules.checkReplicationFactor(0, 3));
    assertNull(TopicRules.checkReplicationFactor(1, 3));
    assertNull(TopicRules.checkReplicationFactor(3, 3));
    String problem = TopicRules.checkReplicationFactor(4, 3);
    assertTrue(problem.contains("4") && problem.contains("3"), problem);
    assertNotNull(TopicRules.checkReplicationFactor(1, 0));
  }
}
