package io.raftlog.broker.partition;

import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.metadata.TopicConfig;
import io.raftlog.statemachine.store.Compaction;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Log compaction, broker side: for every replica this broker hosts (leader or follower) of a topic
 * with {@code cleanup.policy} {@code compact} or {@code compact,delete}, cleans its sealed segments
 * when enough was written since the last cleaning ({@link Compaction}). Each replica cleans on its
 * own, as in Kafka: compaction removes only records superseded by a later record of the same key,
 * so any replica's view is a valid compacted log, and the committed latest value of each key is
 * on every replica. One pass cleans the due replicas one at a time; run it from one thread.
 */
public final class LogCleaner {

  private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);

  private final int brokerId;
  private final PartitionManager partitions;
  private final MetadataView metadata;
  private final TopicConfig.Defaults defaults;
  private final int maxKeys;
  private final Clock clock;

  public LogCleaner(int brokerId, PartitionManager partitions, MetadataView metadata, TopicConfig.Defaults defaults,
      int maxKeys, Clock clock) {
    this.brokerId = brokerId;
    this.partitions = partitions;
    this.metadata = metadata;
    this.defaults = defaults;
    this.maxKeys = maxKeys;
    this.clock = clock;
  }

  /** One pass over the local replicas of compacted topics; returns how many were cleaned. */
  public int cleanAll() {
    int cleaned = 0;
    for (PartitionReplica replica : partitions.replicas()) {
      if (Thread.currentThread().isInterrupted()) {
        break;
      }
      try {
        if (clean(replica)) {
          cleaned++;
        }
      } catch (Exception e) {
        LOG.warn("[broker-{}] log cleaning of {} failed: {}", brokerId, replica, e.toString());
      }
    }
    return cleaned;
  }

  private boolean clean(PartitionReplica replica) throws Exception {
    Optional<TopicRecord> topic = metadata.topicById(replica.topicId());
    if (topic.isEmpty()) {
      return false;
    }
    TopicConfig config = TopicConfig.resolve(topic.get().getConfigMap(), defaults);
    if (!config.compacts()) {
      return false;
    }
    Compaction.Policy policy = new Compaction.Policy(config.minCleanableDirtyRatio(), config.minCompactionLagMs(),
        config.deleteRetentionMs(), maxKeys);
    long started = clock.millis();
    Compaction.Result result = replica.stateMachine().compact(policy, started);
    if (result == null) {
      return false;
    }
    LOG.info("[broker-{}] cleaned {}: {} segment(s) rewritten, {} -> {} bytes, {} of {} records removed, clean"
        + " below offset {} ({} ms)", brokerId, replica, result.segmentsRewritten(), result.bytesBefore(),
        result.bytesAfter(), result.recordsRemoved(), result.recordsRead(), result.cleanedUpTo(),
        clock.millis() - started);
    return true;
  }
}
