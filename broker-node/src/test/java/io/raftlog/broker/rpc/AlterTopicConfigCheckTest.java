package io.raftlog.broker.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.raftlog.statemachine.metadata.TopicConfig;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The broker's checks of a requested topic config change, before anything reaches the metadata log. */
class AlterTopicConfigCheckTest {

  private static final TopicConfig.Defaults DEFAULTS = new TopicConfig.Defaults(604_800_000L, -1, 64 << 20, 604_800_000L, 1 << 20);

  private static String check(Map<String, String> set, Set<String> remove) {
    return AdminServiceImpl.checkAlteration(set, remove, DEFAULTS);
  }

  @Test
  void validChangesPass() {
    assertNull(check(Map.of("retention.ms", "86400000"), Set.of()));
    assertNull(check(Map.of(), Set.of("retention.ms", "segment.bytes")));
    assertNull(check(Map.of("max.message.bytes", "1048576", "cleanup.policy", "delete"), Set.of("retention.bytes")));
  }

  @Test
  void aChangeMustChangeSomething() {
    assertEquals("nothing to change: give at least one config to set or to remove", check(Map.of(), Set.of()));
  }

  @Test
  void aKeyMayNotBeBothSetAndRemoved() {
    assertEquals("topic config 'retention.ms' is both set and removed; do one or the other",
        check(Map.of("segment.bytes", "2048", "retention.ms", "5"), Set.of("retention.ms")));
  }

  @Test
  void valuesAndKeysAreCheckedByTopicConfig() {
    assertEquals("max.message.bytes must be a number of bytes from 1 to the broker's max.batch.bytes (1048576),"
        + " got '1048577'", check(Map.of("max.message.bytes", "1048577"), Set.of()));
    assertEquals("unknown topic config 'retention'; supported: retention.ms, retention.bytes, segment.bytes,"
        + " segment.ms, max.message.bytes, cleanup.policy, delete.retention.ms, min.cleanable.dirty.ratio,"
        + " min.compaction.lag.ms", check(Map.of("retention.ms", "5"), Set.of("retention")));
  }
}
