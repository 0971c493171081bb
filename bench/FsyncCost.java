import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

/**
 * What a durable Raft log flush costs on this machine with the record data in one file, as now,
 * against two files, as Ratis' state machine data API would have it. Per flush, in each of
 * {@code threads} threads with their own files (a broker runs one Raft log worker per partition
 * replica, so the three brokers of the benchmark run nine):
 * <ul>
 *   <li>{@code one-file}: what Raftlog does now: the entry (payload plus a small header) is written to
 *       a Raft log file preallocated as Ratis does it (zeros written 4 MiB ahead of the end) and forced ({@code FileChannel.force(false)}, fdatasync, as
 *       Ratis' {@code BufferedWriteChannel} does), then the payload is written again, unforced, to an
 *       appended segment file (the apply path; it is forced only at snapshots);
 *   <li>{@code one-file-growing}: the same without preallocation: every write extends the Raft log
 *       file, so every fdatasync also commits the new file size;
 *   <li>{@code one-file-exact-zeros}: Ratis with a preallocation size below the entry size: it then
 *       writes exactly as many zeros as the entry needs at the file's end before writing the entry
 *       over them ({@code SegmentedRaftLogOutputStream.actualPreallocateSize});
 *   <li>{@code two-files}: the state machine data API: the payload is written to the segment file
 *       and forced ({@code StateMachine.DataApi.flush}), then the small entry to the Raft log file,
 *       forced too ({@code SegmentedRaftLogWorker.flushIfNecessary} does both, one after the other);
 *   <li>{@code two-files-prealloc}: the same with the segment file preallocated like the Raft log,
 *       so that most of its fdatasyncs have no file size to commit.
 * </ul>
 * Files only grow (every write lands on new pages, as in a real log); the preallocation's zeros
 * are written inside the measured time, as Ratis writes them on its log worker.
 * Prints wall time per flush (what an acks=all produce waits for) and process CPU per flush (user
 * and system). Not part of the product; see docs/benchmarks.md.
 *
 * <p>Run: {@code java bench/FsyncCost.java DIR [flushes per thread] [threads] [payload bytes]...}
 */
