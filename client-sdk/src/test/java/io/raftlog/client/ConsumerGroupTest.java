package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.errors.CommitFailedException;
import io.raftlog.client.errors.GroupNotEmptyException;
import io.raftlog.client.fake.Await;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.fake.FakeMembershipCoordinator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Consumer groups end to end over in-process gRPC: the whole consumer (fetcher, membership on its
 * background thread, commits) against {@link FakeCluster}'s fake group coordinator.
 */
@Timeout(30)
class ConsumerGroupTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final TopicPartition P2 = new TopicPartition("t", 2);
    private static final Set<TopicPartition> ALL = Set.of(P0, P1, P2);

    private FakeCluster cluster;
    private FakeMembershipCoordinator groups;
    private final List<Consumer<String, String>> consumers = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("t", 3, 2);
        groups = cluster.membership();
    }

    @AfterEach
    void tearDown() {
        consumers.forEach(c -> {
            try {
                c.close(Duration.ofSeconds(2));
            } catch (RuntimeException e) {
                // already closed or in use by a finished test
            }
        });
        cluster.close();
    }

    private Consumer<String, String> consumer(UnaryOperator<ConsumerConfig.Builder> settings) {
        ConsumerConfig.Builder b = ConsumerConfig.builder().bootstrapServers(cluster.address(1))
                .channelFactory(cluster.channelFactory()).retryBackoffMs(10).requestTimeoutMs(3000)
                .fetchMaxWaitMs(50).autoOffsetReset(AutoOffsetReset.EARLIEST).groupId("g")
                .heartbeatIntervalMs(100).sessionTimeoutMs(5000).enableAutoCommit(false);
        Consumer<String, String> c = Consumer.create(settings.apply(b).build(), new StringDeserializer(),
                new StringDeserializer());
        consumers.add(c);
        return c;
    }

    private Consumer<String, String> consumer() {
        return consumer(b -> b);
    }

    /** A listener logging callbacks as "assigned [..]" / "revoked [..]" / "lost [..]". */
    private static final class Log implements ConsumerRebalanceListener {
        final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            events.add("revoked " + partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            events.add("assigned " + partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            events.add("lost " + partitions);
        }
    }

    private static List<ConsumerRecord<String, String>> pollFor(Consumer<String, String> c, int count) {
        List<ConsumerRecord<String, String>> all = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (all.size() < count && System.nanoTime() < deadline) {
            all.addAll(c.poll(Duration.ofMillis(100)));
        }
        return all;
    }

    /** Polls the consumers in turn (each poll 20 ms) until the condition holds. */
    @SafeVarargs
    private static void pollUntil(String what, BooleanSupplier condition, Consumer<String, String>... cs) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            for (Consumer<String, String> c : cs) {
                c.poll(Duration.ofMillis(20));
            }
        }
    }

    @Test
    void subscriberReadsEveryPartitionAndCommitSyncStoresThePositions() {
        cluster.append(P0, "a0", "a1", "a2");
        cluster.append(P1, "b0");
        cluster.append(P2, "c0", "c1");
        Consumer<String, String> c = consumer();
        Log log = new Log();
        c.subscribe(List.of("t"), log);
        assertEquals(Set.of("t"), c.subscription());
        List<ConsumerRecord<String, String>> records = pollFor(c, 6);
        assertEquals(6, records.size());
        assertEquals(List.of("assigned [t-0, t-1, t-2]"), log.events);
        assertEquals(ALL, c.assignment());
        ConsumerGroupMetadata meta = c.groupMetadata();
        assertEquals("g", meta.groupId());
        assertTrue(meta.memberEpoch() > 0, meta.toString());
        assertEquals(Set.of(meta.memberId()), groups.members("g"));

        c.commitSync();
        assertEquals(Map.of(P0, 3L, P1, 1L, P2, 2L), groups.committed("g"));
        assertEquals(Map.of(P0, new OffsetAndMetadata(3), P1, new OffsetAndMetadata(1), P2, new OffsetAndMetadata(2)),
                c.committed(ALL));
        int commits = groups.commits().size();
        c.commitSync();
        assertEquals(commits, groups.commits().size(), "nothing moved: no commit");
    }

    @Test
    void nextMemberResumesFromTheCommittedOffsetsAfterCloseLeavesTheGroup() {
        cluster.append(P0, "old0", "old1");
        Consumer<String, String> first = consumer();
        first.subscribe(List.of("t"));
        assertEquals(2, pollFor(first, 2).size());
        first.commitSync();
        String firstId = first.groupMetadata().memberId();
        first.close();
        assertEquals(Set.of(), groups.members("g"), "close sent the leave");
        assertTrue(groups.heartbeats().stream().anyMatch(h -> h.getMemberId().equals(firstId) && h.getMemberEpoch() == -1));

        cluster.append(P0, "new2");
        Consumer<String, String> second = consumer();
        second.subscribe(List.of("t"));
        List<ConsumerRecord<String, String>> records = pollFor(second, 1);
        assertEquals(List.of("new2"), records.stream().map(ConsumerRecord::value).toList(), "resumed at offset 2");
        assertEquals(2L, records.get(0).offset());
    }

    @Test
    void twoMembersSplitThePartitionsWithoutOverlap() {
        Consumer<String, String> a = consumer();
        Log logA = new Log();
        a.subscribe(List.of("t"), logA);
        pollUntil("a owns everything", () -> a.assignment().equals(ALL), a);

        Consumer<String, String> b = consumer();
        Log logB = new Log();
        b.subscribe(List.of("t"), logB);
        pollUntil("the partitions are split", () -> {
            Set<TopicPartition> union = new HashSet<>(a.assignment());
            union.addAll(b.assignment());
            return !a.assignment().isEmpty() && !b.assignment().isEmpty() && union.equals(ALL)
                    && a.assignment().size() + b.assignment().size() == 3;
        }, a, b);
        assertTrue(logA.events.stream().anyMatch(e -> e.startsWith("revoked")), logA.events.toString());
        assertEquals(1, logB.events.size(), logB.events.toString());
        Map<String, Set<TopicPartition>> owned = groups.owned("g");
        assertEquals(2, owned.size());
    }

    @Test
    void autoCommitCommitsOnlyThePositionsOfRecordsAlreadyReturned() {
        cluster.createTopic("one", 1, 1);
        TopicPartition tp = new TopicPartition("one", 0);
        for (int i = 0; i < 10; i++) {
            cluster.append(tp, "v" + i);
        }
        Consumer<String, String> c = consumer(b -> b.enableAutoCommit(true).autoCommitIntervalMs(0).maxPollRecords(2));
        c.subscribe(List.of("one"));
        int returned = 0;
        while (returned < 10) {
            int before = returned;
            List<ConsumerRecord<String, String>> records = c.poll(Duration.ofMillis(200));
            returned += records.size();
            Long committed = groups.committed("g").get(tp);
            assertTrue(committed == null || committed <= before, "committed " + committed + " but only " + before
                    + " records were returned before this poll (the fetch had all 10)");
        }
        // A generous deadline: on a loaded CI machine the commits of the polls above may still queue.
        Await.until("the last position is committed", Duration.ofSeconds(30), () -> {
            c.poll(Duration.ofMillis(10));
            return Long.valueOf(10).equals(groups.committed("g").get(tp));
        });
    }

    @Test
    void listenerMayCommitFromInsideTheCallbackButNotPoll() {
        cluster.append(P0, "x0", "x1");
        Consumer<String, String> c = consumer();
        List<Object> seen = new CopyOnWriteArrayList<>();
        c.subscribe(List.of("t"), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                seen.add(c.position(P0));
                c.commitSync();
                seen.add(assertThrows(IllegalStateException.class, () -> c.poll(Duration.ZERO)).getMessage());
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                seen.add(c.committed(Set.copyOf(partitions)));
            }
        });
        assertEquals(2, pollFor(c, 2).size());
        c.unsubscribe();
        assertEquals(Map.of(), seen.get(0), "committed() from onPartitionsAssigned");
        assertEquals(2L, seen.get(1), "position() from onPartitionsRevoked");
        assertTrue(seen.get(2).toString().contains("ConsumerRebalanceListener"), seen.toString());
        assertEquals(2L, groups.committed("g").get(P0), "commitSync() from onPartitionsRevoked");
        assertEquals(Set.of(), c.subscription());
        assertEquals(Set.of(), c.assignment());
        assertEquals(Set.of(), groups.members("g"));
    }

    @Test
    void assignAndSubscribeAreMutuallyExclusiveAndGroupsNeedAGroupId() {
        Consumer<String, String> c = consumer();
        c.assign(List.of(P0));
        assertThrows(IllegalStateException.class, () -> c.subscribe(List.of("t")));
        c.unsubscribe();
        c.subscribe(List.of("t"));
        assertThrows(IllegalStateException.class, () -> c.assign(List.of(P1)));

        Consumer<String, String> noGroup = consumer(b -> b.groupId(null));
        assertThrows(IllegalStateException.class, () -> noGroup.subscribe(List.of("t")));
        assertThrows(IllegalStateException.class, noGroup::commitSync);
        assertThrows(IllegalStateException.class, () -> noGroup.poll(Duration.ZERO));
    }

    @Test
    void manualAssignmentCommitsAsANonMemberOnlyWhileTheGroupIsEmpty() {
        Consumer<String, String> manual = consumer();
        manual.assign(List.of(P1));
        manual.commitSync(Map.of(P1, new OffsetAndMetadata(5, "by hand")));
        assertEquals(Map.of(P1, new OffsetAndMetadata(5, "by hand")), manual.committed(Set.of(P1)));
        assertEquals(new ConsumerGroupMetadata("g", "", -1, -1), manual.groupMetadata());

        Consumer<String, String> member = consumer();
        member.subscribe(List.of("t"));
        pollUntil("a member owns the partitions", () -> member.assignment().equals(ALL), member);
        CommitFailedException e = assertThrows(CommitFailedException.class,
                () -> manual.commitSync(Map.of(P1, new OffsetAndMetadata(6))));
        assertInstanceOf(GroupNotEmptyException.class, e.getCause());
        assertEquals(5L, groups.committed("g").get(P1));
    }

    @Test
    void coordinatorMoveIsFollowed() {
        Consumer<String, String> c = consumer();
        c.subscribe(List.of("t"));
        cluster.append(P2, "z");
        assertEquals(1, pollFor(c, 1).size());
        groups.moveCoordinator(3);
        c.commitSync();
        assertEquals(1L, groups.committed("g").get(P2));
        cluster.append(P2, "zz");
        assertEquals(1, pollFor(c, 1).size());
        int heartbeats = groups.heartbeats().size();
        Await.until("heartbeats continue", Duration.ofSeconds(5), () -> groups.heartbeats().size() > heartbeats + 2);
        assertEquals(ALL, c.assignment(), "the membership survived the move");
    }

    @Test
    void expelledMemberLosesItsPartitionsAndRejoins() {
        Consumer<String, String> c = consumer();
        Log log = new Log();
        c.subscribe(List.of("t"), log);
        pollUntil("owns everything", () -> c.assignment().equals(ALL), c);
        groups.expel("g", c.groupMetadata().memberId());
        pollUntil("rejoined", () -> log.events.size() >= 3 && c.assignment().equals(ALL), c);
        assertEquals(List.of("assigned [t-0, t-1, t-2]", "lost [t-0, t-1, t-2]", "assigned [t-0, t-1, t-2]"),
                log.events);
        assertEquals(Set.of(c.groupMetadata().memberId()), groups.members("g"), "same member id");
    }

    @Test
    void pollWithoutAssignmentJustWaits() {
        cluster.createTopic("empty", 1, 1);
        Consumer<String, String> a = consumer();
        a.subscribe(List.of("empty"));
        pollUntil("a owns the partition", () -> a.assignment().size() == 1, a);
        Consumer<String, String> b = consumer();
        b.subscribe(List.of("empty"));
        long start = System.nanoTime();
        assertEquals(List.of(), b.poll(Duration.ofMillis(300)));
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(290).toNanos(), "waited for the timeout");
        assertEquals(Set.of(), b.assignment());
        assertEquals(2, groups.members("g").size(), "b is a member without partitions");
    }

    /**
     * Partitions added to a subscribed topic: the coordinator assigns them and the member, whose
     * cached metadata still shows 3 partitions (nothing made it stale), looks them up and reads them.
     */
    @Test
    void aSubscriberGetsAndReadsPartitionsAddedToTheTopic() {
        cluster.append(P0, "a0");
        Consumer<String, String> c = consumer();
        Log log = new Log();
        c.subscribe(List.of("t"), log);
        assertEquals(List.of("a0"), pollFor(c, 1).stream().map(ConsumerRecord::value).toList());

        cluster.addPartitions("t", 5);
        TopicPartition p3 = new TopicPartition("t", 3);
        TopicPartition p4 = new TopicPartition("t", 4);
        cluster.append(p3, "d0", "d1");
        cluster.append(p4, "e0");
        List<ConsumerRecord<String, String>> records = pollFor(c, 3);
        assertEquals(Set.of("d0", "d1", "e0"), new HashSet<>(records.stream().map(ConsumerRecord::value).toList()));
        assertEquals(Set.of(P0, P1, P2, p3, p4), c.assignment());
        assertTrue(log.events.contains("assigned [t-3, t-4]"), log.events.toString());
    }
}
