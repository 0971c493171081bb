package io.raftlog.broker.raft;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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

  /**
   * One MD5 per thread: {@link UUID#nameUUIDFromBytes} looks the algorithm up in the security
   * providers on every call, and a partition's group id is derived on every produce and fetch.
   */
  private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is required of every Java platform", e);
    }
  });

  private GroupIds() {}

  public static RaftGroupId partition(String topicId, int partition) {
    return RaftGroupId.valueOf(nameUuid((topicId + "-" + partition).getBytes(StandardCharsets.UTF_8)));
  }

  /** Exactly {@link UUID#nameUUIDFromBytes} (a version 3 UUID), without the provider lookup. */
  static UUID nameUuid(byte[] name) {
    byte[] md5 = MD5.get().digest(name);
    md5[6] &= 0x0f; // version 3
    md5[6] |= 0x30;
    md5[8] &= 0x3f; // IETF variant
    md5[8] |= (byte) 0x80;
    ByteBuffer b = ByteBuffer.wrap(md5);
    return new UUID(b.getLong(), b.getLong());
  }

  public static RaftPeerId peerId(int brokerId) {
    return RaftPeerId.valueOf(Integer.toString(brokerId));
  }

  /** The broker id of a peer, or -1 for null. */
  public static int brokerId(RaftPeerId peerId) {
    return peerId == null ? -1 : Integer.parseInt(peerId.toString());
  }
}
