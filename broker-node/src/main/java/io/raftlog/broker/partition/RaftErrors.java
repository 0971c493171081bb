package io.raftlog.broker.partition;

import io.raftlog.api.v1.ErrorCode;
import io.raftlog.broker.BrokerException;
import io.raftlog.broker.raft.GroupIds;
import io.raftlog.statemachine.ratis.ReplicaRepairingException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;

/** Maps Ratis failures onto the public error codes. */
public final class RaftErrors {

  private RaftErrors() {}

  /** The failure of an unsuccessful reply. */
  public static BrokerException fromReply(RaftClientReply reply, String what) {
    return fromThrowable(reply.getException(), what);
  }

  public static BrokerException fromThrowable(Throwable t, String what) {
    Throwable e = unwrap(t);
    if (e instanceof BrokerException be) {
      return be;
    }
    if (e instanceof StateMachineException sme && sme.getCause() instanceof ReplicaRepairingException rre) {
      return new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, what + ": " + rre.getMessage() + "; retry");
    }
    if (e instanceof NotLeaderException nle) {
      int leader = nle.getSuggestedLeader() == null ? -1 : GroupIds.brokerId(nle.getSuggestedLeader().getId());
      return new BrokerException(ErrorCode.NOT_LEADER, what + ": this broker is not the leader"
          + (leader >= 0 ? "; the leader is broker " + leader : ""), leader);
    }
    if (e instanceof LeaderNotReadyException || e instanceof LeaderSteppingDownException
        || e instanceof ServerNotReadyException || e instanceof GroupMismatchException
        || e instanceof AlreadyClosedException) {
      return new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, what + ": no leader available right now ("
          + e.getClass().getSimpleName() + "); retry");
    }
    if (e instanceof ResourceUnavailableException) {
      return new BrokerException(ErrorCode.NOT_ENOUGH_REPLICAS, what + ": leader is overloaded (" + e.getMessage() + "); retry");
    }
    if (e instanceof TimeoutException || e instanceof TimeoutIOException || e instanceof RaftRetryFailureException) {
      return new BrokerException(ErrorCode.REQUEST_TIMED_OUT, what + ": timed out waiting for the Raft group ("
          + e.getClass().getSimpleName() + ")");
    }
    return new BrokerException(ErrorCode.UNKNOWN_SERVER_ERROR, what + ": " + e);
  }

  static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
