package io.raftlog.statemachine.ratis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.statemachine.store.LogStore;
import io.raftlog.statemachine.store.MemoryLogStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Copying a lost range of batches from a peer: checks, retries, abort. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReplicaRepairTest {

  /** A batch of {@code records} records at {@code base} whose values name their offsets. */
  static ByteBuffer batch(long base, int records) {
    SimpleRecord[] rs = new SimpleRecord[records];
    for (int i = 0; i < records; i++) {
      rs[i] = new SimpleRecord(1_000L + i, null, ("value-" + (base + i) + "-" + "x".repeat(100))
          .getBytes(StandardCharsets.UTF_8));
    }
    return MemoryRecords.withRecords(base, Compression.NONE, rs).buffer();
  }

  /** A peer's log: 10 batches of 3 records, offsets [0, 30). */
  static MemoryLogStore peerLog() {
    MemoryLogStore peer = new MemoryLogStore();
    for (int b = 0; b < 10; b++) {
      peer.append(batch(b * 3L, 3));
    }
    return peer;
  }

  /** The first {@code batches} batches of the peer's log, as a damaged replica would still hold. */
  static MemoryLogStore damagedCopy(int batches) {
    MemoryLogStore store = new MemoryLogStore();
    for (int b = 0; b < batches; b++) {
      store.append(batch(b * 3L, 3));
    }
    return store;
  }

  static byte[] bytes(LogStore store, long from) throws IOException {
    ByteBuffer all = store.read(from, Integer.MAX_VALUE);
    byte[] out = new byte[all.remaining()];
    all.get(out);
    return out;
  }

  static byte[] bytesBelow(LogStore store, long until) throws IOException {
    List<Byte> out = new ArrayList<>();
    ByteBuffer all = store.read(0, Integer.MAX_VALUE);
    while (all.remaining() > 0 && all.getLong(all.position()) < until) {
      int size = 12 + all.getInt(all.position() + 8);
      for (int i = 0; i < size; i++) {
        out.add(all.get());
      }
    }
    byte[] arr = new byte[out.size()];
    for (int i = 0; i < arr.length; i++) {
      arr[i] = out.get(i);
    }
    return arr;
  }

  @Test
  void copiesExactlyTheMissingRangeInSmallChunksThenCallsBack() throws Exception {
    MemoryLogStore peer = peerLog();
    MemoryLogStore store = damagedCopy(2); // [0, 6)
    AtomicInteger calls = new AtomicInteger();
    AtomicBoolean stored = new AtomicBoolean();
    // The peer answers with at most ~one batch per call and always has more beyond the range.
    ReplicaRepairSource source = (from, until, maxBytes) -> {
      calls.incrementAndGet();
      assertEquals(21, until);
      return peer.read(from, 1);
    };
    ReplicaRepair repair = new ReplicaRepair("test", store, 6, 21, source, () -> {
      assertEquals(21, store.logEndOffset(), "called back once stored");
      stored.set(true);
    }, 1, 10);
    repair.start("repair-test");
    repair.done().get(30, TimeUnit.SECONDS);
    assertTrue(stored.get());
    assertEquals(21, store.logEndOffset(), "stops exactly at the end of the range");
    assertEquals(5, calls.get(), "one call per missing batch");
    assertArrayEquals(bytesBelow(peer, 21), bytes(store, 0), "byte for byte as the peer stores them");
  }

  @Test
  void corruptAnswersAreRejectedAndRetried() throws Exception {
    MemoryLogStore peer = peerLog();
    MemoryLogStore store = damagedCopy(2);
    AtomicInteger calls = new AtomicInteger();
    ReplicaRepairSource source = (from, until, maxBytes) -> {
      ByteBuffer data = peer.read(from, maxBytes);
      if (calls.incrementAndGet() == 1) {
        ByteBuffer copy = ByteBuffer.allocate(data.remaining()).put(data.duplicate()).flip();
        copy.put(copy.limit() - 5, (byte) (copy.get(copy.limit() - 5) ^ 0x40)); // in the last batch's records
        return copy;
      }
      return data;
    };
    ReplicaRepair repair = new ReplicaRepair("test", store, 6, 30, source, () -> { }, 1, 10);
    repair.start("repair-test");
    repair.done().get(30, TimeUnit.SECONDS);
    assertEquals(2, calls.get(), "the corrupt answer was retried");
    assertArrayEquals(bytes(peer, 0), bytes(store, 0));
  }

  @Test
  void answersThatDoNotFitTheRangeAreRejected() throws Exception {
    MemoryLogStore peer = peerLog();
    // A gap: the answer starts after the store's end.
    MemoryLogStore gap = damagedCopy(2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ReplicaRepair.appendChecked(gap, peer.read(9, 1000), 30));
    assertTrue(e.getMessage().contains("expected a batch starting at offset 6"), e.getMessage());
    assertEquals(6, gap.logEndOffset());

    // Other batch boundaries: the peer's batch holds offsets below the store's end.
    MemoryLogStore other = new MemoryLogStore();
    other.append(batch(0, 5));
    e = assertThrows(IllegalArgumentException.class, () -> ReplicaRepair.appendChecked(other, peer.read(3, 1000), 30));
    assertTrue(e.getMessage().contains("boundaries"), e.getMessage());

    // A batch that crosses the end of the range: [6, 8] with the range ending at 7.
    MemoryLogStore crossing = damagedCopy(2);
    e = assertThrows(IllegalArgumentException.class,
        () -> ReplicaRepair.appendChecked(crossing, peer.read(6, 1000), 7));
    assertTrue(e.getMessage().contains("crosses the end"), e.getMessage());
    assertEquals(6, crossing.logEndOffset(), "nothing stored");

    // A partial batch at the end of an answer.
    MemoryLogStore partial = damagedCopy(2);
    ByteBuffer cut = peer.read(6, 1000);
    cut.limit(cut.limit() - 1);
    e = assertThrows(IllegalArgumentException.class, () -> ReplicaRepair.appendChecked(partial, cut, 30));
    assertTrue(e.getMessage().contains("partial batch"), e.getMessage());

    // An empty answer makes no progress.
    MemoryLogStore empty = damagedCopy(2);
    e = assertThrows(IllegalArgumentException.class,
        () -> ReplicaRepair.appendChecked(empty, ByteBuffer.allocate(0), 30));
    assertTrue(e.getMessage().contains("no batch at offset 6"), e.getMessage());

    // Batches at or beyond the end of the range are ignored.
    MemoryLogStore exact = damagedCopy(2);
    ReplicaRepair.Appended appended = ReplicaRepair.appendChecked(exact, peer.read(6, Integer.MAX_VALUE), 12);
    assertEquals(2, appended.batches());
    assertEquals(12, exact.logEndOffset());
  }

  @Test
  void unreachablePeersAreRetriedWithBackoffUntilAborted() throws Exception {
    MemoryLogStore store = damagedCopy(2);
    CountDownLatch threeCalls = new CountDownLatch(3);
    ReplicaRepairSource source = (from, until, maxBytes) -> {
      threeCalls.countDown();
      throw new IOException("no peer reachable");
    };
    ReplicaRepair repair = new ReplicaRepair("test", store, 6, 30, source, () -> { }, 1, 20);
    repair.start("repair-test");
    assertTrue(threeCalls.await(30, TimeUnit.SECONDS), "retried");
    assertFalse(repair.done().isDone(), "a repair never gives up by itself");
    repair.abort(10_000);
    assertThrows(CancellationException.class, () -> repair.done().get(10, TimeUnit.SECONDS));
    assertEquals(6, store.logEndOffset());
  }

  @Test
  void abortInterruptsAReadInProgressAndNothingIsWrittenAfterIt() throws Exception {
    MemoryLogStore peer = peerLog();
    MemoryLogStore store = damagedCopy(2);
    CountDownLatch reading = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    ReplicaRepairSource source = (from, until, maxBytes) -> {
      reading.countDown();
      try {
        new CountDownLatch(1).await(); // a peer that never answers
      } catch (InterruptedException e) {
        interrupted.set(true);
        throw e;
      }
      return peer.read(from, maxBytes);
    };
    ReplicaRepair repair = new ReplicaRepair("test", store, 6, 30, source, () -> { }, 1, 10);
    repair.start("repair-test");
    assertTrue(reading.await(30, TimeUnit.SECONDS));
    repair.abort(10_000);
    assertTrue(interrupted.get(), "the blocked read was interrupted");
    assertThrows(CancellationException.class, () -> repair.done().get(10, TimeUnit.SECONDS));
    assertEquals(6, store.logEndOffset());
  }

  @Test
  void aStoreThatCannotBeWrittenFailsTheRepair() throws Exception {
    MemoryLogStore peer = peerLog();
    MemoryLogStore store = damagedCopy(2);
    store.close(); // appends now fail
    ReplicaRepair repair = new ReplicaRepair("test", store, 6, 30, (from, until, maxBytes) -> peer.read(from, maxBytes),
        () -> { }, 1, 10);
    repair.run();
    ExecutionException e = assertThrows(ExecutionException.class, () -> repair.done().get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof IllegalStateException, e.toString());
  }
}
