package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.TopicAlreadyExistsException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.fake.FakeCluster;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class AdminTest {
    private FakeCluster cluster;
    private Admin admin;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        admin = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap())
                .channelFactory(cluster.channelFactory()).requestTimeoutMs(3000).retryBackoffMs(10).build());
    }

    @AfterEach
    void tearDown() {
        admin.close();
        cluster.close();
    }

    @Test
    void topicLifecycle() {
        admin.blocking().createTopic("orders", 3, 2);
        admin.blocking().createTopic("audit", 1, 1);
        assertEquals(List.of("audit", "orders"), admin.blocking().listTopics());

        TopicDescription d = admin.blocking().describeTopic("orders");
        assertEquals("orders", d.name());
        assertEquals(2, d.replicationFactor());
        assertEquals(3, d.partitions().size());
        for (PartitionInfo p : d.partitions()) {
            assertEquals(cluster.leader(new TopicPartition("orders", p.partition())), p.leader());
            assertEquals(2, p.replicas().size());
            assertEquals(p.replicas(), p.isr());
            assertEquals(0, p.logEndOffset());
        }

        admin.blocking().deleteTopic("audit");
        assertEquals(List.of("orders"), admin.blocking().listTopics());
    }

    @Test
    void adminErrorsAreTyped() {
        admin.blocking().createTopic("t", 1, 1);
        assertThrows(TopicAlreadyExistsException.class, () -> admin.blocking().createTopic("t", 1, 1));
        assertThrows(InvalidArgumentException.class, () -> admin.blocking().createTopic("u", 0, 1));
        assertThrows(UnknownTopicOrPartitionException.class, () -> admin.blocking().deleteTopic("nope"));
        assertThrows(UnknownTopicOrPartitionException.class, () -> admin.blocking().describeTopic("nope"));
        // The async variant fails its future with the same typed exception.
        CompletionException e = assertThrows(CompletionException.class, () -> admin.createTopic("t", 1, 1).join());
        assertInstanceOf(TopicAlreadyExistsException.class, e.getCause());
    }

    @Test
    void describeClusterReportsBrokersAndLiveness() {
        cluster.stopBroker(2);
        ClusterDescription c = admin.blocking().describeCluster();
        assertEquals("fake-cluster", c.clusterId());
        assertEquals(1, c.metadataLeaderId());
        assertEquals(3, c.brokers().size());
        BrokerInfo b2 = c.brokers().stream().filter(b -> b.id() == 2).findFirst().orElseThrow();
        assertEquals(cluster.host(2), b2.host());
        assertEquals(cluster.port(2), b2.port());
        assertEquals(false, b2.alive());
    }

    @Test
    void describeClusterReportsLoadsAndUnderReplicatedPartitions() {
        admin.blocking().createTopic("orders", 3, 3);
        ClusterDescription healthy = admin.blocking().describeCluster();
        assertEquals(List.of(), healthy.underReplicatedPartitions());
        for (int id = 1; id <= 3; id++) {
            assertEquals(new BrokerLoad(id, 1, 3), healthy.load(id).orElseThrow());
        }
        cluster.stopBroker(2); // leads partition 1, follows 0 and 2
        ClusterDescription c = admin.blocking().describeCluster();
        assertEquals(new BrokerLoad(2, 0, 3), c.load(2).orElseThrow());
        assertEquals(3, c.underReplicatedPartitions().size());
        UnderReplicatedPartition offline = c.underReplicatedPartitions().get(1);
        assertEquals("orders", offline.topic());
        assertEquals(1, offline.partition());
        assertTrue(offline.offline());
        UnderReplicatedPartition p0 = c.underReplicatedPartitions().get(0);
        assertEquals(1, p0.leaderId());
        assertEquals(List.of(1, 2, 3), p0.replicas());
        assertEquals(List.of(1, 3), p0.isr());
    }

    @Test
    void failsOverToAnotherBrokerWhenOneIsDown() {
        cluster.stopBroker(1);
        cluster.stopBroker(2);
        // Every call must succeed whichever broker the rotation starts with.
        for (int i = 0; i < 4; i++) {
            admin.blocking().createTopic("t" + i, 1, 1);
        }
        assertEquals(4, admin.blocking().listTopics().size());
    }

    @Test
    void allBrokersDownTimesOut() {
        cluster.close();
        TimeoutException e = assertThrows(TimeoutException.class, () -> admin.blocking().listTopics());
        assertInstanceOf(BrokerNotAvailableException.class, e.getCause());
    }

    @Test
    void listOffsetsAsksTheLeader() {
        admin.blocking().createTopic("t", 2, 1);
        TopicPartition tp = new TopicPartition("t", 1);
        cluster.append(tp, "a", "b", "c");
        assertEquals(0, admin.blocking().listOffsets(tp, OffsetSpec.EARLIEST));
        assertEquals(3, admin.blocking().listOffsets(tp, OffsetSpec.LATEST));
        // After a leader move the stale cache gets NOT_LEADER, refreshes and retries.
        cluster.moveLeaderSilently(tp, 3);
        assertEquals(3, admin.blocking().listOffsets(tp, OffsetSpec.LATEST));
        assertThrows(UnknownTopicOrPartitionException.class,
                () -> admin.blocking().listOffsets(new TopicPartition("missing", 0), OffsetSpec.LATEST));
        assertTrue(cluster.metadataCalls() >= 2);
    }

    @Test
    void topicConfigsAreSetAtCreationShownAndChanged() {
        admin.blocking().createTopic("orders", 2, 1, Map.of("segment.bytes", "1048576", "retention.ms", "86400000"));
        admin.blocking().createTopic("plain", 1, 1);

        TopicDescription d = admin.blocking().describeTopic("orders");
        assertEquals(Map.of("retention.ms", "86400000", "segment.bytes", "1048576"), d.configOverrides());
        assertEquals(List.of("retention.ms", "segment.bytes"), List.copyOf(d.configOverrides().keySet()), "sorted");
        assertEquals("86400000", d.config().get("retention.ms"));
        assertEquals(FakeCluster.TOPIC_CONFIG_DEFAULTS.get("max.message.bytes"), d.config().get("max.message.bytes"));
        assertEquals(FakeCluster.TOPIC_CONFIG_DEFAULTS.keySet(), d.config().keySet());
        assertEquals(Map.of(), admin.blocking().describeTopic("plain").configOverrides());

        Map<String, String> after = admin.blocking().alterTopicConfig("orders",
                Map.of("retention.ms", "3600000", "max.message.bytes", "4096"), List.of("segment.bytes"));
        Map<String, String> expected = Map.of("max.message.bytes", "4096", "retention.ms", "3600000");
        assertEquals(expected, after);
        assertEquals(expected, cluster.topicConfig("orders"), "the fake stored the change");
        TopicDescription changed = admin.blocking().describeTopic("orders");
        assertEquals(expected, changed.configOverrides());
        assertEquals(FakeCluster.TOPIC_CONFIG_DEFAULTS.get("segment.bytes"), changed.config().get("segment.bytes"));
        assertEquals(Map.of(), cluster.topicConfig("plain"), "other topics are untouched");

        // The async variant completes with the same overrides.
        assertEquals(Map.of("max.message.bytes", "4096"),
                admin.alterTopicConfig("orders", Map.of(), Set.of("retention.ms")).join());
    }

    @Test
    void topicConfigErrorsAreTyped() {
        admin.blocking().createTopic("t", 1, 1);
        assertThrows(UnknownTopicOrPartitionException.class,
                () -> admin.blocking().alterTopicConfig("nope", Map.of("retention.ms", "1"), List.of()));
        InvalidArgumentException unknownKey = assertThrows(InvalidArgumentException.class,
                () -> admin.blocking().alterTopicConfig("t", Map.of("retention", "1"), List.of()));
        assertTrue(unknownKey.getMessage().contains("unknown topic config 'retention'"), unknownKey.getMessage());
        assertThrows(InvalidArgumentException.class,
                () -> admin.blocking().alterTopicConfig("t", Map.of(), List.of()));
        assertThrows(InvalidArgumentException.class,
                () -> admin.blocking().createTopic("u", 1, 1, Map.of("flush.ms", "1")));
        assertEquals(List.of("t"), admin.blocking().listTopics(), "a topic with a bad config is not created");
        // An impossible name fails at once, without a request.
        int calls = cluster.adminCalls();
        CompletionException e = assertThrows(CompletionException.class,
                () -> admin.alterTopicConfig("bad name", Map.of("retention.ms", "1"), List.of()).join());
        assertInstanceOf(InvalidTopicException.class, e.getCause());
        assertEquals(calls, cluster.adminCalls());
    }

    private static PreferredLeaderElection elected(String topic, int partition, int leader) {
        return new PreferredLeaderElection(topic, partition, leader, leader,
                PreferredLeaderElection.Outcome.ELECTED, "");
    }

    private static PreferredLeaderElection alreadyPreferred(String topic, int partition, int leader) {
        return new PreferredLeaderElection(topic, partition, leader, leader,
                PreferredLeaderElection.Outcome.ALREADY_PREFERRED, "");
    }

    @Test
    void electPreferredLeadersOfEveryTopicMovesLeadersBack() {
        admin.blocking().createTopic("orders", 3, 3); // preferred leaders 1, 2, 3
        admin.blocking().createTopic("audit", 1, 2);  // preferred leader 1
        cluster.moveLeaderSilently(new TopicPartition("orders", 1), 3);
        cluster.moveLeaderSilently(new TopicPartition("audit", 0), 2);

        // Sorted by topic, then partition.
        assertEquals(List.of(elected("audit", 0, 1), alreadyPreferred("orders", 0, 1), elected("orders", 1, 2),
                alreadyPreferred("orders", 2, 3)), admin.electPreferredLeaders().join());
        assertEquals(2, cluster.leader(new TopicPartition("orders", 1)), "the fake moved the leader");
        assertEquals(1, cluster.leader(new TopicPartition("audit", 0)));

        // Nothing left to move: a second run changes nothing.
        assertEquals(List.of(alreadyPreferred("audit", 0, 1), alreadyPreferred("orders", 0, 1),
                alreadyPreferred("orders", 1, 2), alreadyPreferred("orders", 2, 3)),
                admin.blocking().electPreferredLeaders());
    }

    @Test
    void electPreferredLeadersWithoutTopicsIsEmpty() {
        assertEquals(List.of(), admin.blocking().electPreferredLeaders());
    }

    @Test
    void electPreferredLeadersOfOneTopicLeavesOthersAlone() {
        admin.blocking().createTopic("orders", 2, 2);
        admin.blocking().createTopic("audit", 1, 2);
        cluster.moveLeaderSilently(new TopicPartition("orders", 0), 2);
        cluster.moveLeaderSilently(new TopicPartition("audit", 0), 2);

        assertEquals(List.of(elected("orders", 0, 1), alreadyPreferred("orders", 1, 2)),
                admin.blocking().electPreferredLeaders("orders"));
        assertEquals(2, cluster.leader(new TopicPartition("audit", 0)), "another topic is not touched");

        cluster.moveLeaderSilently(new TopicPartition("orders", 1), 3);
        assertEquals(List.of(alreadyPreferred("orders", 0, 1), elected("orders", 1, 2)),
                admin.electPreferredLeaders("orders").join());
    }

    @Test
    void electPreferredLeadersOfSomePartitions() {
        admin.blocking().createTopic("orders", 3, 2); // replicas [1,2], [2,3], [3,1]
        // Every leader on its second replica.
        cluster.moveLeaderSilently(new TopicPartition("orders", 0), 2);
        cluster.moveLeaderSilently(new TopicPartition("orders", 1), 3);
        cluster.moveLeaderSilently(new TopicPartition("orders", 2), 1);
        // Given out of order and twice: each partition is elected once, results in partition order.
        assertEquals(List.of(elected("orders", 0, 1), elected("orders", 2, 3)),
                admin.blocking().electPreferredLeaders("orders", List.of(2, 0, 2)));
        assertEquals(3, cluster.leader(new TopicPartition("orders", 1)), "partition 1 was not asked for");

        // No partitions means all of the topic's.
        assertEquals(List.of(alreadyPreferred("orders", 0, 1), elected("orders", 1, 2),
                alreadyPreferred("orders", 2, 3)), admin.electPreferredLeaders("orders", Set.of()).join());
    }

    @Test
    void electPreferredLeadersReportsAPreferredReplicaThatIsDownAsFailed() {
        admin.blocking().createTopic("orders", 3, 3);
        cluster.moveLeaderSilently(new TopicPartition("orders", 0), 3);
        cluster.moveLeaderSilently(new TopicPartition("orders", 1), 3);
        cluster.stopBroker(2); // preferred leader of partition 1

        List<PreferredLeaderElection> results = admin.blocking().electPreferredLeaders("orders");
        assertEquals(3, results.size(), results.toString());
        assertEquals(elected("orders", 0, 1), results.get(0));
        assertEquals(new PreferredLeaderElection("orders", 1, 2, 3, PreferredLeaderElection.Outcome.FAILED,
                "preferred replica 2 is not alive"), results.get(1), "a failed partition does not fail the call");
        assertEquals(alreadyPreferred("orders", 2, 3), results.get(2));
        assertEquals(3, cluster.leader(new TopicPartition("orders", 1)), "the leader stays where it was");
    }

    @Test
    void electPreferredLeadersErrorsAreTyped() {
        admin.blocking().createTopic("orders", 2, 1);
        assertThrows(UnknownTopicOrPartitionException.class, () -> admin.blocking().electPreferredLeaders("nope"));
        assertThrows(UnknownTopicOrPartitionException.class,
                () -> admin.blocking().electPreferredLeaders("nope", List.of(0)));
        // The broker is the authority on which partitions exist.
        InvalidArgumentException outOfRange = assertThrows(InvalidArgumentException.class,
                () -> admin.blocking().electPreferredLeaders("orders", List.of(0, 2)));
        assertTrue(outOfRange.getMessage().contains("partition 2 does not exist"), outOfRange.getMessage());
        CompletionException async = assertThrows(CompletionException.class,
                () -> admin.electPreferredLeaders("nope").join());
        assertInstanceOf(UnknownTopicOrPartitionException.class, async.getCause());

        // Refused by the client at once, without a request.
        int calls = cluster.adminCalls();
        InvalidTopicException noTopic = assertThrows(InvalidTopicException.class,
                () -> admin.blocking().electPreferredLeaders(null, List.of(0)));
        assertEquals("topic name must not be empty", noTopic.getMessage());
        assertThrows(InvalidTopicException.class, () -> admin.blocking().electPreferredLeaders("", List.of(0)));
        assertThrows(InvalidTopicException.class, () -> admin.blocking().electPreferredLeaders("bad name"));
        InvalidArgumentException negative = assertThrows(InvalidArgumentException.class,
                () -> admin.blocking().electPreferredLeaders("orders", List.of(0, -1)));
        assertEquals("partition ids must be >= 0; got -1 for topic 'orders'", negative.getMessage());
        assertThrows(NullPointerException.class, () -> admin.electPreferredLeaders("orders", null));
        assertThrows(NullPointerException.class,
                () -> admin.electPreferredLeaders("orders", java.util.Arrays.asList(0, null)));
        assertEquals(calls, cluster.adminCalls());
    }

    @Test
    void fakeRefusesPartitionsWithoutATopic() {
        // The SDK never sends this request (it needs a topic for partitions), so ask the fake directly.
        io.grpc.ManagedChannel channel = cluster.channelFactory().create(cluster.address(1));
        try {
            io.grpc.StatusRuntimeException e = assertThrows(io.grpc.StatusRuntimeException.class,
                    () -> io.raftlog.api.v1.AdminServiceGrpc.newBlockingStub(channel).electPreferredLeaders(
                            io.raftlog.api.v1.ElectPreferredLeadersRequest.newBuilder().addPartitions(0).build()));
            assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void anOutcomeUnknownToTheClientIsReportedAsFailed() {
        PreferredLeaderElection e = Admin.toElection(io.raftlog.api.v1.PreferredLeaderElection.newBuilder()
                .setTopic("t").setPartition(1).setPreferredLeader(2).setLeader(2).setOutcomeValue(7)
                .setMessage("moved").build());
        assertEquals(PreferredLeaderElection.Outcome.FAILED, e.outcome());
        assertEquals("the broker answered outcome 7, unknown to this client: moved", e.message());
        assertEquals(2, e.leader());
    }

    @Test
    void createPartitionsGrowsTheTopicToTheNewTotal() {
        admin.blocking().createTopic("orders", 3, 2);
        CreatePartitionsResult r = admin.blocking().createPartitions("orders", 6);
        assertEquals(new CreatePartitionsResult("orders", 3, 6), r);
        TopicDescription d = admin.blocking().describeTopic("orders");
        assertEquals(6, d.partitions().size());
        assertEquals(List.of(0, 1, 2, 3, 4, 5), d.partitions().stream().map(PartitionInfo::partition).toList());
        d.partitions().forEach(p -> assertEquals(2, p.replicas().size()));
        assertEquals(new CreatePartitionsResult("orders", 6, 7), admin.createPartitions("orders", 7).join());
    }

    @Test
    void createPartitionsErrorsAreTyped() {
        admin.blocking().createTopic("t", 3, 1);
        InvalidArgumentException shrink = assertThrows(InvalidArgumentException.class,
                () -> admin.blocking().createPartitions("t", 2));
        assertTrue(shrink.getMessage().contains("topic 't' has 3 partitions; the count can only grow"),
                shrink.getMessage());
        assertThrows(InvalidArgumentException.class, () -> admin.blocking().createPartitions("t", 3));
        assertThrows(UnknownTopicOrPartitionException.class, () -> admin.blocking().createPartitions("nope", 4));
        CompletionException e = assertThrows(CompletionException.class, () -> admin.createPartitions("t", 0).join());
        assertInstanceOf(InvalidArgumentException.class, e.getCause());
        assertEquals(3, cluster.partitionCount("t"), "nothing changed");

        int calls = cluster.adminCalls();
        assertThrows(InvalidTopicException.class, () -> admin.blocking().createPartitions("bad name", 4));
        assertEquals(calls, cluster.adminCalls(), "an impossible name is refused without a request");
    }
}
