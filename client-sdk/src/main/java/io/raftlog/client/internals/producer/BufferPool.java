package io.raftlog.client.internals.producer;

import io.raftlog.client.errors.BufferExhaustedException;
import io.raftlog.client.errors.RaftlogException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The producer's memory budget ({@code bufferMemoryBytes}), as byte accounting: each record
 * reserves its estimated encoded size when it is appended and its batch gives the bytes back once
 * the batch is completed (acknowledged, failed or expired).
 *
 * <p>Unlike Kafka's pool it does not hand out {@code ByteBuffer}s: each batch allocates its own
 * buffer and encodes its records into it, and the pool bounds the total by each record's estimated
 * encoded size (a batch's buffer may be larger than its records until it fills).
 *
 * <p>Thread-safe. Waiters are served first come, first served, so a big record is not starved by
 * a stream of small ones. Blocking uses the real (monotonic) time: it bounds how long a caller's
 * thread is parked, not protocol time.
 */
public final class BufferPool {
    private final long totalBytes;
    private final ReentrantLock lock = new ReentrantLock(true);
    private final Condition changed = lock.newCondition();
    private long availableBytes;
    private int waiters;
    private long nextTicket;
    private long servingTicket;
    private boolean closed;
    /** Tickets of waiters that gave up before their turn. Lock held. */
    private final java.util.Set<Long> leftEarly = new java.util.HashSet<>();

    public BufferPool(long totalBytes) {
        if (totalBytes <= 0) {
            throw new IllegalArgumentException("totalBytes must be > 0");
        }
        this.totalBytes = totalBytes;
        this.availableBytes = totalBytes;
    }

    /**
     * Reserves {@code bytes}, waiting up to {@code maxBlockMs} for other batches to complete.
     *
     * @throws BufferExhaustedException when the bytes did not become free in time
     * @throws RaftlogException when the pool is closed or the thread is interrupted
     * @throws IllegalArgumentException when {@code bytes} exceeds the whole pool (check first)
     */
    public void allocate(long bytes, long maxBlockMs) {
        if (bytes > totalBytes) {
            throw new IllegalArgumentException(bytes + " bytes exceed the whole buffer of " + totalBytes);
        }
        lock.lock();
        try {
            if (closed) {
                throw new RaftlogException("producer is closed");
            }
            if (waiters == 0 && availableBytes >= bytes) {
                availableBytes -= bytes;
                return;
            }
            long ticket = nextTicket++;
            waiters++;
            try {
                long remainingNanos = TimeUnit.MILLISECONDS.toNanos(maxBlockMs);
                while (closed || ticket != servingTicket || availableBytes < bytes) {
                    if (closed) {
                        throw new RaftlogException("producer closed while waiting for buffer memory");
                    }
                    if (remainingNanos <= 0) {
                        throw new BufferExhaustedException("could not reserve " + bytes
                                + " bytes of producer buffer memory within " + maxBlockMs + " ms (buffer.memory="
                                + totalBytes + ", " + availableBytes + " free); records are not being delivered "
                                + "as fast as they are sent, or the cluster is unreachable");
                    }
                    remainingNanos = changed.awaitNanos(remainingNanos);
                }
                availableBytes -= bytes;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RaftlogException("interrupted while waiting for producer buffer memory", e);
            } finally {
                waiters--;
                leaveLine(ticket);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Returns bytes reserved by {@link #allocate}. */
    public void deallocate(long bytes) {
        if (bytes <= 0) {
            return;
        }
        lock.lock();
        try {
            availableBytes = Math.min(totalBytes, availableBytes + bytes);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every waiter with an error; later allocations fail. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public long availableBytes() {
        lock.lock();
        try {
            return availableBytes;
        } finally {
            lock.unlock();
        }
    }

    public long totalBytes() {
        return totalBytes;
    }

    /** Threads blocked in {@link #allocate}. */
    public int waiters() {
        lock.lock();
        try {
            return waiters;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lock held. The waiter holding {@code ticket} is done (served, timed out or interrupted); a
     * waiter that gave up before its turn is remembered so the line skips it when its turn comes.
     */
    private void leaveLine(long ticket) {
        if (ticket == servingTicket) {
            servingTicket++;
        } else {
            leftEarly.add(ticket);
        }
        while (leftEarly.remove(servingTicket)) {
            servingTicket++;
        }
    }
}
