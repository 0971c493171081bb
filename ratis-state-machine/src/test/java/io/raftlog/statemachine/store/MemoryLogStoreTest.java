package io.raftlog.statemachine.store;

import static io.raftlog.statemachine.store.TestBatches.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class MemoryLogStoreTest extends LogStoreContractTest {

  @Override
  protected LogStore createStore(long startOffset) {
    return new MemoryLogStore(startOffset);
  }

  @Test
  void deleteBeforeDropsWholeBatchesBelowTheOffsetButNeverTheNewest() throws IOException {
    LogStore store = newStore();
    appendBatches(store, 2, 2, 2);
    assertEquals(0, store.deleteBefore(1), "batch [0, 1] still holds offset 1");
    assertEquals(2, store.deleteBefore(2));
    assertEquals(4, store.deleteBefore(100));
    assertEquals(6, store.logEndOffset());
  }

  @Test
  void deleteAllClosesTheStore() throws IOException {
    LogStore store = newStore();
    store.append(batch(0, 1));
    store.deleteAll();
    assertThrows(IllegalStateException.class, () -> store.read(0, 10));
  }
}
