package io.raftlog.client.internals.consumer.group;

import io.raftlog.client.fake.ManualClock;
import java.util.PriorityQueue;

/**
 * A {@link Scheduler} whose tasks run only when the test says so: {@link #runDue()} runs the tasks
 * due at the fake clock's time, {@link #advance} moves the clock task by task. Single-threaded.
 */
final class ManualScheduler implements Scheduler {
    private static final class Entry implements Task {
        final long atMs;
        final long seq;
        final Runnable task;
        boolean cancelled;

        Entry(long atMs, long seq, Runnable task) {
            this.atMs = atMs;
            this.seq = seq;
            this.task = task;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    private final ManualClock clock;
    private final PriorityQueue<Entry> queue = new PriorityQueue<>((a, b) -> a.atMs != b.atMs
            ? Long.compare(a.atMs, b.atMs) : Long.compare(a.seq, b.seq));
    private long seq;
    private boolean closed;

    ManualScheduler(ManualClock clock) {
        this.clock = clock;
    }

    @Override
    public synchronized Task schedule(Runnable task, long delayMs) {
        Entry e = new Entry(clock.millis() + Math.max(0, delayMs), seq++, task);
        if (!closed) {
            queue.add(e);
        }
        return e;
    }

    /** Runs every task due now (including ones they schedule for now). */
    void runDue() {
        for (int i = 0; ; i++) {
            if (i > 10_000) {
                throw new AssertionError("tasks keep rescheduling themselves for now");
            }
            Entry next;
            synchronized (this) {
                next = queue.peek();
                if (next == null || next.atMs > clock.millis()) {
                    return;
                }
                queue.poll();
            }
            if (!next.cancelled) {
                next.task.run();
            }
        }
    }

    /** The time of the next live task, or Long.MAX_VALUE. */
    synchronized long nextDueAt() {
        queue.removeIf(e -> e.cancelled);
        Entry next = queue.peek();
        return next == null ? Long.MAX_VALUE : next.atMs;
    }

    /** Moves the clock forward by {@code ms}, running each task when its time comes. */
    void advance(long ms) {
        long target = clock.millis() + ms;
        runDue();
        while (nextDueAt() <= target) {
            clock.advance(Math.max(0, nextDueAt() - clock.millis()));
            runDue();
        }
        clock.advance(target - clock.millis());
    }

    @Override
    public synchronized void close() {
        closed = true;
        queue.clear();
    }
}
