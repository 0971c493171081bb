package io.raftlog.broker.group;

import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.statemachine.group.ConsumerGroups;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** What the coordinator needs from its broker; a fake in tests. */
public interface GroupHost {

  /**
   * True when this broker leads the metadata group and has applied every entry committed before
   * its term, so its group state is current.
   */
  boolean isCoordinator();

  /** The coordinator's broker id as this broker knows it, or -1. */
  int coordinatorId();

  /** The group state applied by this broker's metadata replica (null on a broker that is not a voter). */
  ConsumerGroups groups();

  /** Brokers and topics. */
  MetadataImage topics();

  /** Proposes a command to the metadata group; completes after commit and apply. */
  CompletableFuture<MetadataReply> submit(MetadataCommand.Builder command);

  /** Log start and end (high watermark) of a partition, from its leader. */
  record PartitionOffsets(long logStartOffset, long logEndOffset) {}

  /** Offsets of every partition of {@code topic} whose leader answered. */
  CompletableFuture<Map<Integer, PartitionOffsets>> partitionOffsets(String topic);
}
