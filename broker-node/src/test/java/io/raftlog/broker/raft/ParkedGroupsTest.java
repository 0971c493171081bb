package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.MetadataProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.raftlog.segmented.SegmentedRaftLogOutputStream;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which Raft group directories are set aside before Ratis loads them ({@link RaftHost#parkGroupsWithoutMembers}). */
class ParkedGroupsTest {

  @TempDir
  Path dir;

  private Path group(UUID id, String... files) throws Exception {
    Path current = Files.createDirectories(dir.resolve("raft").resolve(id.toString()).resolve("current"));
    for (String f : files) {
      Files.write(current.resolve(f), new byte[] {1});
    }
    return current.getParent();
  }

  @Test
  void onlyGroupsWithNeitherMembershipNorLogAreSetAside() throws Exception {
    // A log file that is not a Ratis segment at all (one byte) is left to Ratis as it is.
    UUID termOnly = UUID.randomUUID();
    UUID withConf = UUID.randomUUID();
    UUID withLog = UUID.randomUUID();
    group(termOnly, "raft-meta");
    group(withConf, "raft-meta", "raft-meta.conf");
    group(withLog, "raft-meta", "log_inprogress_0");
    Files.createDirectories(dir.resolve("raft").resolve("not-a-group"));

    List<RaftGroupId> parked = RaftHost.parkGroupsWithoutMembers(dir.resolve("raft"), dir.resolve("raft-parked"));

    assertEquals(List.of(RaftGroupId.valueOf(termOnly)), parked);
    assertTrue(Files.exists(dir.resolve("raft-parked").resolve(termOnly.toString()).resolve("current/raft-meta")),
        "moved with its term and vote");
    assertFalse(Files.exists(dir.resolve("raft").resolve(termOnly.toString())));
    assertTrue(Files.exists(dir.resolve("raft").resolve(withConf.toString())));
    assertTrue(Files.exists(dir.resolve("raft").resolve(withLog.toString())));
    assertTrue(Files.exists(dir.resolve("raft").resolve("not-a-group")));
  }

  /**
   * An open segment with no configuration entry in it gives Ratis no members either: zeros only
   * (preallocated, then SIGKILLed before the first entry reached the file), a header only, or
   * entries of another kind. A torn entry after a configuration entry does not hide it.
   */
  @Test
  void aLogWithoutAConfigurationEntryCountsAsNoMembership() throws Exception {
    UUID zeros = UUID.randomUUID();
    UUID headerOnly = UUID.randomUUID();
    UUID noConf = UUID.randomUUID();
    UUID conf = UUID.randomUUID();
    UUID confThenTorn = UUID.randomUUID();
    Files.write(group(zeros, "raft-meta").resolve("current/log_inprogress_0"), new byte[64 * 1024]);
    writeSegment(group(headerOnly, "raft-meta"), "log_inprogress_0");
    writeSegment(group(noConf, "raft-meta"), "log_inprogress_0", metadataEntry(0), metadataEntry(1));
    writeSegment(group(conf, "raft-meta"), "log_0-1", confEntry(0), metadataEntry(1));
    Path torn = writeSegment(group(confThenTorn, "raft-meta"), "log_inprogress_0", confEntry(0), metadataEntry(1));
    byte[] bytes = Files.readAllBytes(torn);
    Files.write(torn, Arrays.copyOf(bytes, bytes.length - 3));
    // The first entry cut short, then the preallocated zeros (a power loss, not a SIGKILL: a kill
    // does not tear a write call).
    UUID tornFirst = UUID.randomUUID();
    Path first = writeSegment(group(tornFirst, "raft-meta"), "log_inprogress_0", confEntry(0));
    bytes = Files.readAllBytes(first);
    Files.write(first, Arrays.copyOf(Arrays.copyOf(bytes, 8 + 5), 64 * 1024));

    List<RaftGroupId> parked = RaftHost.parkGroupsWithoutMembers(dir.resolve("raft"), dir.resolve("raft-parked"));

    assertEquals(Set.of(RaftGroupId.valueOf(zeros), RaftGroupId.valueOf(headerOnly), RaftGroupId.valueOf(noConf)),
        Set.copyOf(parked));
    assertTrue(Files.exists(dir.resolve("raft").resolve(conf.toString())));
    assertTrue(Files.exists(dir.resolve("raft").resolve(confThenTorn.toString())));
    // Ratis' reader fails on it (checksum): left to Ratis as it is rather than set aside on a guess.
    assertTrue(Files.exists(dir.resolve("raft").resolve(tornFirst.toString())));
  }

  private static Path writeSegment(Path group, String name, LogEntryProto... entries) throws Exception {
    Path file = group.resolve("current").resolve(name);
    try (SegmentedRaftLogOutputStream out = new SegmentedRaftLogOutputStream(file.toFile(), false,
        8 * 1024 * 1024, 64 * 1024, ByteBuffer.allocateDirect(64 * 1024))) {
      for (LogEntryProto e : entries) {
        out.write(e);
      }
      out.flush();
    }
    return file;
  }

  private static LogEntryProto confEntry(long index) {
    RaftPeerProto peer = RaftPeerProto.newBuilder().setId(ByteString.copyFromUtf8("1")).setAddress("127.0.0.1:1").build();
    return LogEntryProto.newBuilder().setTerm(1).setIndex(index)
        .setConfigurationEntry(RaftConfigurationProto.newBuilder().addPeers(peer)).build();
  }

  private static LogEntryProto metadataEntry(long index) {
    return LogEntryProto.newBuilder().setTerm(1).setIndex(index)
        .setMetadataEntry(MetadataProto.newBuilder().setCommitIndex(index)).build();
  }

  @Test
  void aNewerDirectoryReplacesAnOlderParkedOne() throws Exception {
    UUID id = UUID.randomUUID();
    Path older = Files.createDirectories(dir.resolve("raft-parked").resolve(id.toString()).resolve("current"));
    Files.write(older.resolve("stale"), new byte[] {1});
    group(id, "raft-meta");
    RaftHost.parkGroupsWithoutMembers(dir.resolve("raft"), dir.resolve("raft-parked"));
    assertFalse(Files.exists(older.resolve("stale")));
    assertTrue(Files.exists(older.resolve("raft-meta")));
    assertEquals(List.of(), RaftHost.parkGroupsWithoutMembers(dir.resolve("nothing"), dir.resolve("raft-parked")));
  }
}
