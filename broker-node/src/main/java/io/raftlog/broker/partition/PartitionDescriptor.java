package io.raftlog.broker.partition;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * Which partition a local Raft group belongs to, kept in {@code partition.properties} beside the
 * segment files. Ratis re-opens every group directory at start before metadata is known; this file
 * lets the broker build the right state machine for each.
 */
public record PartitionDescriptor(String topic, String topicId, int partition) {

  static final String FILE = "partition.properties";

  void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Properties p = new Properties();
    p.setProperty("topic", topic);
    p.setProperty("topic.id", topicId);
    p.setProperty("partition", Integer.toString(partition));
    Path tmp = dir.resolve(FILE + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      p.store(w, "Raftlog partition replica");
    }
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  static PartitionDescriptor read(Path dir) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(dir.resolve(FILE), StandardCharsets.UTF_8)) {
      p.load(r);
    }
    return new PartitionDescriptor(p.getProperty("topic"), p.getProperty("topic.id"),
        Integer.parseInt(p.getProperty("partition")));
  }
}
