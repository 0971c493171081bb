package org.apache.ratis.server.impl;

import java.util.List;
import org.apache.ratis.protocol.RaftPeerId;
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
}
