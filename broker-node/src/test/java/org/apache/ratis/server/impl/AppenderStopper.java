package org.apache.ratis.server.impl;

import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/** For tests: stops a leader's log appender the way a failing one ends (in Ratis' package for access). */
public final class AppenderStopper {

  private AppenderStopper() {
  }

  /** Stops {@code division}'s appender for {@code follower}; false when it does not lead or has none. */
  public static boolean stop(RaftServer.Division division, RaftPeerId follower) {
    if (!(division instanceof RaftServerImpl impl)) {
      return false;
    }
    return impl.getRole().getLeaderState().flatMap(leader -> leader.getLogAppender(follower)).map(a -> {
      a.stopAsync();
      return true;
    }).orElse(false);
  }
}
