package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;
import org.junit.jupiter.api.Test;

class GroupIdsTest {

  @Test
  void partitionGroupIdsAreTheNameBasedUuidsEveryBrokerHasAlwaysDerived() {
    // Group ids are on disk (Raft directories) and agreed between brokers: they must never change.
    for (String topicId : new String[] {"", "ce4b348d-1587-3dbf-a27e-57bc052e5f47", "ümlaut-topic-id"}) {
      for (int partition : new int[] {0, 1, 7, 999}) {
        byte[] name = (topicId + "-" + partition).getBytes(StandardCharsets.UTF_8);
        assertEquals(UUID.nameUUIDFromBytes(name), GroupIds.nameUuid(name));
        assertEquals(RaftGroupId.valueOf(UUID.nameUUIDFromBytes(name)), GroupIds.partition(topicId, partition));
      }
    }
    assertEquals(UUID.fromString("60807cda-1977-387c-810c-b6909d0f7247"), GroupIds.METADATA.getUuid());
  }
}
