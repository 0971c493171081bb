package org.apache.ratis.util;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * Raftlog's replacement for Ratis 3.2.2's class of the same name: the same CRC-32C values through
 * {@link CRC32C} (the CPU's CRC instruction) instead of Ratis' table-driven Java loop.
 *
 * <p>Why: Ratis checksums every byte it writes to and reads from its Raft log with this class
 * (hard-coded in {@code SegmentedRaftLogOutputStream} and {@code SegmentedRaftLogReader}, no
 * setting chooses another), and record batches travel in Raft log entries: in a 1 KiB acks=all
 * profile the loop took ~12% of broker CPU (docs/benchmarks.md). The checksum written is
 * identical, so Raft logs written by either class read back with the other.
 *
 * <p>How it takes effect: it shadows Ratis' class, so it must come before {@code ratis-common} on
 * the class path. {@code scripts/cluster.sh} puts the broker jar first ({@code -cp
 * broker.jar:lib/*}); Maven puts a module's own classes first. The broker warns at start when
 * Ratis' own class won ({@code raft.RaftLogChecksum}). {@code PureJavaCrc32CTest}
 * compares this class with Ratis' original, loaded from its jar, on random input, so an upgrade of
 * Ratis that changes the class's contract fails the build instead of the log.
 *
 * <p>Not thread-safe, like the original: one instance per stream.
 */
public class PureJavaCrc32C implements Checksum {

  private final CRC32C crc = new CRC32C();

  public PureJavaCrc32C() {
    // same constructor as Ratis' class
  }

  @Override
  public long getValue() {
    return crc.getValue();
  }

  @Override
  public void reset() {
    crc.reset();
  }

  @Override
  public void update(byte[] b, int offset, int len) {
    crc.update(b, offset, len);
  }

  /**
   * Like Ratis' original: checksums the bytes between position and limit without moving the
   * position, and leaves the buffer in little-endian order (the original sets it so to read longs).
   */
  @Override
  public void update(ByteBuffer buffer) {
    buffer.order(ByteOrder.LITTLE_ENDIAN);
    crc.update(buffer.duplicate());
  }

  @Override
  public final void update(int b) {
    crc.update(b);
  }
}