public class FsyncCost {
  private static final int HEADER_BYTES = 64;
  /** Ratis' default raft.server.log.preallocated.size; -Dchunk=BYTES for another. */
  private static final int PREALLOCATE_CHUNK = Integer.getInteger("chunk", 4 << 20);
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20);

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir"));
    int flushes = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    List<Integer> payloads = new ArrayList<>();
    for (int i = 3; i < args.length; i++) {
      payloads.add(Integer.parseInt(args[i]));
    }
    if (payloads.isEmpty()) {
      payloads = List.of(2048, 65536, 1 << 20);
    }
    Path work = Files.createTempDirectory(dir, "fsync-cost-");
    try {
      run(work, Mode.ONE_FILE, Math.min(flushes, 200), threads, 4096, "warm-up, not a result: ");
      for (int payload : payloads) {
        for (Mode mode : Mode.values()) {
          run(work, mode, flushes, threads, payload, "");
        }
      }
    } finally {
      try (var files = Files.list(work)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.delete(p);
        }
      }
      Files.delete(work);
    }
  }

  enum Mode { ONE_FILE, ONE_FILE_GROWING, ONE_FILE_EXACT_ZEROS, TWO_FILES, TWO_FILES_PREALLOC }

  private static void run(Path work, Mode mode, int flushes, int threads, int payload, String label)
      throws Exception {
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    List<Thread> workers = new ArrayList<>();
    Throwable[] failure = new Throwable[1];
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread worker = new Thread(() -> {
        try {
          flushLoop(work, id, mode, flushes, payload, start);
        } catch (Throwable e) {
          synchronized (failure) {
            failure[0] = e;
          }
        }
      }, "flusher-" + t);
      worker.start();
      workers.add(worker);
    }
    start.await(); // files created and preallocated
    long cpu0 = cpuNanos();
    long wall0 = System.nanoTime();
    start.await(); // go
    for (Thread worker : workers) {
      worker.join();
    }
    long wall = System.nanoTime() - wall0;
    long cpu = cpuNanos() - cpu0;
    if (failure[0] != null) {
      throw new IllegalStateException(failure[0]);
    }
    long total = (long) flushes * threads;
    System.out.printf("%s%-20s %2d threads, %8d B payload: %8.1f us wall per flush per thread,"
        + " %7.1f us CPU per flush, %6.0f flushes/s in all%n", label, mode.name().toLowerCase().replace('_', '-'),
        threads, payload, wall / 1e3 / flushes, cpu / 1e3 / total, total / (wall / 1e9));
  }

  private static void flushLoop(Path work, int id, Mode mode, int flushes, int payloadBytes, CyclicBarrier start)
      throws Exception {
    Path logPath = work.resolve("raft-log-" + id);
    Path segmentPath = work.resolve("segment-" + id);
    ByteBuffer payload = ByteBuffer.allocateDirect(payloadBytes);
    ByteBuffer entry = ByteBuffer.allocateDirect(payloadBytes + HEADER_BYTES);
    ByteBuffer header = ByteBuffer.allocateDirect(HEADER_BYTES);
    for (ByteBuffer b : List.of(payload, entry, header)) {
      while (b.hasRemaining()) {
        b.put((byte) (b.position() * 31));
      }
    }
    try (FileChannel log = open(logPath); FileChannel segment = open(segmentPath)) {
      start.await();
      start.await();
      long logPosition = 0;
      long logAllocated = 0;
      long segmentPosition = 0;
      long segmentAllocated = 0;
      for (int i = 0; i < flushes; i++) {
        switch (mode) {
          case ONE_FILE, ONE_FILE_GROWING, ONE_FILE_EXACT_ZEROS -> {
            long needed = logPosition + entry.capacity();
            if (mode == Mode.ONE_FILE) {
              logAllocated = preallocate(log, logAllocated, needed);
            } else if (mode == Mode.ONE_FILE_EXACT_ZEROS) {
              logAllocated = zeroFill(log, logAllocated, needed);
            }
            logPosition += write(log, entry, logPosition);
            log.force(false);
            segmentPosition += write(segment, payload, segmentPosition);
          }
          case TWO_FILES, TWO_FILES_PREALLOC -> {
            if (mode == Mode.TWO_FILES_PREALLOC) {
              segmentAllocated = preallocate(segment, segmentAllocated, segmentPosition + payloadBytes);
            }
            segmentPosition += write(segment, payload, segmentPosition);
            segment.force(false);
            logAllocated = preallocate(log, logAllocated, logPosition + header.capacity());
            logPosition += write(log, header, logPosition);
            log.force(false);
          }
        }
      }
    } finally {
      Files.deleteIfExists(logPath);
      Files.deleteIfExists(segmentPath);
    }
  }

  private static FileChannel open(Path path) throws IOException {
    return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
  }

  /**
   * Like Ratis' log output stream: when a write would pass the preallocated end, writes another
   * chunk of zeros there (unforced; the next fdatasync commits the new size). Returns the new end.
   */
  private static long preallocate(FileChannel channel, long allocated, long needed) throws IOException {
    while (allocated < needed) {
      for (long end = allocated + PREALLOCATE_CHUNK; allocated < end; ) {
        allocated += write(channel, ZEROS, allocated);
      }
    }
    return allocated;
  }

  /** Zeros from {@code allocated} up to {@code needed}, no more. Returns the new end. */
  private static long zeroFill(FileChannel channel, long allocated, long needed) throws IOException {
    while (allocated < needed) {
      ByteBuffer zeros = ZEROS.duplicate().clear();
      zeros.limit((int) Math.min(zeros.capacity(), needed - allocated));
      allocated += channel.write(zeros, allocated);
    }
    return allocated;
  }

  private static int write(FileChannel channel, ByteBuffer source, long position) throws IOException {
    ByteBuffer b = source.duplicate().clear();
    int written = 0;
    while (b.hasRemaining()) {
      written += channel.write(b, position + written);
    }
    return written;
  }

  private static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
  }
}
