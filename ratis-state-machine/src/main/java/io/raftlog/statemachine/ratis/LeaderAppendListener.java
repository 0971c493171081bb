package io.raftlog.statemachine.ratis;

/**
 * Called on the leader when a produce entry has been appended to its local Raft log, before it is
 * committed: this is what acks=1 waits for. Called at most once, on the leader's append thread,
 * and only when the leader could predict the offsets the entry will get at apply; otherwise the
 * request is answered at apply time like acks=all.
 */
@FunctionalInterface
public interface LeaderAppendListener {
  void appended(long baseOffset, long lastOffset);
}
