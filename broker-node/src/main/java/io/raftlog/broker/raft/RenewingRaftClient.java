package io.raftlog.broker.raft;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long-lived Ratis client of one group that replaces itself when Ratis has made it unusable.
 *
 * <p>Why: a Ratis 3.2.2 client sends writes through one ordered window, and closes that window for
 * good when a request fails with a group mismatch (a peer that has not added the group yet, e.g. a
 * broker still starting), runs out of retries (no leader for a while), or the client is closed.
 * Every later request then fails at once with {@link AlreadyClosedException}. A broker keeps its
 * clients for its whole life, so one such failure would cut it off from the group (it could not
 * even register). The request that failed still fails; the next one goes through a fresh client.
 */
public final class RenewingRaftClient implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RenewingRaftClient.class);

  private final String name;
  private final Supplier<RaftClient> factory;
  private RaftClient current;
  private boolean closed;

  /** @param name for the log line when the client is renewed */
  public RenewingRaftClient(String name, Supplier<RaftClient> factory) {
    this.name = name;
    this.factory = factory;
    this.current = factory.get();
  }

  /** An ordered write (see {@code RaftClient.async().send}). */
  public CompletableFuture<RaftClientReply> send(Message message) {
    return call(c -> c.async().send(message));
  }

  /** A linearizable read (see {@code RaftClient.async().sendReadOnly}). */
  public CompletableFuture<RaftClientReply> sendReadOnly(Message message) {
    return call(c -> c.async().sendReadOnly(message));
  }

  /**
   * Asks the group's leader to hand leadership to {@code newLeader} and waits for it (Ratis'
   * admin API, which blocks: call it off request threads).
   */
  public RaftClientReply transferLeadership(RaftPeerId newLeader, long timeoutMs) throws IOException {
    RaftClient c;
    synchronized (this) {
      if (closed) {
        throw new IOException(name + " is closed");
      }
      c = current;
    }
    return c.admin().transferLeadership(newLeader, timeoutMs);
  }

  /** The group's leader as last seen by this client, or null. */
  public synchronized RaftPeerId leaderId() {
    return current.getLeaderId();
  }

  private CompletableFuture<RaftClientReply> call(Function<RaftClient, CompletableFuture<RaftClientReply>> op) {
    RaftClient c;
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(new AlreadyClosedException(name + " is closed"));
      }
      c = current;
    }
    CompletableFuture<RaftClientReply> reply;
    try {
      reply = op.apply(c);
    } catch (RuntimeException e) {
      renewIfBroken(c, e);
      return CompletableFuture.failedFuture(e);
    }
    return reply.whenComplete((r, e) -> {
      if (e != null) {
        renewIfBroken(c, e);
      }
    });
  }

  /** True when the failure means Ratis closed the client's ordered window (see the class comment). */
  static boolean breaksClient(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof AlreadyClosedException || t instanceof GroupMismatchException
          || t instanceof RaftRetryFailureException) {
        return true;
      }
    }
    return false;
  }

  private void renewIfBroken(RaftClient used, Throwable failure) {
    if (!breaksClient(failure)) {
      return;
    }
    RaftClient broken;
    synchronized (this) {
      if (closed || current != used) {
        return; // already renewed by another failed request
      }
      broken = current;
      current = factory.get();
    }
    LOG.info("{}: Ratis closed the client after {}; using a new one", name, failure.toString());
    closeQuietly(broken);
  }

  private void closeQuietly(RaftClient c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: closing a broken client: {}", name, e.toString());
    }
  }

  @Override
  public void close() throws IOException {
    RaftClient c;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      c = current;
    }
    c.close();
  }
}
