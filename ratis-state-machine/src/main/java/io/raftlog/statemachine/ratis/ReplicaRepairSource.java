package io.raftlog.statemachine.ratis;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * Where a partition replica whose segment files lost committed batches gets them back: another
 * replica of the same partition. The broker implements it with the internal {@code ReadReplicaLog}
 * RPC to the other peers of the partition's Raft group; this module knows no transport.
 *
 * <p>Called only from the repairing replica's repair thread, which checks whatever comes back
 * (CRC, contiguous offsets, exact range) before storing it: an implementation need not trust or
 * validate the bytes, only pick a replica that has the range.
 */
@FunctionalInterface
public interface ReplicaRepairSource {

  /**
   * Committed record batches of this partition exactly as another replica stores them, from a
   * replica whose high watermark is at least {@code untilOffset}: starting with the batch that
   * contains {@code fromOffset}, about {@code maxBytes} (at least one whole batch). Tries the other
   * replicas in turn; a failed call is retried by the caller after a backoff.
   *
   * @throws IOException when no other replica can serve the range right now (message says why)
   * @throws InterruptedException when the calling thread is interrupted: the replica is closing
   */
  ByteBuffer read(long fromOffset, long untilOffset, int maxBytes) throws IOException, InterruptedException;

  /** A snapshot of another replica: a {@code PartitionSnapshot} taken at a Raft term and index. */
  record SnapshotCopy(TermIndex at, byte[] content) {
  }

  /**
   * The latest snapshot of another replica (the leader first) taken at Raft index {@code minIndex}
   * or later: where a replica starts when the leader's Raft log no longer holds the entries it
   * needs (a new replica, a lost data directory). The caller checks what it gets.
   *
   * @throws IOException when no other replica has such a snapshot right now (message says why)
   * @throws InterruptedException when the calling thread is interrupted: the replica is closing
   */
  default SnapshotCopy latestSnapshot(long minIndex) throws IOException, InterruptedException {
    throw new IOException("this replica has no way to copy a snapshot from its peers");
  }
}
