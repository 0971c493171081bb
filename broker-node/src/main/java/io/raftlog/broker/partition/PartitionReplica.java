package io.raftlog.broker.partition;

import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.raft.LeaderFollowers;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One partition replica hosted by this broker: its identity, state machine and Raft division. */
public final class PartitionReplica {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionReplica.class);

  private final PartitionDescriptor descriptor;
  private final RaftGroupId groupId;
  private final PartitionStateMachine stateMachine;
  private final Supplier<RaftServer.Division> division;
  private final long lagTimeMaxMs;
  private IsrTracker isr;
  private volatile boolean shutDownAsNonMember;
  private boolean shutDownWarned;
  private long isrTerm = -1;
  /** The ISR last reported in the log, so operators see followers leave and rejoin (as in Kafka). */
  private Set<Integer> reportedIsr;
  /** Group commit of produce entries while this replica leads (see {@link PartitionWriter}). */
  private GroupCommitQueue<PartitionWriter.PendingAppend> appendQueue;
  /** Holds proposals while this replica is an elected leader not ready yet (see {@link PartitionWriter}). */
  private LeaderReadyGate readyGate;

  PartitionReplica(PartitionDescriptor descriptor, PartitionStateMachine stateMachine,
      Supplier<RaftServer.Division> division, long lagTimeMaxMs) {
    this.descriptor = descriptor;
    this.groupId = GroupIds.partition(descriptor.topicId(), descriptor.partition());
    this.stateMachine = stateMachine;
    this.division = division;
    this.lagTimeMaxMs = lagTimeMaxMs;
  }

  public String topic() {
    return descriptor.topic();
  }

  public PartitionDescriptor descriptor() {
    return descriptor;
  }

  public String topicId() {
    return descriptor.topicId();
  }

  public int partition() {
    return descriptor.partition();
  }

  public RaftGroupId groupId() {
    return groupId;
  }

  public PartitionStateMachine stateMachine() {
    return stateMachine;
  }

  /** The Raft division, or null while it is starting or after it was removed. */
  public RaftServer.Division division() {
    return division.get();
  }

  /** This replica's group commit queue, created by {@code create} on first use. */
  synchronized GroupCommitQueue<PartitionWriter.PendingAppend> appendQueue(
      Supplier<GroupCommitQueue<PartitionWriter.PendingAppend>> create) {
    if (appendQueue == null) {
      appendQueue = create.get();
    }
    return appendQueue;
  }

  /** This replica's leader-ready gate, created by {@code create} on first use. */
  synchronized LeaderReadyGate readyGate(Supplier<LeaderReadyGate> create) {
    if (readyGate == null) {
      readyGate = create.get();
    }
    return readyGate;
  }

  /**
   * Leadership as Ratis sees it, for {@link LeaderReadyGate}: ready means Ratis takes writes (the
   * leader committed an entry of its term). A repairing replica's refusal comes from the state
   * machine and is not waited for.
   */
  LeaderReadyGate.Leadership raftLeadership() {
    return new LeaderReadyGate.Leadership() {
      @Override
      public boolean isLeader() {
        return PartitionReplica.this.isLeader();
      }

      @Override
      public boolean isReady() {
        RaftServer.Division d = division();
        return d != null && d.getInfo().isLeader() && d.getInfo().isLeaderReady();
      }
    };
  }

  public boolean isLeader() {
    RaftServer.Division d = division();
    return d != null && d.getInfo().isLeader();
  }

  /**
   * Leader ready to take writes: it applied an entry of its term, and it is not repairing its
   * segment files (a repairing leader refuses writes and hands leadership over).
   */
  public boolean isLeaderReady() {
    RaftServer.Division d = division();
    return d != null && d.getInfo().isLeader() && d.getInfo().isLeaderReady() && !stateMachine.isApplyDeferred();
  }

  /** The leader's broker id as this replica knows it, or -1. */
  public int leaderId() {
    RaftServer.Division d = division();
    return d == null ? -1 : GroupIds.brokerId(d.getInfo().getLeaderId());
  }

  public long term() {
    RaftServer.Division d = division();
    return d == null ? -1 : d.getInfo().getCurrentTerm();
  }

  /** Samples follower progress for the ISR; call periodically on one thread. */
  public synchronized void sampleIsr(long nowMs) {
    RaftServer.Division d = division();
    if (d == null || !d.getInfo().isLeader()) {
      isr = null;
      return;
    }
    long term = d.getInfo().getCurrentTerm();
    if (isr == null || term != isrTerm) {
      isr = new IsrTracker(lagTimeMaxMs);
      isrTerm = term;
      reportedIsr = null;
    }
    List<LeaderFollowers.Follower> followers = LeaderFollowers.of(d);
    if (followers == null) {
      return; // configuration changed between Ratis' two reads; sample again next time
    }
    // Only members: Ratis also reports peers it is staging to join, and (3.2.2) a peer that left
    // while the leader took over keeps its follower entry for the term (see LeaderAppenderWatch).
    Set<RaftPeerId> members = LeaderFollowers.members(d.getRaftConf());
    Map<Integer, IsrTracker.FollowerProgress> progress = new HashMap<>();
    for (LeaderFollowers.Follower f : followers) {
      if (members.contains(f.id())) {
        progress.put(f.brokerId(), new IsrTracker.FollowerProgress(f.matchIndex(), f.lastRpcElapsedMs()));
      }
    }
    isr.sample(nowMs, d.getRaftLog().getLastCommittedIndex(), progress);
    reportIsrChange(isr.inSync(nowMs, leaderId()), progress.size() + 1);
  }

  private void reportIsrChange(Set<Integer> inSync, int replicas) {
    if (reportedIsr == null) {
      if (inSync.size() < replicas) {
        LOG.warn("[{}] leading in term {} with in-sync replicas {} of {}", this, isrTerm, inSync, replicas);
      }
    } else if (inSync.size() < reportedIsr.size() || !inSync.containsAll(reportedIsr)) {
      LOG.warn("[{}] in-sync replicas shrank from {} to {}", this, reportedIsr, inSync);
    } else if (!inSync.equals(reportedIsr)) {
      LOG.info("[{}] in-sync replicas grew from {} to {}", this, reportedIsr, inSync);
    }
    reportedIsr = inSync;
  }

  /** Ratis shut this replica down because it is in neither side of its group's configuration. */
  void markShutDownAsNonMember() {
    shutDownAsNonMember = true;
  }

  /** Whether Ratis shut this replica down as not a member (it does not come back by itself). */
  public boolean shutDownAsNonMember() {
    return shutDownAsNonMember;
  }

  /** True the first time only: to log that a shut-down replica is left alone once. */
  synchronized boolean warnOnceShutDown() {
    boolean first = !shutDownWarned;
    shutDownWarned = true;
    return first;
  }

  /** In-sync replica ids when this replica leads; empty otherwise. */
  public synchronized Set<Integer> inSyncReplicas(long nowMs) {
    if (isr == null || !isLeader()) {
      return Set.of();
    }
    return isr.inSync(nowMs, leaderId());
  }

  @Override
  public String toString() {
    return descriptor.topic() + "-" + descriptor.partition();
  }
}
