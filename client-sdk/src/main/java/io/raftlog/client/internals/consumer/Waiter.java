package io.raftlog.client.internals.consumer;

/**
 * How the application thread waits inside {@code poll}/{@code position} for a response or a
 * timer. Injected so unit tests can advance a fake clock instead of sleeping.
 */
public interface Waiter {

    /** Wakes the waiting thread (or makes its next {@link #await} return at once). Any thread. */
    void wakeUp();

    /**
     * Blocks for at most {@code timeoutMs}, returning early after a {@link #wakeUp()} that happened
     * since the previous call returned. Application thread only.
     */
    void await(long timeoutMs) throws InterruptedException;

    /** The production waiter: a monitor and a flag, so a wake-up between checks is never lost. */
    static Waiter monitor() {
        return new Waiter() {
            private boolean woken;

            @Override
            public synchronized void wakeUp() {
                woken = true;
                notifyAll();
            }

            @Override
            public synchronized void await(long timeoutMs) throws InterruptedException {
                long end = System.nanoTime() + timeoutMs * 1_000_000L;
                long remainingNanos;
                while (!woken && (remainingNanos = end - System.nanoTime()) > 0) {
                    wait(Math.max(1, remainingNanos / 1_000_000L));
                }
                woken = false;
            }
        };
    }
}
