package io.raftlog.statemachine.ratis;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.io.MD5Hash;

/** Writes and reads single-file snapshots atomically, with Ratis' MD5 side file. */
final class SnapshotFiles {

  private SnapshotFiles() {}

  static void write(SimpleStateMachineStorage storage, TermIndex at, byte[] content) throws IOException {
    File file = storage.getSnapshotFile(at.getTerm(), at.getIndex());
    Path tmp = file.toPath().resolveSibling(file.getName() + ".tmp");
    Files.write(tmp, content, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    Files.move(tmp, file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    // Ratis' MD5 side file, written durably too: a torn .md5 would make the snapshot unreadable.
    MD5Hash md5 = MD5FileUtil.computeMd5ForFile(file);
    File md5File = MD5FileUtil.getDigestFileForFile(file);
    Path md5Tmp = md5File.toPath().resolveSibling(md5File.getName() + ".tmp");
    Files.write(md5Tmp, (md5 + " *" + file.getName() + "\n").getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE,
        StandardOpenOption.SYNC);
    Files.move(md5Tmp, md5File.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    // The renames must be durable before the Raft log is purged behind this snapshot.
    syncDirectory(file.toPath().getParent());
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), at));
  }

  private static void syncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** The latest snapshot's content, verified against its MD5, or null when there is none. */
  static byte[] readLatest(SimpleStateMachineStorage storage) throws IOException {
    SingleFileSnapshotInfo info = storage.getLatestSnapshot();
    if (info == null) {
      return null;
    }
    File file = info.getFile().getPath().toFile();
    if (info.getFile().getFileDigest() != null) {
      MD5FileUtil.verifySavedMD5(file, info.getFile().getFileDigest());
    }
    return Files.readAllBytes(file.toPath());
  }

  static TermIndex latestTermIndex(SimpleStateMachineStorage storage) {
    SingleFileSnapshotInfo info = storage.getLatestSnapshot();
    return info == null ? null : info.getTermIndex();
  }
}
