package io.raftlog.broker.partition;

import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.log.v1.DeleteRecords;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.PartitionCommand;
import io.raftlog.log.v1.TopicRecord;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets a follower that lost its whole Raft log (a lost data directory) going on a partition that
 * takes no writes.
 *
 * <p>Why: such a follower answers the leader's heartbeats with INCONSISTENCY ("I have nothing"),
 * but a Ratis 3.2.2 leader does not move its next index for that follower below the match index
 * it remembers from before, unless the request that got the answer carried entries. So while the
 * partition is idle the follower is sent neither entries nor the notice to start from a snapshot,
 * and stays empty; the next write unblocks it. (Seen on a 3-partition cluster after 1 GB of writes
 * and a wiped broker; {@code CatchUpFromSnapshotTest} reproduces it.)
 *
 * <p>What: a follower replica that has applied nothing {@link #AFTER_MS} (or twice the maximum
 * election timeout, when that is longer: a new group's first election may take that long, and
 * a no-op proposed before it lands as a stray entry once a leader exists) after it appeared
 * proposes a no-op entry through the group's leader (a {@code DeleteRecords} at offset 0, which
 * changes nothing), at most every {@link #EVERY_MS}. It does so also when it has heard from no
 * leader: its Raft client finds the leader itself, and the log line then tells an operator that
 * the leader is not reaching this replica at all. A replica of a new partition applies the
 * leader's first entry within milliseconds, so it is never nudged.
 */
public final class CatchUpNudge {

  private static final Logger LOG = LoggerFactory.getLogger(CatchUpNudge.class);
  static final long AFTER_MS = 5_000;
  static final long EVERY_MS = 10_000;
  /**
   * Nudges sent per pass at most. Each goes through the group's Raft client; when hundreds of new
   * partitions wait for their first election on a loaded machine, nudging them all at once only
   * adds load (seen with 1,000 partition replicas on 2 cores). The others wait for a later pass.
   */
  static final int MAX_PER_PASS = 8;

  private final int brokerId;
  private final PartitionManager partitions;
  private final MetadataView metadata;
  private final long afterMs;
  /** When each replica was first seen without any applied entry; the last nudge's time. */
  private final Map<RaftGroupId, long[]> emptySince = new ConcurrentHashMap<>();

  public CatchUpNudge(int brokerId, PartitionManager partitions, MetadataView metadata, long electionTimeoutMaxMs) {
    this.brokerId = brokerId;
    this.partitions = partitions;
    this.metadata = metadata;
    this.afterMs = Math.max(AFTER_MS, 2 * electionTimeoutMaxMs);
  }

  /** Call periodically from one thread with the local replicas. */
  public void checkAll(Collection<PartitionReplica> replicas, long nowMs) {
    Set<RaftGroupId> present = replicas.stream().map(PartitionReplica::groupId).collect(Collectors.toSet());
    emptySince.keySet().retainAll(present);
    int budget = MAX_PER_PASS;
    for (PartitionReplica r : replicas) {
      try {
        if (check(r, nowMs, budget > 0)) {
          budget--;
        }
      } catch (RuntimeException e) {
        LOG.warn("[broker-{}] catch-up check of {} failed: {}", brokerId, r, e.toString());
      }
    }
  }

  /** @return whether a nudge was sent */
  private boolean check(PartitionReplica r, long nowMs, boolean mayNudge) {
    TermIndex applied = r.stateMachine().getLastAppliedTermIndex();
    if (r.division() == null || r.isLeader() || (applied != null && applied.getIndex() >= 0)
        || r.stateMachine().isApplyDeferred()) {
      emptySince.remove(r.groupId());
      return false;
    }
    long[] times = emptySince.computeIfAbsent(r.groupId(), g -> new long[] {nowMs, 0});
    int leader = r.leaderId();
    if (!mayNudge || nowMs - times[0] < afterMs || nowMs - times[1] < EVERY_MS) {
      return false;
    }
    times[1] = nowMs;
    nudge(r, leader, nowMs - times[0]);
    return true;
  }

  private void nudge(PartitionReplica r, int leader, long emptyForMs) {
    MetadataImage image = metadata.image();
    Optional<TopicRecord> topic = metadata.topicById(r.topicId());
    if (topic.isEmpty()) {
      return;
    }
    LOG.info("[broker-{}] replica {} has applied nothing for {} ms {}: proposing a no-op entry so that the"
        + " leader sends it entries or a snapshot", brokerId, r, emptyForMs,
        leader < 0 ? "and has heard from no leader" : "while broker " + leader + " leads");
    byte[] noOp = PartitionCommand.newBuilder().setDeleteRecords(DeleteRecords.newBuilder().setBeforeOffset(0)
        .setReason("no-op from broker " + brokerId + " to get its empty replica caught up")).build().toByteArray();
    try {
      partitions.clientFor(topic.get(), r.partition(), image)
          .send(Message.valueOf(UnsafeByteOperations.unsafeWrap(noOp)))
          .whenComplete((reply, e) -> {
            if (e != null || !reply.isSuccess()) {
              LOG.info("[broker-{}] no-op for {} not committed: {}", brokerId, r,
                  e != null ? e.toString() : reply.getException());
            }
          });
    } catch (RuntimeException e) {
      LOG.info("[broker-{}] no-op for {} not sent: {}", brokerId, r, e.toString());
    }
  }
}
