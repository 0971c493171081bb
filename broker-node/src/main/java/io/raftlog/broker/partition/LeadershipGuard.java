package io.raftlog.broker.partition;

import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.broker.raft.LeaderFollowers;
import io.raftlog.broker.raft.RaftClients;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.metadata.ReplicaPlans;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import io.raftlog.statemachine.ratis.PartitionStateMachine.RepairRange;
import java.io.IOException;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a replica that is repairing its segment files ({@link PartitionStateMachine#isRepairing()})
 * out of leadership, so the partition keeps taking writes through a healthy replica.
 *
 * <p>Why: a repairing replica cannot apply entries until the repair is done, so as leader it
 * cannot take writes (their acknowledgement would wait for the whole repair), and the partition
 * would answer LEADER_NOT_AVAILABLE for the whole repair although the two healthy replicas could
 * lead.
 *
 * <p>How, with Raft priorities: the preferred leader (first replica of the assignment) has
 * {@link #PREFERRED_PRIORITY}, the other replicas {@link #FOLLOWER_PRIORITY}, and a repairing
 * replica {@link #REPAIRING_PRIORITY}. Ratis hands leadership to an up-to-date follower only when it
 * has a higher priority than the leader, and a voter refuses a candidate with a lower priority than
 * its own when their logs are equal; so a repairing replica at priority 0 is neither handed
 * leadership (even when it is the preferred leader) nor elected against healthy replicas with logs
 * as long as its own. Each broker sets only the priority of its own replicas, through the group's
 * leader ({@code setConfiguration}, compare-and-set on the membership, built from the local view of
 * the configuration: a stale view can undo another broker's change, which that broker then makes
 * again). The replica asks for its priority to be lowered as soon as it knows it must repair, before
 * its Raft log has caught up (a leader hands leadership to a higher-priority follower only once it
 * is up to date). After the repair it asks for its normal priority back, and Ratis'
 * preferred-leader handover may then bring leadership back to it. Groups created before these
 * priorities (preferred 1, others 0) are moved to them the same way, each replica setting its own.
 *
 * <p>If a repairing replica leads anyway (it won an election before its priority was lowered, for
 * instance after a restart of the whole cluster where it is the preferred leader, or an operator
 * transferred leadership to it), it hands leadership over: it lowers its own priority (as leader,
 * in process) and transfers leadership to the follower with the highest priority. Both need a
 * leader-ready leader, which a repairing replica still becomes because its state machine defers
 * applies instead of blocking Ratis' apply thread (see {@code PartitionStateMachine}); until then,
 * and while it hands over, it refuses writes retriably. Lowering the priority first matters: Ratis
 * only transfers to the highest-priority peer, and a live peer with a higher priority than a
 * candidate and a log as long vetoes its election, so a repairing replica left at the top would be
 * the only one electable. If it still leads {@link #STEP_DOWN_AFTER_MS} after becoming leader (the
 * top-priority peer is down, so no transfer is accepted, say), it steps down, which needs no
 * readiness; the healthy replicas then elect one of them.
 *
 * <p>Threading: {@link #check} runs periodically on one thread (the broker's replica tick); the
 * Ratis calls run on this guard's own threads, at most one configuration change per replica at a
 * time.
 */
public final class LeadershipGuard implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LeadershipGuard.class);

  /** Raft priority of a partition's preferred leader (the first replica of its assignment). */
  public static final int PREFERRED_PRIORITY = 2;
  /** Raft priority of the other replicas. */
  public static final int FOLLOWER_PRIORITY = 1;
  /** Raft priority of a replica while it repairs its segment files: below every healthy replica. */
  public static final int REPAIRING_PRIORITY = 0;

  /** A repairing replica still leading this long after it became leader steps down. */
  static final long STEP_DOWN_AFTER_MS = 3_000;
  /** A step-down that did not take effect (still leader in the same term) is retried after this. */
  static final long STEP_DOWN_RETRY_MS = 2_000;
  /** Deadline of one leadership transfer. */
  static final long TRANSFER_TIMEOUT_MS = 3_000;
  /** Admin requests carry a configuration only. */
  private static final int ADMIN_MESSAGE_BYTES = 1024 * 1024;
  static final long INITIAL_BACKOFF_MS = 500;
  static final long MAX_BACKOFF_MS = 10_000;

  private final int brokerId;
  /** auto.leader.rebalance.enable: whether the preferred replica gets a higher priority. */
  private final boolean autoLeaderRebalance;
  private final String prefix;
  private final RaftServer server;
  private final MetadataView metadata;
  private final Clock clock;
  private final ExecutorService executor;
  private final ClientId adminClientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final Map<RaftGroupId, ReplicaState> states = new ConcurrentHashMap<>();
  private volatile boolean closed;

  public LeadershipGuard(int brokerId, RaftServer server, MetadataView metadata, Clock clock,
      boolean autoLeaderRebalance) {
    this.brokerId = brokerId;
    this.autoLeaderRebalance = autoLeaderRebalance;
    this.prefix = "broker-" + brokerId;
    this.server = server;
    this.metadata = metadata;
    this.clock = clock;
    AtomicInteger threads = new AtomicInteger();
    this.executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, prefix + "-leadership-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * The Raft priority a healthy replica on {@code brokerId} has in a group with these replicas.
   *
   * A broker that is not one of {@code replicas} (it leaves the group in a reassignment) gets the
   * lowest priority, so that leadership moves to a replica that stays.
   *
   * @param autoLeaderRebalance false: the preferred replica gets no higher priority than the others,
   *     so Ratis does not hand leadership back to it by itself ({@code auto.leader.rebalance.enable})
   */
  public static int basePriority(List<Integer> replicas, int brokerId, boolean autoLeaderRebalance) {
    if (!replicas.contains(brokerId)) {
      return REPAIRING_PRIORITY;
    }
    return autoLeaderRebalance && !replicas.isEmpty() && replicas.get(0) == brokerId
        ? PREFERRED_PRIORITY : FOLLOWER_PRIORITY;
  }

  /** Checks every local replica; call periodically from one thread. */
  public void checkAll(Collection<PartitionReplica> replicas, long nowMs) {
    Set<RaftGroupId> present = replicas.stream().map(PartitionReplica::groupId).collect(Collectors.toSet());
    states.keySet().retainAll(present);
    for (PartitionReplica r : replicas) {
      try {
        check(r, nowMs);
      } catch (RuntimeException e) {
        LOG.debug("[{}] leadership check of {} failed: {}", prefix, r, e.toString());
      }
    }
  }

  /** One replica: hand leadership over if it leads while repairing, and keep its own priority right. */
  void check(PartitionReplica r, long nowMs) {
    if (closed) {
      return;
    }
    RaftServer.Division d = r.division();
    PartitionStateMachine sm = r.stateMachine();
    if (d == null || !sm.isReady() || !d.getInfo().isAlive()) {
      return;
    }
    ReplicaState s = states.computeIfAbsent(r.groupId(), k -> new ReplicaState());
    boolean repairing = sm.isRepairing();
    RaftPeerId self = d.getId();
    RaftPeerId leader = d.getInfo().getLeaderId();
    long term = d.getInfo().getCurrentTerm();

    if (repairing && d.getInfo().isLeader()) {
      handOver(r, d, s, sm.lastRepair(), term, nowMs);
      return;
    }
    synchronized (s) {
      if (s.ledInTerm >= 0 && leader != null && !leader.equals(self)) {
        LOG.info("[{} {}] broker {} leads now (term {}){}", prefix, r, GroupIds.brokerId(leader), term,
            repairing ? "; this replica stays out of leadership while it repairs" : "");
        s.ledInTerm = -1;
      }
    }

    int desired = repairing ? REPAIRING_PRIORITY : basePriority(r);
    if (desired < 0) {
      return; // the assignment is not known yet
    }
    RaftConfiguration conf = d.getRaftConf();
    // No leader known: a healthy replica waits for one; a repairing one asks at once (the client
    // finds the leader), since leadership must not reach it before its priority is lowered.
    if (!conf.getPreviousPeers().isEmpty() || (leader == null && !repairing)) {
      return; // a configuration change is under way, or there is no leader to ask: later
    }
    RaftPeer own = conf.getPeer(self);
    if (own == null) {
      return; // not a voting member
    }
    if (!startPriorityChange(r, sm, s, own.getPriority(), desired, repairing, nowMs)) {
      return;
    }
    List<RaftPeer> current = List.copyOf(conf.getCurrentPeers());
    List<RaftPeer> next = withPriority(current, self, desired);
    try {
      executor.execute(() -> finishPriorityChange(r, s, false, desired, setPriorityThroughLeader(d, current, next)));
    } catch (RejectedExecutionException e) {
      synchronized (s) {
        s.clientInFlight = false;
      }
    }
  }

  /**
   * Decides whether to ask for {@code desired} now (and logs it once per target); marks the request
   * in flight when so.
   */
  private boolean startPriorityChange(PartitionReplica r, PartitionStateMachine sm, ReplicaState s, int current,
      int desired, boolean repairing, long nowMs) {
    synchronized (s) {
      if (current == desired) {
        if (s.target == desired) {
          LOG.info("[{} {}] Raft priority of this replica is now {}", prefix, r, desired);
        }
        s.target = -1;
        s.failures = 0;
        s.nextAttemptMs = 0;
        return false;
      }
      if (s.clientInFlight || nowMs < s.nextAttemptMs) {
        return false;
      }
      if (s.target != desired) {
        s.target = desired;
        s.failures = 0;
        logPriorityChange(r, sm.lastRepair(), repairing, current, desired);
      }
      s.clientInFlight = true;
      return true;
    }
  }

  private static List<RaftPeer> withPriority(List<RaftPeer> peers, RaftPeerId id, int priority) {
    return peers.stream().map(p -> p.getId().equals(id) ? RaftPeer.newBuilder(p).setPriority(priority).build() : p)
        .toList();
  }

  /**
   * This replica leads while repairing: lower its priority, then transfer leadership to the
   * highest-priority follower; step down if it still leads after {@link #STEP_DOWN_AFTER_MS}.
   */
  private void handOver(PartitionReplica r, RaftServer.Division d, ReplicaState s, RepairRange range, long term,
      long nowMs) {
    boolean ready = d.getInfo().isLeaderReady();
    RaftConfiguration conf = d.getRaftConf();
    RaftPeer own = conf.getPeer(d.getId());
    boolean stable = conf.getPreviousPeers().isEmpty();
    boolean demote = false;
    RaftPeerId transferTo = null;
    boolean stepDown = false;
    synchronized (s) {
      if (s.ledInTerm != term) {
        s.ledInTerm = term;
        s.leaderSinceMs = nowMs;
        s.stepDownAtMs = -1;
        s.nextAttemptMs = 0;
        s.failures = 0;
        s.handOvers++;
        LOG.warn("[{} {}] became leader in term {} while repairing {}: it takes no writes until the repair is"
            + " done, so it hands leadership to a healthy replica", prefix, r, term,
            range == null ? "its segment files" : "[" + range.fromOffset() + ", " + range.untilOffset() + ")");
      }
      if (nowMs - s.leaderSinceMs >= STEP_DOWN_AFTER_MS) {
        if (s.stepDownAtMs < 0 || nowMs - s.stepDownAtMs >= STEP_DOWN_RETRY_MS) {
          if (s.stepDownAtMs < 0) {
            LOG.warn("[{} {}] still leader {} ms after becoming leader in term {} while repairing; stepping down",
                prefix, r, nowMs - s.leaderSinceMs, term);
          }
          s.stepDownAtMs = nowMs;
          stepDown = true;
        }
      } else if (ready && stable && own != null && !s.leaderInFlight && nowMs >= s.nextAttemptMs) {
        if (own.getPriority() != REPAIRING_PRIORITY) {
          demote = true;
          if (s.target != REPAIRING_PRIORITY) {
            s.target = REPAIRING_PRIORITY;
            s.failures = 0;
            logPriorityChange(r, range, true, own.getPriority(), REPAIRING_PRIORITY);
          }
        } else {
          transferTo = transferTarget(d, conf);
        }
        s.leaderInFlight = demote || transferTo != null;
      }
    }
    RaftGroupId group = r.groupId();
    if (stepDown) {
      try {
        // A transfer with no new leader is Ratis' step-down; it does not need the leader to be ready.
        server.transferLeadershipAsync(new TransferLeadershipRequest(adminClientId, server.getId(), group,
            callIds.incrementAndGet(), null, STEP_DOWN_RETRY_MS))
            .whenComplete((reply, e) -> logFailure(r, "stepping down", reply, e));
      } catch (IOException e) {
        logFailure(r, "stepping down", null, e);
      }
    } else if (demote) {
      List<RaftPeer> current = List.copyOf(conf.getCurrentPeers());
      SetConfigurationRequest request = new SetConfigurationRequest(adminClientId, server.getId(), group,
          callIds.incrementAndGet(), SetConfigurationRequest.Arguments.newBuilder()
              .setServersInCurrentConf(current)
              .setServersInNewConf(withPriority(current, d.getId(), REPAIRING_PRIORITY))
              .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
              .build());
      submit(r, s, REPAIRING_PRIORITY, () -> server.setConfigurationAsync(request));
    } else if (transferTo != null) {
      RaftPeerId target = transferTo;
      synchronized (s) {
        if (s.transferTerm != term) {
          s.transferTerm = term;
          LOG.info("[{} {}] transferring leadership to broker {}", prefix, r, GroupIds.brokerId(target));
        }
      }
      submit(r, s, -1, () -> server.transferLeadershipAsync(new TransferLeadershipRequest(adminClientId,
          server.getId(), group, callIds.incrementAndGet(), target, TRANSFER_TIMEOUT_MS)));
    }
  }

  /**
   * The follower to hand leadership to: Ratis accepts only a peer with the highest priority of the
   * group; among those, the one furthest ahead. Null when none is a follower we hear from.
   */
  static RaftPeerId transferTarget(RaftServer.Division d, RaftConfiguration conf) {
    int highest = conf.getCurrentPeers().stream().mapToInt(RaftPeer::getPriority).max().orElse(0);
    List<LeaderFollowers.Follower> followers = LeaderFollowers.of(d);
    if (followers == null) {
      return null;
    }
    RaftPeerId best = null;
    long bestMatch = -1;
    for (LeaderFollowers.Follower f : followers) {
      RaftPeer peer = conf.getPeer(f.id());
      if (peer != null && peer.getPriority() == highest && f.matchIndex() > bestMatch
          && f.lastRpcElapsedMs() < TRANSFER_TIMEOUT_MS) {
        best = f.id();
        bestMatch = f.matchIndex();
      }
    }
    return best;
  }

  /** Runs one in-process Ratis admin call for a replica, clearing its in-flight mark after. */
  private void submit(PartitionReplica r, ReplicaState s, int priority, AdminCall call) {
    CompletableFuture<RaftClientReply> f;
    try {
      f = call.run();
    } catch (IOException | RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((reply, e) -> finishPriorityChange(r, s, true, priority,
        e != null ? e : reply != null && !reply.isSuccess() ? reply.getException() : null));
  }

  private void logFailure(PartitionReplica r, String what, RaftClientReply reply, Throwable e) {
    if (closed) {
      return;
    }
    if (e != null) {
      LOG.info("[{} {}] {} failed: {}", prefix, r, what, e.toString());
    } else if (reply != null && !reply.isSuccess()) {
      LOG.info("[{} {}] {} failed: {}", prefix, r, what, reply.getException());
    }
  }

  @FunctionalInterface
  private interface AdminCall {
    CompletableFuture<RaftClientReply> run() throws IOException;
  }

  private void logPriorityChange(PartitionReplica r, RepairRange range, boolean repairing, int from, int to) {
    if (repairing) {
      LOG.info("[{} {}] repairing {}: lowering this replica's Raft priority from {} to {} so that leadership"
          + " is not handed to it until the repair is done", prefix, r,
          range == null ? "its segment files" : "[" + range.fromOffset() + ", " + range.untilOffset() + ")", from, to);
    } else if (from == REPAIRING_PRIORITY) {
      // Also a replica that joined in a reassignment at 0 (see Reassigner.memberPriority).
      LOG.info("[{} {}] not repairing: restoring this replica's Raft priority from {} to {}{}", prefix, r, from,
          to, to == PREFERRED_PRIORITY ? " (preferred leader)" : "");
    } else {
      LOG.info("[{} {}] setting this replica's Raft priority from {} to {} (preferred leader {}, other replicas {})",
          prefix, r, from, to, PREFERRED_PRIORITY, FOLLOWER_PRIORITY);
    }
  }

  /**
   * On a guard thread: asks the group's leader to change this replica's priority; null when done.
   * The client is built from the group's configuration (it holds the peers' Raft addresses), not
   * from metadata, which a broker restarting with its peers down may not have caught up on yet.
   */
  private Throwable setPriorityThroughLeader(RaftServer.Division d, List<RaftPeer> current, List<RaftPeer> next) {
    try (RaftClient client = RaftClients.create(d.getGroup(), ADMIN_MESSAGE_BYTES)) {
      RaftClientReply reply = client.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
          .setServersInCurrentConf(current)
          .setServersInNewConf(next)
          .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
          .build());
      return reply.isSuccess() ? null : reply.getException();
    } catch (IOException | RuntimeException e) {
      return e;
    }
  }

  /**
   * Records the outcome of a priority change ({@code priority} >= 0) or a leadership transfer (-1):
   * clears the in-flight mark, and backs off after a failure (logged once per streak at INFO).
   */
  private void finishPriorityChange(PartitionReplica r, ReplicaState s, boolean asLeader, int priority,
      Throwable problem) {
    synchronized (s) {
      if (asLeader) {
        s.leaderInFlight = false;
      } else {
        s.clientInFlight = false;
      }
      if (problem == null) {
        s.failures = 0;
        s.nextAttemptMs = 0;
        return;
      }
      s.failures++;
      long backoff = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS << Math.min(10, s.failures - 1));
      s.nextAttemptMs = clock.millis() + backoff;
      if (closed) {
        return;
      }
      String what = priority >= 0 ? "setting this replica's Raft priority to " + priority : "transferring leadership";
      if (s.failures == 1) {
        LOG.info("[{} {}] {} failed ({}); retrying with backoff", prefix, r, what, problem.toString());
      } else {
        LOG.debug("[{} {}] {} failed again ({}); retry in {} ms", prefix, r, what, problem.toString(), backoff);
      }
    }
  }

  /**
   * This broker's base priority in the replica's group, from the metadata assignment (its target
   * while a reassignment is under way, as the reassigner sets it); -1 if unknown.
   */
  private int basePriority(PartitionReplica r) {
    return topicOf(r).filter(t -> r.partition() < t.getAssignmentsCount())
        .map(t -> basePriority(ReplicaPlans.effective(t.getAssignments(r.partition())), brokerId,
            autoLeaderRebalance))
        .orElse(-1);
  }

  private Optional<TopicRecord> topicOf(PartitionReplica r) {
    return metadata.topic(r.topic()).filter(t -> t.getTopicId().equals(r.topicId()));
  }

  /**
   * How many times the replica became leader while repairing (and so handed leadership over), for
   * tests and metrics.
   */
  public int handOvers(RaftGroupId group) {
    ReplicaState s = states.get(group);
    if (s == null) {
      return 0;
    }
    synchronized (s) {
      return s.handOvers;
    }
  }

  @Override
  public void close() {
    closed = true;
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Per replica; guarded by its own monitor. */
  private static final class ReplicaState {
    /** Term in which the replica last led while repairing, -1 once another leader was seen. */
    long ledInTerm = -1;
    long leaderSinceMs;
    /** When it last asked to step down in {@link #ledInTerm}, -1 if it did not. */
    long stepDownAtMs = -1;
    /** The term of the last leadership transfer logged. */
    long transferTerm = -1;
    int handOvers;
    /** The priority being asked for, -1 when none. */
    int target = -1;
    /** A priority change asked of the group's leader through a Raft client is under way. */
    boolean clientInFlight;
    /**
     * A priority change or leadership transfer made in process, as leader, is under way. Apart from
     * {@link #clientInFlight}: a request this replica sent through a client before it became leader
     * may be waiting out the client's retry backoff, and the hand-over need not wait for it.
     */
    boolean leaderInFlight;
    int failures;
    long nextAttemptMs;
  }
}
