package io.raftlog.client.internals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.transport.ChannelPool;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class MetadataCacheTest {
    /** A clock tests move by hand. */
    static final class ManualClock extends Clock {
        private volatile long millis = 1_000_000;

        void advance(Duration d) {
            millis += d.toMillis();
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    private FakeCluster cluster;
    private ChannelPool pool;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("t", 3, 2);
        pool = new ChannelPool(cluster.channelFactory());
    }

    @AfterEach
    void tearDown() {
        pool.close();
        cluster.close();
    }

    @Test
    void mapsLeadersToBrokerAddresses() {
        MetadataCache cache = new MetadataCache(List.of(cluster.address(1)), pool, Clock.systemUTC(), 100, 5000);
        assertEquals(3, cache.partitionCount("t"));
        MetadataCache.Snapshot s = cache.snapshot();
        for (int p = 0; p < 3; p++) {
            TopicPartition tp = new TopicPartition("t", p);
            assertEquals(Optional.of(cluster.address(cluster.leader(tp))), s.leaderAddress(tp));
        }
        assertEquals(3, s.brokers().size());
        assertThrows(UnknownTopicOrPartitionException.class, () -> cache.partitionCount("missing"));
    }

    @Test
    void refreshOnDemandIsRateLimitedByTheBackoff() {
        ManualClock clock = new ManualClock();
        MetadataCache cache = new MetadataCache(List.of(cluster.address(1)), pool, clock, 100, 5000);
        cache.partitionCount("t");
        long calls = cache.refreshCount();
        assertFalse(cache.isStale());

        cache.maybeRefresh();
        assertEquals(calls, cache.refreshCount(), "fresh cache must not refresh");

        cache.invalidate();
        cache.maybeRefresh();
        assertEquals(calls, cache.refreshCount(), "within the backoff there is no RPC");
        assertTrue(cache.isStale());

        clock.advance(Duration.ofMillis(100));
        cache.maybeRefresh();
        assertEquals(calls + 1, cache.refreshCount());
        assertFalse(cache.isStale());
    }

    @Test
    void seesLeaderChangesAfterRefresh() {
        MetadataCache cache = new MetadataCache(List.of(cluster.address(1)), pool, Clock.systemUTC(), 0, 5000);
        TopicPartition tp = new TopicPartition("t", 0);
        cache.partitionCount("t");
        cluster.moveLeaderSilently(tp, 3);
        assertEquals(Optional.of(cluster.address(1)), cache.snapshot().leaderAddress(tp));
        cache.invalidate();
        assertEquals(Optional.of(cluster.address(3)), cache.maybeRefresh().leaderAddress(tp));
    }

    @Test
    void fallsBackToOtherBootstrapServers() {
        cluster.stopBroker(1);
        MetadataCache cache = new MetadataCache(List.of(cluster.address(1), cluster.address(2)), pool,
                Clock.systemUTC(), 100, 5000);
        assertEquals(3, cache.partitionCount("t"));
        assertFalse(cache.snapshot().brokers().get(1).alive());
    }

    @Test
    void noReachableBrokerIsRetriable() {
        cluster.close();
        MetadataCache cache = new MetadataCache(List.of(cluster.address(1)), pool, Clock.systemUTC(), 100, 5000);
        BrokerNotAvailableException e = assertThrows(BrokerNotAvailableException.class, () -> cache.refresh(List.of()));
        assertTrue(e.isRetriable());
    }

    @Test
    void aCacheOlderThanMaxAgeIsStaleAndSeesAddedPartitions() {
        ManualClock clock = new ManualClock();
        MetadataCache cache = new MetadataCache(List.of(cluster.address(1)), pool, clock, 100, 5000, 1000);
        assertEquals(3, cache.partitionCount("t"));
        long calls = cache.refreshCount();
        cluster.addPartitions("t", 5);

        clock.advance(Duration.ofMillis(999));
        assertFalse(cache.isStale());
        cache.maybeRefresh();
        assertEquals(calls, cache.refreshCount(), "younger than the max age: no RPC");
        assertEquals(3, cache.partitionCount("t"));

        clock.advance(Duration.ofMillis(1));
        assertTrue(cache.isStale(), "as old as the max age");
        cache.maybeRefresh();
        assertEquals(calls + 1, cache.refreshCount());
        assertFalse(cache.isStale());
        assertEquals(5, cache.partitionCount("t"));
        assertEquals(Optional.of(cluster.address(cluster.leader(new TopicPartition("t", 4)))),
                cache.snapshot().leaderAddress(new TopicPartition("t", 4)));
    }

    @Test
    void withoutAMaxAgeTheCacheStaysFreshUntilInvalidated() {
        ManualClock clock = new ManualClock();
        MetadataCache cache = new MetadataCache(List.of(cluster.address(1)), pool, clock, 100, 5000);
        cache.partitionCount("t");
        clock.advance(Duration.ofDays(365));
        assertFalse(cache.isStale());
    }
}
