package io.raftlog.broker.raft;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
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
 * ElectionSuccessor} starts an election now. It uses the request a Raft leader sends when it hands
 * leadership over (Ratis' {@code startLeaderElection}), made here on the gone leader's behalf: the
 * follower accepts it only while it still follows that leader in the current term with a log at
 * least as long as the one it names (its own last entry), and then campaigns without a pre-vote.
 * An election never endangers committed data (the voters refuse a candidate with a shorter log);
 * a refused or lost election leaves the group to its election timeout, as before.
 */
public final class LeaderGoneElections {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderGoneElections.class);

  private final int brokerId;
  private final RaftServer server;

  public LeaderGoneElections(int brokerId, RaftServer server) {
    this.brokerId = brokerId;
    this.server = server;
  }

  /**
   * Starts the elections this broker is the successor for in the groups {@code goneBroker} led.
   *
   * @return how many elections started
   */
  public int onBrokerGone(int goneBroker) {
    RaftPeerId gone = GroupIds.peerId(goneBroker);
    int started = 0;
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
      Map<Integer, Integer> priorities = new HashMap<>();
      conf.getCurrentPeers().forEach(p -> priorities.put(GroupIds.brokerId(p.getId()), p.getPriority()));
      if (ElectionSuccessor.choose(groupId.getUuid(), priorities, goneBroker) != brokerId) {
        continue;
      }
      TermIndex last = division.getRaftLog().getLastEntryTermIndex();
      if (last == null) {
        continue; // nothing in the log yet (a new replica): its election timeout covers it
      }
      StartLeaderElectionRequestProto request = StartLeaderElectionRequestProto.newBuilder()
          .setServerRequest(ClientProtoUtils.toRaftRpcRequestProtoBuilder(RaftGroupMemberId.valueOf(gone, groupId),
              division.getId()))
          .setLeaderLastEntry(last.toProto())
          .build();
      try {
        if (server.startLeaderElection(request).getServerReply().getSuccess()) {
          started++;
          LOG.info("[broker-{}] {}: leader broker {} is gone; starting an election now (term {}, last entry {})",
              brokerId, groupId, goneBroker, info.getCurrentTerm(), last);
        } else {
          LOG.info("[broker-{}] {}: leader broker {} is gone, but Ratis refused an early election (last entry {});"
              + " the election timeout will start one", brokerId, groupId, goneBroker, last);
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("[broker-{}] {}: could not start an election after leader broker {} went away: {}", brokerId,
            groupId, goneBroker, e.toString());
      }
    }
    return started;
  }
}
