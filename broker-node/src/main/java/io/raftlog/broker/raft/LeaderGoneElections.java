package io.raftlog.broker.raft;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.client.impl.ClientProtoUtils;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failover without waiting for the election timeout when a broker's process is gone: in every Raft
 * group on this server that the gone broker led, the one surviving voter chosen by {@link
 * ElectionSuccessor} starts an election now. The survivors first tell each other the last entry
 * of their logs ({@link PeerLogs}, one call per other survivor for all its groups), so that one
 * with the longest log is chosen: the others would refuse their votes to a shorter log. A survivor
 * that does not answer within {@link #PEER_LOGS_TIMEOUT_MS} leaves its groups to the choice by
 * priority alone, as before the exchange.
 *
 * <p>The election uses the request a Raft leader sends when it hands leadership over (Ratis'
 * {@code startLeaderElection}), made here on the gone leader's behalf: the follower accepts it only
 * while it still follows that leader in the current term with a log at least as long as the one it
 * names (its own last entry), and then campaigns without a pre-vote. An election never endangers
 * committed data (the voters refuse a candidate with a shorter log); a refused or lost election
 * leaves the group to its election timeout, as before.
 */
public final class LeaderGoneElections {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderGoneElections.class);
  /** How long the survivors' log positions are waited for: well below the election timeout. */
  static final long PEER_LOGS_TIMEOUT_MS = 200;
  /** Below every real last entry. */
  private static final ElectionSuccessor.LastEntry NO_ENTRY = new ElectionSuccessor.LastEntry(-1, -1);

  /** Asks another broker for the last entries of its Raft logs of some groups. */
  @FunctionalInterface
  public interface PeerLogs {
    /**
     * @return group id to last entry, for the groups that broker hosts with a non-empty log;
     *     completes exceptionally if the broker does not answer within {@code timeoutMs}
     */
    CompletableFuture<Map<UUID, ElectionSuccessor.LastEntry>> lastEntries(int broker, List<UUID> groups,
        long timeoutMs);
  }

  private final int brokerId;
  private final RaftServer server;
  private final PeerLogs peerLogs;

  public LeaderGoneElections(int brokerId, RaftServer server, PeerLogs peerLogs) {
    this.brokerId = brokerId;
    this.server = server;
    this.peerLogs = peerLogs;
  }

  /** The last entry of this server's log of {@code group}; empty if it hosts none or the log is empty. */
  public static Optional<ElectionSuccessor.LastEntry> lastEntry(RaftServer server, UUID group) {
    try {
      TermIndex last = server.getDivision(RaftGroupId.valueOf(group)).getRaftLog().getLastEntryTermIndex();
      return Optional.ofNullable(last).map(LeaderGoneElections::lastEntry);
    } catch (IOException e) {
      return Optional.empty(); // not hosted here, or being removed
    }
  }

  private static ElectionSuccessor.LastEntry lastEntry(TermIndex last) {
    return new ElectionSuccessor.LastEntry(last.getTerm(), last.getIndex());
  }

  /** The voters of {@code conf}: broker id to Raft priority, what {@link ElectionSuccessor} chooses from. */
  public static Map<Integer, Integer> priorities(RaftConfiguration conf) {
    Map<Integer, Integer> priorities = new HashMap<>();
    conf.getCurrentPeers().forEach(p -> priorities.put(GroupIds.brokerId(p.getId()), p.getPriority()));
    return priorities;
  }

  /** A group the gone broker led, as this follower sees it. */
  private record Orphan(RaftGroupId groupId, RaftServer.Division division, long term, TermIndex last,
      Map<Integer, Integer> priorities) {
    List<Integer> otherSurvivors(int self, int gone) {
      return priorities.keySet().stream().filter(id -> id != self && id != gone).toList();
    }
  }

  /**
   * Starts the elections this broker is the successor for in the groups {@code goneBroker} led.
   *
   * @return how many elections started
   */
  public int onBrokerGone(int goneBroker) {
    List<Orphan> orphans = orphansOf(goneBroker);
    if (orphans.isEmpty()) {
      return 0;
    }
    Map<Integer, Map<UUID, ElectionSuccessor.LastEntry>> peerEntries = askSurvivors(orphans, goneBroker);
    int started = 0;
    for (Orphan o : orphans) {
      UUID group = o.groupId().getUuid();
      Map<Integer, ElectionSuccessor.LastEntry> entries = new HashMap<>();
      entries.put(brokerId, lastEntry(o.last()));
      for (int peer : o.otherSurvivors(brokerId, goneBroker)) {
        Map<UUID, ElectionSuccessor.LastEntry> answer = peerEntries.get(peer);
        if (answer != null) {
          // A group left out of an answer has no log there (a new replica): the shortest of all.
          entries.put(peer, answer.getOrDefault(group, NO_ENTRY));
        }
      }
      if (ElectionSuccessor.choose(group, o.priorities(), goneBroker, entries) == brokerId && start(o, goneBroker,
          entries)) {
        started++;
      }
    }
    return started;
  }

  private List<Orphan> orphansOf(int goneBroker) {
    RaftPeerId gone = GroupIds.peerId(goneBroker);
    List<Orphan> orphans = new ArrayList<>();
    for (RaftGroupId groupId : server.getGroupIds()) {
      RaftServer.Division division;
      try {
        division = server.getDivision(groupId);
      } catch (IOException e) {
        continue; // being removed
      }
      DivisionInfo info = division.getInfo();
      RaftConfiguration conf = division.getRaftConf();
      if (!info.isFollower() || !gone.equals(info.getLeaderId()) || !conf.getPreviousPeers().isEmpty()) {
        continue; // not led by the gone broker, or mid-reconfiguration: the election timeout decides
      }
      TermIndex last = division.getRaftLog().getLastEntryTermIndex();
      if (last == null) {
        continue; // nothing in the log yet (a new replica): its election timeout covers it
      }
      orphans.add(new Orphan(groupId, division, info.getCurrentTerm(), last, priorities(conf)));
    }
    return orphans;
  }

  /** The other survivors' last entries, one call per survivor, all at once; a failed call is left out. */
  private Map<Integer, Map<UUID, ElectionSuccessor.LastEntry>> askSurvivors(List<Orphan> orphans, int goneBroker) {
    Map<Integer, List<UUID>> groupsByPeer = new HashMap<>();
    for (Orphan o : orphans) {
      for (int peer : o.otherSurvivors(brokerId, goneBroker)) {
        groupsByPeer.computeIfAbsent(peer, p -> new ArrayList<>()).add(o.groupId().getUuid());
      }
    }
    Map<Integer, CompletableFuture<Map<UUID, ElectionSuccessor.LastEntry>>> calls = new HashMap<>();
    groupsByPeer.forEach((peer, groups) -> {
      try {
        calls.put(peer, peerLogs.lastEntries(peer, groups, PEER_LOGS_TIMEOUT_MS));
      } catch (RuntimeException e) {
        LOG.debug("[broker-{}] cannot ask broker {} for its last log entries: {}", brokerId, peer, e.toString());
      }
    });
    Map<Integer, Map<UUID, ElectionSuccessor.LastEntry>> answers = new HashMap<>();
    calls.forEach((peer, call) -> {
      try {
        answers.put(peer, call.get(PEER_LOGS_TIMEOUT_MS * 2, TimeUnit.MILLISECONDS)); // the call has its own deadline
      } catch (ExecutionException | TimeoutException e) {
        LOG.info("[broker-{}] broker {} did not tell its last log entries ({}); choosing the election successor"
            + " of its groups by priority", brokerId, peer, e.getCause() != null ? e.getCause() : e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    return answers;
  }

  private boolean start(Orphan o, int goneBroker, Map<Integer, ElectionSuccessor.LastEntry> entries) {
    StartLeaderElectionRequestProto request = StartLeaderElectionRequestProto.newBuilder()
        .setServerRequest(ClientProtoUtils.toRaftRpcRequestProtoBuilder(
            RaftGroupMemberId.valueOf(GroupIds.peerId(goneBroker), o.groupId()), o.division().getId()))
        .setLeaderLastEntry(o.last().toProto())
        .build();
    try {
      if (server.startLeaderElection(request).getServerReply().getSuccess()) {
        LOG.info("[broker-{}] {}: leader broker {} is gone; starting an election now (term {}, last entries {})",
            brokerId, o.groupId(), goneBroker, o.term(), entries);
        return true;
      }
      LOG.info("[broker-{}] {}: leader broker {} is gone, but Ratis refused an early election (last entry {});"
          + " the election timeout will start one", brokerId, o.groupId(), goneBroker, o.last());
    } catch (IOException | RuntimeException e) {
      LOG.warn("[broker-{}] {}: could not start an election after leader broker {} went away: {}", brokerId,
          o.groupId(), goneBroker, e.toString());
    }
    return false;
  }
}
