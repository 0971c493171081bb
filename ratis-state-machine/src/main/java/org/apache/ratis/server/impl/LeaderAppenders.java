package org.apache.ratis.server.impl;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.LogAppender;

/**
 * Raftlog's read-only view of a Ratis 3.2.2 leader's log appenders (one per follower), which Ratis
 * keeps package-private. It lives in Ratis' package for that reason, like {@link FollowerAppendOrder}.
 */
public final class LeaderAppenders {

  private LeaderAppenders() {
  }

  /**
   * The followers whose log appender is no longer running while {@code division} leads: Ratis sends
   * them nothing more in this term. Empty when the division does not lead, or when its internals
   * are not the ones this was written for (another Ratis version).
   */
  public static List<RaftPeerId> stopped(RaftServer.Division division) {
    if (!(division instanceof RaftServerImpl impl)) {
      return List.of();
    }
    try {
      return impl.getRole().getLeaderState()
          .map(leader -> leader.getLogAppenders().filter(a -> !a.isRunning()).map(LogAppender::getFollowerId).toList())
          .orElse(List.of());
    } catch (RuntimeException | LinkageError e) {
      return List.of();
    }
  }

  /**
   * The peers {@code division}, as leader, has a log appender for although they are in neither side
   * of its configuration, while it is not staging a change (when appenders for joining peers
   * legitimately exist first). Empty when it does not lead, or on another Ratis version.
   *
   * <p>Why they exist: a Ratis 3.2.2 leader elected while the configuration is a joint one starts
   * appenders for the peers of both sides, then appends the new side alone as its first entry
   * without removing the appenders of the peers that left; they keep running for the whole term.
   */
  public static List<RaftPeerId> strays(RaftServer.Division division) {
    if (!(division instanceof RaftServerImpl impl)) {
      return List.of();
    }
    try {
      return impl.getRole().getLeaderState().filter(leader -> !leader.inStagingState()).map(leader -> {
        RaftConfiguration conf = division.getRaftConf();
        Set<RaftPeerId> members = Stream.concat(conf.getCurrentPeers().stream(), conf.getPreviousPeers().stream())
            .map(RaftPeer::getId).collect(Collectors.toSet());
        return leader.getLogAppenders().map(LogAppender::getFollowerId).filter(id -> !members.contains(id)).toList();
      }).orElse(List.of());
    } catch (RuntimeException | LinkageError e) {
      return List.of();
    }
  }
}
