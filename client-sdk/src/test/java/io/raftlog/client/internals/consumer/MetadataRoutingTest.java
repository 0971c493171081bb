package io.raftlog.client.internals.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.internals.MetadataCache;
import io.raftlog.client.transport.ChannelPool;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Routing of partitions a cached view does not show: partitions added to a topic after it was cached. */
@Timeout(20)
class MetadataRoutingTest {
    private static final TopicPartition P3 = new TopicPartition("t", 3);

    private FakeCluster cluster;
    private ChannelPool pool;
    private MetadataCache cache;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("t", 3, 2);
        pool = new ChannelPool(cluster.channelFactory());
        // No maximum age: only an explicit lookup can see the added partitions.
        cache = new MetadataCache(List.of(cluster.address(1)), pool, Clock.systemUTC(), 100, 5000);
        assertEquals(3, cache.partitionCount("t"));
    }

    @AfterEach
    void tearDown() {
        pool.close();
        cluster.close();
    }

    @Test
    void aPartitionBeyondTheCachedCountIsLookedUpAfresh() {
        cluster.addPartitions("t", 4);
        MetadataRouting routing = new MetadataRouting(cache);
        String leader = cluster.address(cluster.leader(P3));
        assertEquals(leader, routing.fetchCandidates(P3).get(0));
        assertEquals(Optional.of(leader), routing.leader(P3));
        assertEquals(4, cache.snapshot().partitionCount("t").getAsInt());
    }

    @Test
    void aPartitionTheTopicDoesNotHaveIsAnErrorForAnAssignedConsumer() {
        MetadataRouting routing = new MetadataRouting(cache);
        long refreshes = cache.refreshCount();
        UnknownTopicOrPartitionException e = assertThrows(UnknownTopicOrPartitionException.class,
                () -> routing.fetchCandidates(P3));
        assertEquals("topic 't' has no partition 3 (it has 3)", e.getMessage());
        assertEquals(refreshes + 1, cache.refreshCount(), "judged on fresh metadata");
    }

    @Test
    void aPartitionFromTheCoordinatorThatMetadataDoesNotShowYetIsRetriedNotAnError() {
        MetadataRouting routing = new MetadataRouting(cache, () -> true);
        assertTrue(routing.fetchCandidates(P3).isEmpty(), "not routable yet");
        assertEquals(Optional.empty(), routing.leader(P3));
        cluster.addPartitions("t", 4);
        assertEquals(cluster.address(cluster.leader(P3)), routing.fetchCandidates(P3).get(0));
    }
}
