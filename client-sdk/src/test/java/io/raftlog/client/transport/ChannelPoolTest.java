package io.raftlog.client.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.raftlog.client.fake.ManualClock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pool's own reconnect backoff: a channel waiting out gRPC's (long) reconnect backoff is told
 * to reconnect now, at most once per interval, the interval doubling up to 1 s.
 */
@Timeout(10)
class ChannelPoolTest {

    /** A channel whose connectivity state the test sets; counts forced reconnects. */
    static final class StubChannel extends ManagedChannel {
        volatile ConnectivityState state = ConnectivityState.IDLE;
        int resets;

        @Override
        public ConnectivityState getState(boolean requestConnection) {
            return state;
        }

        @Override
        public void resetConnectBackoff() {
            resets++;
        }

        @Override
        public ManagedChannel shutdown() {
            return this;
        }

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return true;
        }

        @Override
        public ManagedChannel shutdownNow() {
            return this;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }

        @Override
        public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String authority() {
            return "stub";
        }
    }

    private final ManualClock clock = new ManualClock();
    private final Map<String, StubChannel> created = new HashMap<>();
    private final ChannelPool pool = new ChannelPool(address -> created.computeIfAbsent(address, a -> new StubChannel()),
            clock, 50);

    @Test
    void aChannelInTransientFailureReconnectsWithThePoolsBackoffNotGrpcs() {
        StubChannel ch = (StubChannel) pool.channel("b1:1");
        assertEquals(0, ch.resets, "a new (idle) channel connects by itself");
        ch.state = ConnectivityState.TRANSIENT_FAILURE;

        assertSame(ch, pool.channel("b1:1"));
        assertEquals(1, ch.resets, "first use in TRANSIENT_FAILURE reconnects at once");
        pool.channel("b1:1");
        clock.advance(49);
        pool.channel("b1:1");
        assertEquals(1, ch.resets, "not again within retry.backoff.ms");

        // Intervals 50, 100, 200, 400, 800, then capped at 1000 ms.
        long[] intervals = {50, 100, 200, 400, 800, 1000, 1000, 1000};
        clock.advance(1); // 50 ms after the first forced reconnect
        for (int i = 0; i < intervals.length; i++) {
            pool.channel("b1:1");
            assertEquals(2 + i, ch.resets, "forced reconnect #" + (2 + i));
            clock.advance(intervals[i + 1 < intervals.length ? i + 1 : i] - 1);
            pool.channel("b1:1");
            assertEquals(2 + i, ch.resets, "no forced reconnect before the interval has passed");
            clock.advance(1);
        }
    }

    @Test
    void theIntervalStartsOverOnceTheChannelWasReady() {
        StubChannel ch = (StubChannel) pool.channel("b1:1");
        ch.state = ConnectivityState.TRANSIENT_FAILURE;
        for (int i = 0; i < 6; i++) {
            pool.channel("b1:1");
            clock.advance(1000);
        }
        assertEquals(6, ch.resets);

        ch.state = ConnectivityState.READY;
        pool.channel("b1:1");
        ch.state = ConnectivityState.TRANSIENT_FAILURE;
        pool.channel("b1:1");
        assertEquals(7, ch.resets, "a new outage: reconnect at once");
        clock.advance(50);
        pool.channel("b1:1");
        assertEquals(8, ch.resets, "and again after the first interval, not after 1 s");
    }

    @Test
    void connectingAndIdleChannelsAreLeftAlone() {
        StubChannel ch = (StubChannel) pool.channel("b1:1");
        for (ConnectivityState s : new ConnectivityState[] {ConnectivityState.IDLE, ConnectivityState.CONNECTING,
                ConnectivityState.READY}) {
            ch.state = s;
            pool.channel("b1:1");
            clock.advance(5000);
        }
        assertEquals(0, ch.resets);
    }

    @Test
    void addressesHaveTheirOwnBackoff() {
        StubChannel a = (StubChannel) pool.channel("b1:1");
        StubChannel b = (StubChannel) pool.channel("b2:1");
        a.state = ConnectivityState.TRANSIENT_FAILURE;
        b.state = ConnectivityState.TRANSIENT_FAILURE;
        pool.channel("b1:1");
        pool.channel("b2:1");
        assertEquals(1, a.resets);
        assertEquals(1, b.resets);
    }
}
