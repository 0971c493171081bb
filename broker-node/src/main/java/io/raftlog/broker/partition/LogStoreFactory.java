package io.raftlog.broker.partition;

import io.raftlog.statemachine.store.LogStore;
import java.io.IOException;
import java.nio.file.Path;

/** Opens the segment store of a partition replica in a directory. */
@FunctionalInterface
public interface LogStoreFactory {
  LogStore open(Path dir) throws IOException;
}
