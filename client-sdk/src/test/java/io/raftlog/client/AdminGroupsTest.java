package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.CoordinatorNotAvailableException;
import io.raftlog.client.errors.GroupIdNotFoundException;
import io.raftlog.client.errors.GroupNotEmptyException;
import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import io.raftlog.client.fake.Await;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.fake.FakeGroupCoordinator;
import io.raftlog.client.fake.FakeGroupCoordinator.GroupCall;
import io.raftlog.client.fake.FakeGroupCoordinator.Member;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Consumer-group administration: coordinator lookup and retries, mapping of answers and errors. */
@Timeout(20)
class AdminGroupsTest {
    private FakeCluster cluster;
    private FakeGroupCoordinator groups;
    private Admin admin;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        groups = cluster.groups();
        admin = admin(3000);
    }

    @AfterEach
    void tearDown() {
        admin.close();
        cluster.close();
    }

    private Admin admin(int requestTimeoutMs) {
        return Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap())
                .channelFactory(cluster.channelFactory()).requestTimeoutMs(requestTimeoutMs).retryBackoffMs(10)
                .build());
    }

    private static TopicPartition tp(String topic, int partition) {
        return new TopicPartition(topic, partition);
    }

    /** The group RPCs (FindCoordinator excluded) each broker received. */
    private List<GroupCall> groupRpcs() {
        return groups.calls().stream().filter(c -> !c.method().equals("FindCoordinator")).toList();
    }

    @Test
    void listAndDescribeMapEveryField() {
        cluster.createTopic("orders", 3, 1);
        groups.addMember("billing", new Member("m-1", "client-a", 4, List.of("orders"),
                List.of(tp("orders", 2), tp("orders", 0))));
        groups.addMember("billing", new Member("m-2", "client-b", 5, List.of("orders"), List.of(tp("orders", 1))));
        groups.commit("billing", tp("orders", 1), 42, "app-data");
        groups.commit("billing", tp("orders", 0), 7, "");
        groups.commit("audit", tp("orders", 0), 3, "");

        assertEquals(List.of(new GroupListing("audit", GroupState.EMPTY, 0),
                new GroupListing("billing", GroupState.STABLE, 2)), admin.blocking().listGroups());

        GroupDescription d = admin.blocking().describeGroup("billing");
        assertEquals("billing", d.groupId());
        assertEquals(GroupState.STABLE, d.state());
        assertEquals(2, d.groupEpoch());
        assertEquals("sticky", d.assignor());
        assertEquals(2, d.members().size());
        MemberDescription m1 = d.members().get(0);
        assertEquals("m-1", m1.memberId());
        assertEquals("client-a", m1.clientId());
        assertEquals(4, m1.memberEpoch());
        assertEquals(List.of("orders"), m1.subscribedTopics());
        assertEquals(List.of(tp("orders", 0), tp("orders", 2)), m1.assignment(), "sorted by partition");
        assertEquals(List.of(tp("orders", 0), tp("orders", 2)), m1.targetAssignment());
        assertEquals(List.of(), m1.pendingRevocation());
        assertEquals(List.of(tp("orders", 0), tp("orders", 1)), List.copyOf(d.offsets().keySet()));
        CommittedOffset o = d.offsets().get(tp("orders", 1));
        assertEquals(42, o.offset());
        assertEquals("app-data", o.metadata());
        assertTrue(o.commitTimestampMs() > 0);

        Map<TopicPartition, CommittedOffset> offsets = admin.blocking().listGroupOffsets("billing");
        assertEquals(d.offsets(), offsets);
        assertEquals(Map.of(), admin.blocking().listGroupOffsets("nobody"), "an unknown group has no offsets");
    }

    @Test
    void unknownGroupIsGroupIdNotFound() {
        assertThrows(GroupIdNotFoundException.class, () -> admin.blocking().describeGroup("nope"));
        assertThrows(GroupIdNotFoundException.class, () -> admin.blocking().deleteGroup("nope"));
        CompletionException e = assertThrows(CompletionException.class, () -> admin.describeGroup("nope").join());
        assertInstanceOf(GroupIdNotFoundException.class, e.getCause());
    }

    @Test
    void deleteNeedsAnEmptyGroup() {
        groups.addMember("g", new Member("m", "c", 1, List.of("t"), List.of()));
        groups.commit("g", tp("t", 0), 1, "");
        GroupNotEmptyException e = assertThrows(GroupNotEmptyException.class, () -> admin.blocking().deleteGroup("g"));
        assertEquals("group 'g' has 1 active members", e.getMessage(), "the broker's message");
        assertTrue(groups.exists("g"));

        groups.removeMembers("g");
        admin.blocking().deleteGroup("g");
        assertFalse(groups.exists("g"));
        assertEquals(List.of(), admin.blocking().listGroups());
    }

    @Test
    void resetOffsetsEachWay() {
        cluster.createTopic("t", 3, 1);
        cluster.append(tp("t", 0), "a", "b", "c");
        cluster.append(tp("t", 2), "x");
        groups.commit("g", tp("t", 0), 1, "");

        Map<TopicPartition, CommittedOffset> latest =
                admin.blocking().resetGroupOffsets("g", "t", GroupOffsetReset.latest());
        assertEquals(List.of(tp("t", 0), tp("t", 1), tp("t", 2)), List.copyOf(latest.keySet()));
        assertEquals(List.of(3L, 0L, 1L), latest.values().stream().map(CommittedOffset::offset).toList());

        Map<TopicPartition, CommittedOffset> earliest = admin.blocking().resetGroupOffsets("g", "t",
                GroupOffsetReset.earliest().forPartitions(List.of(0)));
        assertEquals(List.of(tp("t", 0)), List.copyOf(earliest.keySet()));
        assertEquals(0, earliest.get(tp("t", 0)).offset());

        admin.blocking().resetGroupOffsets("g", "t", GroupOffsetReset.toOffset(5).forPartitions(List.of(2, 1)));
        assertEquals(Map.of(tp("t", 0), 0L, tp("t", 1), 5L, tp("t", 2), 5L), groups.committed("g"));
        assertEquals(List.of(2, 1), GroupOffsetReset.toOffset(5).forPartitions(List.of(2, 1)).partitions());
        assertThrows(IllegalArgumentException.class, () -> GroupOffsetReset.toOffset(-1));
        assertThrows(IllegalArgumentException.class, () -> GroupOffsetReset.latest().forPartitions(List.of(-2)));
    }

    @Test
    void resetOffsetsErrors() {
        cluster.createTopic("t", 1, 1);
        groups.addMember("busy", new Member("m", "c", 1, List.of("t"), List.of(tp("t", 0))));
        GroupNotEmptyException busy = assertThrows(GroupNotEmptyException.class,
                () -> admin.blocking().resetGroupOffsets("busy", "t", GroupOffsetReset.earliest()));
        assertEquals("group 'busy' has 1 active members", busy.getMessage());
        assertThrows(UnknownTopicOrPartitionException.class,
                () -> admin.blocking().resetGroupOffsets("g", "missing", GroupOffsetReset.earliest()));
        assertThrows(UnknownTopicOrPartitionException.class,
                () -> admin.blocking().resetGroupOffsets("g", "t",
                        GroupOffsetReset.earliest().forPartitions(List.of(1))));

        int before = groups.calls().size();
        assertThrows(InvalidTopicException.class,
                () -> admin.blocking().resetGroupOffsets("g", "bad name", GroupOffsetReset.earliest()));
        assertThrows(InvalidArgumentException.class, () -> admin.blocking().describeGroup(""));
        assertThrows(InvalidArgumentException.class, () -> admin.blocking().deleteGroup(null));
        assertEquals(before, groups.calls().size(), "rejected without a request");
    }

    @Test
    void coordinatorIsLookedUpOnceAndCached() {
        groups.commit("g", tp("t", 0), 1, "");
        admin.blocking().listGroups();
        admin.blocking().describeGroup("g");
        admin.blocking().listGroupOffsets("g");
        assertEquals(1, groups.calls("FindCoordinator").size());
        assertTrue(groupRpcs().stream().allMatch(c -> c.brokerId() == 1), groups.calls().toString());
    }

    @Test
    void notCoordinatorWithAKnownHintGoesStraightToTheHintedBroker() {
        cluster.createTopic("t", 1, 1);
        admin.blocking().listOffsets(tp("t", 0), OffsetSpec.LATEST); // loads brokers into the metadata cache
        admin.blocking().listGroups();
        groups.moveCoordinator(3);

        admin.blocking().listGroups();
        assertEquals(1, groups.calls("FindCoordinator").size(), "the hint made a new lookup unnecessary");
        assertEquals(List.of(new GroupCall(1, "ListGroups"), new GroupCall(1, "ListGroups"),
                new GroupCall(3, "ListGroups")), groupRpcs());
    }

    @Test
    void notCoordinatorWithAnUnknownHintFindsTheCoordinatorAgain() {
        admin.blocking().listGroups(); // metadata never loaded: broker 3's address is unknown
        groups.moveCoordinator(3);
        admin.blocking().listGroups();
        assertEquals(2, groups.calls("FindCoordinator").size());
        assertEquals(new GroupCall(3, "ListGroups"), groupRpcs().get(groupRpcs().size() - 1));
    }

    @Test
    void notCoordinatorWithoutHintFindsTheCoordinatorAgain() {
        cluster.createTopic("t", 1, 1);
        admin.blocking().listOffsets(tp("t", 0), OffsetSpec.LATEST);
        admin.blocking().listGroups();
        groups.hintCoordinator(false);
        groups.moveCoordinator(2);
        admin.blocking().listGroups();
        assertEquals(2, groups.calls("FindCoordinator").size());
        assertEquals(new GroupCall(2, "ListGroups"), groupRpcs().get(groupRpcs().size() - 1));
    }

    @Test
    void unreachableCoordinatorIsFoundAgain() {
        admin.blocking().listGroups();
        cluster.stopBroker(1);
        groups.moveCoordinator(2);
        assertEquals(List.of(), admin.blocking().listGroups());
        assertEquals(new GroupCall(2, "ListGroups"), groupRpcs().get(groupRpcs().size() - 1));
    }

    @Test
    void coordinatorNotAvailableIsRetriedUntilOneIsElected() {
        groups.available(false);
        CompletableFuture<List<GroupListing>> pending = admin.listGroups();
        Await.until("two lookups refused", Duration.ofSeconds(5), () -> groups.calls("FindCoordinator").size() >= 2);
        assertFalse(pending.isDone());
        groups.moveCoordinator(2);
        groups.available(true);
        assertEquals(List.of(), pending.join());
        assertEquals(new GroupCall(2, "ListGroups"), groupRpcs().get(groupRpcs().size() - 1));
    }

    @Test
    void coordinatorNotAvailableOnTheCoordinatorIsRetried() {
        admin.blocking().listGroups();
        groups.available(false);
        CompletableFuture<List<GroupListing>> pending = admin.listGroups();
        Await.until("the coordinator refused", Duration.ofSeconds(5),
                () -> groups.calls("ListGroups").size() >= 2 && groups.calls("FindCoordinator").size() >= 2);
        groups.available(true);
        assertEquals(List.of(), pending.join());
    }

    @Test
    void noCoordinatorTimesOutWithTheLastError() {
        try (Admin quick = admin(300)) {
            groups.available(false);
            TimeoutException e = assertThrows(TimeoutException.class, () -> quick.blocking().listGroups());
            assertInstanceOf(CoordinatorNotAvailableException.class, e.getCause());
        }
    }

    @Test
    void allBrokersDownTimesOut() {
        try (Admin quick = admin(300)) {
            cluster.close();
            TimeoutException e = assertThrows(TimeoutException.class, () -> quick.blocking().describeGroup("g"));
            assertInstanceOf(BrokerNotAvailableException.class, e.getCause());
        }
    }
}
