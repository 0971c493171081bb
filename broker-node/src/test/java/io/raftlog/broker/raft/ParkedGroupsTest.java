package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.apache.ratis.protocol.RaftGroupId;
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
