package io.raftlog.statemachine.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicConfigTest {

  private static final TopicConfig.Defaults DEFAULTS =
      new TopicConfig.Defaults(604_800_000L, -1, 64 << 20, 604_800_000L, 1 << 20);

  @Test
  void cleanupPoliciesAreNormalizedAndTellWhatApplies() {
    assertEquals("delete", TopicConfig.normalizedPolicy("delete"));
    assertEquals("compact", TopicConfig.normalizedPolicy(" compact "));
    assertEquals("compact,delete", TopicConfig.normalizedPolicy("delete, compact"));
    assertNull(TopicConfig.normalizedPolicy("compact,compact"));
    assertNull(TopicConfig.normalizedPolicy("compact,"));
    assertNull(TopicConfig.normalizedPolicy("shrink"));

    TopicConfig byDefault = TopicConfig.resolve(Map.of(), DEFAULTS);
    assertTrue(byDefault.deletes());
    assertFalse(byDefault.compacts());
    TopicConfig compacted = TopicConfig.resolve(Map.of("cleanup.policy", "compact"), DEFAULTS);
    assertFalse(compacted.deletes(), "retention does not apply to compact alone");
    assertTrue(compacted.compacts());
    TopicConfig both = TopicConfig.resolve(Map.of("cleanup.policy", "delete,compact"), DEFAULTS);
    assertTrue(both.deletes() && both.compacts());
    assertEquals("compact,delete", both.asMap().get("cleanup.policy"));
  }

  @Test
  void compactionKeysAreCheckedAndResolvedWithKafkasDefaults() {
    assertNull(TopicConfig.check(Map.of("delete.retention.ms", "0", "min.cleanable.dirty.ratio", "0.25",
        "min.compaction.lag.ms", "60000", "cleanup.policy", "compact"), DEFAULTS));
    assertEquals("min.cleanable.dirty.ratio must be a number from 0 to 1, got '2'",
        TopicConfig.check(Map.of("min.cleanable.dirty.ratio", "2"), DEFAULTS));
    assertEquals("delete.retention.ms must be a non-negative number of milliseconds, got '-1'",
        TopicConfig.check(Map.of("delete.retention.ms", "-1"), DEFAULTS));
    assertEquals("cleanup.policy must be 'delete', 'compact' or 'compact,delete', got 'none'",
        TopicConfig.check(Map.of("cleanup.policy", "none"), DEFAULTS));

    TopicConfig defaults = TopicConfig.resolve(Map.of(), DEFAULTS);
    assertEquals(86_400_000L, defaults.deleteRetentionMs());
    assertEquals(0.5, defaults.minCleanableDirtyRatio());
    assertEquals(0, defaults.minCompactionLagMs());
    TopicConfig set = TopicConfig.resolve(Map.of("min.cleanable.dirty.ratio", "0.1", "min.compaction.lag.ms", "5"),
        DEFAULTS);
    assertEquals(0.1, set.minCleanableDirtyRatio());
    assertEquals(5, set.minCompactionLagMs());
    assertEquals("0.1", set.asMap().get("min.cleanable.dirty.ratio"));
  }
}
