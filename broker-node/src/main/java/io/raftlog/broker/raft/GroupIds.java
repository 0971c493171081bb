package io.raftlog.broker.raft;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Deterministic Raft ids: every broker derives the same group id for a partition, and peer ids
 * are broker ids. Partition groups are keyed by topic id (not name) so that a topic deleted and
 * created again gets fresh groups.
 */
public final class GroupIds {

  public static final RaftGroupId METADATA =
      RaftGroupId.valueOf(UUID.nameUUIDFromBytes("raftlog-metadata".getBytes(StandardCharsets.UTF_8)));

  private GroupIds() {}

  public static RaftGroupId partition(String topicId, int partition) {
    return RaftGroupId.valueOf(UUID.nameUUIDFromBytes((topicId + "-" + partition).getBytes(StandardCharsets.UTF_8)));
  }

  public static RaftPeerId peerId(int brokerId) {
    return RaftPeerId.valueOf(Integer.toString(brokerId));
  }

  /** The broker id of a peer, or -1 for null. */
  public static int brokerId(RaftPeerId peerId) {
    return peerId == null ? -1 : Integer.parseInt(peerId.toString());
  }
}
