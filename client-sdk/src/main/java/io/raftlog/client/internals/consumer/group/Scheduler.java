package io.raftlog.client.internals.consumer.group;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the group machinery's timers (heartbeats, retry backoff) off the application thread.
 * Injected so unit tests can run due tasks by hand against a fake clock instead of sleeping.
 * Thread-safe.
 */
public interface Scheduler extends AutoCloseable {

    /** A scheduled task; cancelling one that already ran (or is running) does nothing. */
    interface Task {
        void cancel();
    }

    /** Runs {@code task} on the scheduler's thread after {@code delayMs} (0: as soon as possible). */
    Task schedule(Runnable task, long delayMs);

    /** Runs {@code task} on the scheduler's thread as soon as possible. */
    default void execute(Runnable task) {
        schedule(task, 0);
    }

    /** Stops the thread; tasks not run yet are dropped. Idempotent. */
    @Override
    void close();

    /**
     * Tasks on an executor the caller owns (the admin client's thread). Unlike {@link #daemon},
     * {@link #schedule} throws {@code RejectedExecutionException} once the executor is shut down,
     * so a retry that can no longer run fails its call instead of leaving it pending;
     * {@link #close} does nothing (the owner shuts the executor down).
     */
    static Scheduler over(ScheduledExecutorService executor) {
        return new Scheduler() {
            @Override
            public Task schedule(Runnable task, long delayMs) {
                ScheduledFuture<?> f = executor.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
                return () -> f.cancel(false);
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * The production scheduler: one daemon thread named {@code threadName}. A task that throws is
     * logged and does not stop the thread.
     */
    static Scheduler daemon(String threadName) {
        Logger log = LoggerFactory.getLogger(Scheduler.class);
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return new Scheduler() {
            @Override
            public Task schedule(Runnable task, long delayMs) {
                Runnable guarded = () -> {
                    try {
                        task.run();
                    } catch (RuntimeException | Error e) {
                        log.error("unexpected error in a {} task", threadName, e);
                    }
                };
                if (executor.isShutdown()) {
                    return () -> { };
                }
                try {
                    ScheduledFuture<?> f = executor.schedule(guarded, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
                    return () -> f.cancel(false);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    return () -> { };
                }
            }

            @Override
            public void close() {
                executor.shutdownNow();
            }
        };
    }
}
