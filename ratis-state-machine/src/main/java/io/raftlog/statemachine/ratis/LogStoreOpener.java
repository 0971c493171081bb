package io.raftlog.statemachine.ratis;

import io.raftlog.statemachine.store.LogStore;
import java.io.IOException;

/** Opens (and recovers) the segment store of one partition replica when its Raft division starts. */
@FunctionalInterface
public interface LogStoreOpener {
  LogStore open() throws IOException;
}
