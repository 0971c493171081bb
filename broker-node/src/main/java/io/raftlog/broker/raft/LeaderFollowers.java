package io.raftlog.broker.raft;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;

/**
 * What a leading division knows of its followers, read once. Ratis gives the followers and their
 * match indices in two calls; when the configuration changed in between they do not line up.
 */
public final class LeaderFollowers {

  /** One follower as the leader sees it (Ratis also lists peers it is staging to join). */
  public record Follower(RaftPeerId id, long matchIndex, long lastRpcElapsedMs) {
    public int brokerId() {
      return GroupIds.brokerId(id);
    }
  }

  private LeaderFollowers() {
  }

  /** The leader's followers (none when {@code d} does not lead); null when the two reads did not line up. */
  public static List<Follower> of(RaftServer.Division d) {
    List<ServerRpcProto> followers = d.getInfo().getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
    long[] match = d.getInfo().getFollowerMatchIndices();
    if (match == null || match.length != followers.size()) {
      return null;
    }
    List<Follower> out = new ArrayList<>(followers.size());
    for (int i = 0; i < followers.size(); i++) {
      out.add(new Follower(RaftPeerId.valueOf(followers.get(i).getId().getId()), match[i],
          followers.get(i).getLastRpcElapsedTimeMs()));
    }
    return out;
  }

  /** The peers on either side of {@code conf} (both sides while it is a joint one). */
  public static Set<RaftPeerId> members(RaftConfiguration conf) {
    Set<RaftPeerId> members = new HashSet<>();
    conf.getCurrentPeers().stream().map(RaftPeer::getId).forEach(members::add);
    conf.getPreviousPeers().stream().map(RaftPeer::getId).forEach(members::add);
    return members;
  }
}
