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
 *
 * @param createdAtMetadataIndex the metadata index of the image that made this broker create the
 *     replica: an image older than that (a broker replaying the metadata log after a restart) may
 *     not list this broker as a replica yet, and must not make it remove the replica
 */
public record PartitionDescriptor(String topic, String topicId, int partition, long createdAtMetadataIndex) {

  public PartitionDescriptor(String topic, String topicId, int partition) {
    this(topic, topicId, partition, 0);
  }

  static final String FILE = "partition.properties";

  void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Properties p = new Properties();
    p.setProperty("topic", topic);
    p.setProperty("topic.id", topicId);
    p.setProperty("partition", Integer.toString(partition));
    p.setProperty("created.at.metadata.index", Long.toString(createdAtMetadataIndex));
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
        Integer.parseInt(p.getProperty("partition")),
        Long.parseLong(p.getProperty("created.at.metadata.index", "0")));
  }
}
