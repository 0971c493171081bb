package io.raftlog.client.transport;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lazily created, cached channels keyed by broker address. Thread-safe. gRPC channels reconnect
 * by themselves, so a channel is kept for the life of the pool.
 *
 * <p><b>Reconnect backoff.</b> After failed connection attempts a gRPC channel is in
 * {@code TRANSIENT_FAILURE} and waits out its own exponential backoff (1 s, then x1.6 per
 * failure, 20% jitter, up to 120 s) before it tries again; until then every call on it fails at
 * once with the last error ({@code UNAVAILABLE: io exception}). Attempts come about 0, 1, 2.6, 5.2,
 * 9.3, 15.8, 26.3 s after the first failure, so a broker that is back after a 10-25 s outage is
 * reached up to 6.5-10.5 s late, and the clients' own retries (every {@code retry.backoff.ms}) all
 * fail against the cached error meanwhile (the chaos suite saw idempotent producers spin like this
 * for 11-15 s after a full-cluster restart, until their batches' delivery timeout expired). So the
 * pool applies its own, shorter backoff, like Kafka's {@code reconnect.backoff.ms}: when
 * {@link #channel} hands out a channel in {@code TRANSIENT_FAILURE}, it makes gRPC reconnect now
 * ({@link ManagedChannel#resetConnectBackoff()}) unless it did so for that address less than the
 * current interval ago. The interval starts at {@code reconnectBackoffMs}, doubles per forced
 * attempt up to {@code max(1000, reconnectBackoffMs)}, and starts over once the channel is seen
 * {@code READY}. So a broker that is back is reached within about a second, and an unreachable
 * one gets at most about one connection attempt per second per client.
 */
public final class ChannelPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChannelPool.class);
    /** Upper bound of the forced reconnect interval (Kafka's reconnect.backoff.max.ms default). */
    public static final long RECONNECT_BACKOFF_MAX_MS = 1000;

    private final ChannelFactory factory;
    private final Clock clock;
    private final long reconnectBackoffMs;
    private final long reconnectBackoffMaxMs;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, Reconnects> reconnects = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** Forced reconnects of one address; guarded by its own monitor. */
    private static final class Reconnects {
        /** No forced reconnect before this time. */
        long notBeforeMs = Long.MIN_VALUE;
        /** The pause after the next forced reconnect. */
        long intervalMs;

        Reconnects(long intervalMs) {
            this.intervalMs = intervalMs;
        }
    }

    /** A pool with the system clock and a 100 ms initial reconnect backoff. */
    public ChannelPool(ChannelFactory factory) {
        this(factory, Clock.systemUTC(), 100);
    }

    /**
     * @param clock time source of the reconnect backoff
     * @param reconnectBackoffMs the first pause between forced reconnects of an address (clients
     *     pass their {@code retry.backoff.ms}); it doubles up to {@code max(1000, reconnectBackoffMs)}
     */
    public ChannelPool(ChannelFactory factory, Clock clock, long reconnectBackoffMs) {
        if (reconnectBackoffMs < 0) {
            throw new IllegalArgumentException("reconnectBackoffMs must be >= 0, got " + reconnectBackoffMs);
        }
        this.factory = factory;
        this.clock = clock;
        // At least 1 ms so that the doubling gets somewhere.
        this.reconnectBackoffMs = Math.max(1, reconnectBackoffMs);
        this.reconnectBackoffMaxMs = Math.max(RECONNECT_BACKOFF_MAX_MS, reconnectBackoffMs);
    }

    /**
     * The channel to {@code address}, created on first use. If the channel is waiting out gRPC's
     * reconnect backoff and the pool's shorter one has passed, it starts connecting now (see the
     * class comment); calls made before the connection is up still fail fast.
     */
    public ManagedChannel channel(String address) {
        if (closed) {
            throw new IllegalStateException("channel pool is closed");
        }
        ManagedChannel channel = channels.computeIfAbsent(address, factory::create);
        maybeReconnect(address, channel);
        return channel;
    }

    private void maybeReconnect(String address, ManagedChannel channel) {
        ConnectivityState state;
        try {
            state = channel.getState(false);
        } catch (UnsupportedOperationException e) {
            return; // a channel that does not report its state (custom factories): nothing to do
        }
        if (state == ConnectivityState.READY) {
            reconnects.remove(address);
            return;
        }
        if (state != ConnectivityState.TRANSIENT_FAILURE) {
            return;
        }
        Reconnects r = reconnects.computeIfAbsent(address, a -> new Reconnects(reconnectBackoffMs));
        long nowMs = clock.millis();
        long pauseMs;
        synchronized (r) {
            if (nowMs < r.notBeforeMs) {
                return;
            }
            pauseMs = r.intervalMs;
            r.notBeforeMs = nowMs + pauseMs;
            r.intervalMs = Math.min(reconnectBackoffMaxMs, r.intervalMs * 2);
        }
        log.debug("channel to {} is in TRANSIENT_FAILURE: reconnecting now instead of after gRPC's backoff "
                + "(next forced attempt in {} ms at the earliest)", address, pauseMs);
        channel.resetConnectBackoff();
    }

    /** Shuts every channel down, waiting briefly for in-flight calls to finish. */
    @Override
    public void close() {
        closed = true;
        List<ManagedChannel> all = new ArrayList<>(channels.values());
        channels.clear();
        all.forEach(ManagedChannel::shutdown);
        for (ManagedChannel channel : all) {
            try {
                if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
                    channel.shutdownNow();
                }
            } catch (InterruptedException e) {
                channel.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        log.debug("closed {} channel(s)", all.size());
    }
}
