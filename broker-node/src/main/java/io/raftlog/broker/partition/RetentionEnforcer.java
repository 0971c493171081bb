package io.raftlog.broker.partition;

import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.raft.RaftHost;
import io.raftlog.log.v1.DeleteRecords;
import io.raftlog.log.v1.PartitionCommand;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.metadata.TopicConfig;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import io.raftlog.statemachine.store.Retention;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention, leader side: every {@code retention.check.interval.ms}, for each partition this broker
 * leads, decides from its own segments and the topic's {@code retention.ms} / {@code
 * retention.bytes} ({@link Retention}) whether the log start should move, and if so proposes a
 * {@link DeleteRecords} through the partition's Raft group. Each replica's state machine then
 * moves its log start to the same offset and deletes its own segment files below it; so replicas
 * agree on the log start whatever their segment boundaries, and nothing uncommitted is removed.
 * Topics whose {@code cleanup.policy} is {@code compact} alone are left to the {@link LogCleaner}.
 */
public final class RetentionEnforcer {

  private static final Logger LOG = LoggerFactory.getLogger(RetentionEnforcer.class);
  private static final long PROPOSAL_TIMEOUT_MS = 30_000;

  private final int brokerId;
  private final RaftHost host;
  private final PartitionManager partitions;
  private final MetadataView metadata;
  private final TopicConfig.Defaults defaults;
  private final Clock clock;
  private final ClientId clientId = ClientId.randomId();
  private long callId;

  public RetentionEnforcer(int brokerId, RaftHost host, PartitionManager partitions, MetadataView metadata,
      TopicConfig.Defaults defaults, Clock clock) {
    this.brokerId = brokerId;
    this.host = host;
    this.partitions = partitions;
    this.metadata = metadata;
    this.defaults = defaults;
    this.clock = clock;
  }

  /** One pass over the partitions this broker leads; run on one thread at a time. */
  public void checkAll() {
    for (PartitionReplica replica : partitions.replicas()) {
      try {
        check(replica);
      } catch (Exception e) {
        LOG.warn("[broker-{}] retention check of {} failed: {}", brokerId, replica, e.toString());
      }
    }
  }

  private void check(PartitionReplica replica) throws Exception {
    PartitionStateMachine sm = replica.stateMachine();
    if (!replica.isLeaderReady() || !sm.isReady() || sm.isApplyDeferred()) {
      return;
    }
    Optional<TopicRecord> topic = metadata.topicById(replica.topicId());
    if (topic.isEmpty()) {
      return; // being deleted
    }
    TopicConfig config = TopicConfig.resolve(topic.get().getConfigMap(), defaults);
    if (!config.deletes() || (config.retentionMs() < 0 && config.retentionBytes() < 0)) {
      return;
    }
    long newStart = Retention.newLogStart(sm.segments(), sm.logStartOffset(), config.retentionMs(),
        config.retentionBytes(), clock.millis());
    if (newStart < 0) {
      return;
    }
    String reason = "retention.ms=" + config.retentionMs() + ", retention.bytes=" + config.retentionBytes();
    byte[] command = PartitionCommand.newBuilder().setDeleteRecords(DeleteRecords.newBuilder()
        .setBeforeOffset(newStart).setReason(reason)).build().toByteArray();
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(clientId)
        .setServerId(host.server().getId())
        .setGroupId(replica.groupId())
        .setCallId(++callId)
        .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(command)))
        .setType(RaftClientRequest.writeRequestType())
        .build();
    RaftClientReply reply = host.server().submitClientRequestAsync(request)
        .get(PROPOSAL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    if (!reply.isSuccess()) {
      // Lost leadership meanwhile, typically: the next leader decides again.
      LOG.info("[broker-{}] retention of {} (log start {}) not committed: {}", brokerId, replica, newStart,
          reply.getException() == null ? "no reason given" : reply.getException().getMessage());
    }
  }
}
