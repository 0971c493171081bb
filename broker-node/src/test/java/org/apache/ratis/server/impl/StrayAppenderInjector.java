package org.apache.ratis.server.impl;

import java.lang.reflect.Method;
import java.util.Collection;
import java.util.List;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.LogAppender;

/**
 * For tests: gives a leader a log appender for a peer that is not a member, the state a Ratis 3.2.2
 * leader is in after being elected over a joint configuration that removed that peer (it starts
 * appenders for both sides and never stops the leaving peer's). In Ratis' package for access.
 */
public final class StrayAppenderInjector {

  private StrayAppenderInjector() {
  }

  /** Starts {@code division}'s appender for {@code peer}; false when it does not lead. */
  public static boolean add(RaftServer.Division division, RaftPeer peer) throws ReflectiveOperationException {
    if (!(division instanceof RaftServerImpl impl)) {
      return false;
    }
    LeaderStateImpl leader = impl.getRole().getLeaderState().orElse(null);
    if (leader == null) {
      return false;
    }
    impl.getRaftServer().addRaftPeers(List.of(peer));
    // As the leader's constructor adds the appenders of its configuration's peers: a voting
    // follower at the leader's next index, not a bootstrapping one (which Ratis would first offer
    // a snapshot, unlike the real stray).
    Method addSenders = LeaderStateImpl.class.getDeclaredMethod("addSenders", Collection.class, long.class,
        boolean.class);
    addSenders.setAccessible(true);
    @SuppressWarnings("unchecked")
    Collection<LogAppender> added = (Collection<LogAppender>) addSenders.invoke(leader, List.of(peer),
        impl.getState().getLog().getNextIndex(), true);
    added.forEach(LogAppender::start);
    return true;
  }
}
