package io.raftlog.client.internals.consumer.group;

import static io.raftlog.client.internals.consumer.group.FakeGroupTransport.address;
import static io.raftlog.client.internals.consumer.group.FakeGroupTransport.error;
import static io.raftlog.client.internals.consumer.group.FakeGroupTransport.heartbeatOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.CommittedOffset;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.client.ConsumerGroupMetadata;
import io.raftlog.client.ConsumerRebalanceListener;
import io.raftlog.client.OffsetAndMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.CommitFailedException;
import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.StaleMemberEpochException;
import io.raftlog.client.fake.ManualClock;
import io.raftlog.client.internals.consumer.Waiter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Group membership, reconciliation and commits against a scripted GroupService, a fake clock and
 * a scheduler run by hand: no network, no threads, no sleeps.
 */
@Timeout(10)
class ConsumerCoordinatorTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final TopicPartition P2 = new TopicPartition("t", 2);
    private static final String MEMBER = "member-a";
    private static final int SESSION_TIMEOUT_MS = 10_000;
    private static final long RETRY_BACKOFF_MS = 100;
    private static final int REQUEST_TIMEOUT_MS = 5_000;

    private final List<String> events = new ArrayList<>();
    private final ManualClock clock = new ManualClock();
    private final ManualScheduler scheduler = new ManualScheduler(clock);
    private final FakeGroupTransport transport = new FakeGroupTransport(events);
    private final FakePartitions partitions = new FakePartitions(events);
    private final RecordingListener listener = new RecordingListener();

    /** Waiting lets fake time pass up to the next scheduled task, which then runs. */
    private final Waiter waiter = new Waiter() {
        private boolean woken;

        @Override
        public synchronized void wakeUp() {
            woken = true;
        }

        @Override
        public void await(long timeoutMs) {
            synchronized (this) {
                if (woken) {
                    woken = false;
                    return;
                }
            }
            long next = scheduler.nextDueAt();
            scheduler.advance(next == Long.MAX_VALUE ? timeoutMs : Math.min(timeoutMs, Math.max(0, next - clock.millis())));
        }
    };

    private final BrokerDirectory brokers = new BrokerDirectory() {
        @Override
        public List<String> findCoordinatorCandidates() {
            return List.of(FakeGroupTransport.address(1), FakeGroupTransport.address(2), FakeGroupTransport.address(3));
        }

        @Override
        public Optional<String> address(int brokerId) {
            return brokerId >= 1 && brokerId <= 3 ? Optional.of(FakeGroupTransport.address(brokerId)) : Optional.empty();
        }
    };

    private MembershipManager membership;
    private ConsumerCoordinator coordinator;

    /** Logs each callback with what the fetcher and the last heartbeat held at that moment. */
    private final class RecordingListener implements ConsumerRebalanceListener {
        Consumer<Collection<TopicPartition>> onRevoked = c -> { };
        Consumer<Collection<TopicPartition>> onAssigned = c -> { };

        private String state() {
            List<GroupHeartbeatRequest> hbs = transport.heartbeats();
            return " fetcher=" + MembershipManager.sorted(partitions.assignment()) + " reported="
                    + (hbs.isEmpty() ? "-" : FakeGroupTransport.owned(hbs.get(hbs.size() - 1).getOwnedPartitionsList()));
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> tps) {
            events.add("revoked " + tps + state());
            onRevoked.accept(tps);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> tps) {
            events.add("assigned " + tps + state());
            onAssigned.accept(tps);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> tps) {
            events.add("lost " + tps + state());
        }
    }

    private void create(String groupId, boolean autoCommit) {
        CoordinatorClient coordinators = new CoordinatorClient(groupId == null ? "" : groupId, transport, brokers,
                scheduler, clock, RETRY_BACKOFF_MS, REQUEST_TIMEOUT_MS, "[test]");
        membership = groupId == null ? null : new MembershipManager(new MembershipManager.Settings(groupId, MEMBER,
                "client-a", SESSION_TIMEOUT_MS, 1000, "sticky", REQUEST_TIMEOUT_MS, RETRY_BACKOFF_MS),
                coordinators, transport, scheduler, clock, waiter::wakeUp, "[test]");
        coordinator = new ConsumerCoordinator(new ConsumerCoordinator.Settings(groupId, autoCommit, 5000,
                REQUEST_TIMEOUT_MS, RETRY_BACKOFF_MS), membership, groupId == null ? null : coordinators, transport,
                partitions, clock, waiter, "[test]");
    }

    private void create(boolean autoCommit) {
        create("g", autoCommit);
    }

    /**
     * Subscribes, joins at {@code epoch} with {@code assignment}, reconciles and has the owned set
     * acknowledged (heartbeats are answered here unless the transport answers them steadily).
     */
    private void join(int epoch, Set<TopicPartition> assignment) {
        coordinator.subscribe(Set.of("t"), listener);
        scheduler.runDue();
        assertEquals(0, transport.lastHeartbeat().getMemberEpoch(), "join heartbeat sent");
        if (transport.heartbeatPending()) {
            transport.answerHeartbeat(heartbeatOk(MEMBER, epoch, epoch, assignment));
        }
        scheduler.runDue();
        coordinator.poll();
        scheduler.runDue();
        if (transport.heartbeatPending()) {
            transport.answerHeartbeat(heartbeatOk(MEMBER, epoch, epoch, assignment));
        }
        scheduler.runDue();
        assertEquals(assignment, partitions.assignment());
    }

    private List<String> eventsStartingWith(String prefix) {
        return events.stream().filter(e -> e.startsWith(prefix)).toList();
    }

    // ---- join and reconciliation ------------------------------------------------------------------

    @Test
    void joinAssignsSeeksToCommittedOffsetsCallsTheListenerAndReportsTheOwnedSetAtOnce() {
        create(false);
        transport.committed.put(P0, 5L);
        coordinator.subscribe(Set.of("t"), listener);
        scheduler.runDue();

        assertEquals(1, transport.calls("findCoordinator").size());
        GroupHeartbeatRequest join = transport.lastHeartbeat();
        assertEquals(address(1), transport.calls("heartbeat").get(0).address());
        assertEquals("g", join.getGroupId());
        assertEquals(MEMBER, join.getMemberId());
        assertEquals(0, join.getMemberEpoch());
        assertEquals(List.of("t"), join.getSubscribedTopicsList());
        assertEquals(0, join.getOwnedPartitionsCount());
        assertEquals(SESSION_TIMEOUT_MS, join.getSessionTimeoutMs());
        assertEquals("sticky", join.getAssignor());
        assertEquals("client-a", join.getClientId());

        transport.answerHeartbeat(heartbeatOk(MEMBER, 3, 7, Set.of(P0, P1)));
        scheduler.runDue();
        assertTrue(coordinator.needsAttention(), "a waiting poll wakes up for the new assignment");
        coordinator.poll();

        assertEquals(Set.of(P0, P1), partitions.assignment());
        assertEquals(Map.of(P0, 5L), partitions.positions(), "P0 at its committed offset, P1 left to auto.offset.reset");
        assertEquals(List.of("assigned [t-0, t-1] fetcher=[t-0, t-1] reported=[]"), eventsStartingWith("assigned"));
        assertEquals(new ConsumerGroupMetadata("g", MEMBER, 3, 7), coordinator.groupMetadata());

        long before = clock.millis();
        scheduler.runDue();
        assertEquals(before, clock.millis());
        GroupHeartbeatRequest report = transport.lastHeartbeat();
        assertEquals(3, report.getMemberEpoch());
        assertEquals(List.of(P0, P1), FakeGroupTransport.owned(report.getOwnedPartitionsList()),
                "the new owned set is reported without waiting for the heartbeat interval");
        assertEquals(0, report.getSessionTimeoutMs(), "join-only fields are sent on join only");
    }

    @Test
    void revocationAutoCommitsAndCallsTheListenerBeforeGivingUpAndReportsTheSmallerSetAtOnce() {
        create(true);
        join(1, Set.of(P0, P1));
        partitions.positions.put(P0, 7L);
        partitions.positions.put(P1, 4L);
        events.clear();

        scheduler.advance(1000);
        assertTrue(transport.heartbeatPending(), "periodic heartbeat");
        transport.answerHeartbeat(heartbeatOk(MEMBER, 2, 2, Set.of(P1)));
        scheduler.runDue();
        coordinator.poll();

        assertEquals(List.of(
                "heartbeat epoch=1 owned=[t-0, t-1]",
                "commit t-0=7 epoch=2",
                "revoked [t-0] fetcher=[t-0, t-1] reported=[t-0, t-1]",
                "fetcher [t-1]"), events, "commit, then the callback while P0 is still owned, then it is dropped");
        assertEquals(Set.of(P1), partitions.assignment());

        scheduler.runDue();
        assertEquals("heartbeat epoch=2 owned=[t-1]", events.get(events.size() - 1),
                "the smaller owned set is reported at once");
    }

    @Test
    void moveOfAPartitionRevokesItAndAddsTheNewOneInOnePoll() {
        create(false);
        join(1, Set.of(P0));
        transport.committed.put(P2, 11L);
        scheduler.advance(1000);
        transport.answerHeartbeat(heartbeatOk(MEMBER, 2, 2, Set.of(P2)));
        scheduler.runDue();
        coordinator.poll();
        assertEquals(Set.of(P2), partitions.assignment());
        assertEquals(Map.of(P2, 11L), partitions.positions());
        assertEquals(List.of("revoked [t-0]", "assigned [t-2]"),
                events.stream().filter(e -> e.startsWith("revoked") || e.startsWith("assigned [t-2]"))
                        .map(e -> e.substring(0, e.indexOf(']') + 1)).toList());
    }

    @Test
    void newPartitionsWaitForTheirCommittedOffsets() {
        create(false);
        transport.fetchOffsetsAnswers.add(FakeGroupTransport.PENDING);
        coordinator.subscribe(Set.of("t"), listener);
        scheduler.runDue();
        transport.answerHeartbeat(heartbeatOk(MEMBER, 1, 1, Set.of(P0)));
        coordinator.poll();
        assertEquals(Set.of(), partitions.assignment(), "not fetched before its committed offset is known");
        assertFalse(coordinator.needsAttention());
        assertEquals(List.of(), eventsStartingWith("assigned"));

        transport.calls("fetchOffsets").get(0).future().complete(FetchOffsetsResponse.newBuilder()
                .addOffsets(CommittedOffset.newBuilder().setTopic("t").setPartition(0).setOffset(9)).build());
        assertTrue(coordinator.needsAttention(), "the answer wakes the poll");
        coordinator.poll();
        assertEquals(Map.of(P0, 9L), partitions.positions());
        assertEquals(1, eventsStartingWith("assigned").size());
    }

    /**
     * The race tryAcquire closes: P1 is in the target, but a heartbeat reporting "owns P0 only"
     * goes out before the member takes P1. If P1 left this member's target meanwhile, the
     * coordinator takes that heartbeat as P1's release and may hand P1 to another member; so the
     * member must not take P1 on the strength of the older target.
     */
    @Test
    void partitionsAreNotTakenFromATargetOlderThanTheLastHeartbeat() {
        create(false);
        join(1, Set.of(P0));
        transport.fetchOffsetsAnswers.add(FakeGroupTransport.PENDING);
        scheduler.advance(1000);
        transport.answerHeartbeat(heartbeatOk(MEMBER, 2, 2, Set.of(P0, P1)));
        scheduler.runDue();
        coordinator.poll(); // starts the committed-offset lookup for P1
        scheduler.advance(1000);
        assertTrue(transport.heartbeatPending(), "a periodic heartbeat (owning P0 only) is out");
        assertEquals(List.of(P0), FakeGroupTransport.owned(transport.lastHeartbeat().getOwnedPartitionsList()));

        List<FakeGroupTransport.Call> lookups = transport.calls("fetchOffsets");
        lookups.get(lookups.size() - 1).future().complete(FetchOffsetsResponse.newBuilder()
                .addOffsets(CommittedOffset.newBuilder().setTopic("t").setPartition(1).setOffset(3)).build());
        coordinator.poll();
        assertEquals(Set.of(P0), partitions.assignment(), "P1 is not taken while that heartbeat is out");
        assertFalse(coordinator.needsAttention(), "and the poll does not spin on it");

        // The coordinator moved P1 elsewhere (a new rebalance): the answer no longer lists it.
        transport.answerHeartbeat(heartbeatOk(MEMBER, 3, 3, Set.of(P0)));
        scheduler.runDue();
        assertTrue(coordinator.needsAttention(), "the answer wakes the poll");
        coordinator.poll();
        assertEquals(Set.of(P0), partitions.assignment());
        assertEquals(List.of(), eventsStartingWith("assigned [t-1]"));

        // Once a fresh target lists it again, it is taken.
        scheduler.advance(1000);
        transport.answerHeartbeat(heartbeatOk(MEMBER, 4, 4, Set.of(P0, P1)));
        scheduler.runDue();
        coordinator.poll();
        scheduler.runDue();
        if (!partitions.assignment().contains(P1)) {
            // The lookup for P1 started again; answer it.
            lookups = transport.calls("fetchOffsets");
            lookups.get(lookups.size() - 1).future().complete(FetchOffsetsResponse.newBuilder()
                    .addOffsets(CommittedOffset.newBuilder().setTopic("t").setPartition(1).setOffset(3)).build());
            coordinator.poll();
        }
        assertEquals(Set.of(P0, P1), partitions.assignment());
        scheduler.runDue();
        assertEquals(List.of(P0, P1), FakeGroupTransport.owned(transport.lastHeartbeat().getOwnedPartitionsList()));
    }

    @Test
    void listenerExceptionIsRethrownByPollAfterTheRebalance() {
        create(false);
        RuntimeException boom = new IllegalStateException("boom");
        listener.onAssigned = c -> {
            throw boom;
        };
        coordinator.subscribe(Set.of("t"), listener);
        scheduler.runDue();
        transport.answerHeartbeat(heartbeatOk(MEMBER, 1, 1, Set.of(P0)));
        assertSame(boom, assertThrows(IllegalStateException.class, coordinator::poll));
        assertEquals(Set.of(P0), partitions.assignment());
        scheduler.runDue();
        assertEquals(List.of(P0), FakeGroupTransport.owned(transport.lastHeartbeat().getOwnedPartitionsList()));
        coordinator.poll(); // nothing left to do: does not throw again
    }

    // ---- losing partitions ------------------------------------------------------------------------

    @Test
    void fencedMemberLosesItsPartitionsAndRejoinsWithEpochZero() {
        create(false);
        join(4, Set.of(P0, P1));
        scheduler.advance(1000);
        transport.answerHeartbeat(error(ErrorCode.FENCED_MEMBER_EPOCH, "epoch 4 is fenced", null));
        scheduler.runDue();
        assertTrue(coordinator.needsAttention());
        assertEquals(Set.of(P0, P1), partitions.assignment(), "given up by the application thread, in poll");
        int heartbeatsBefore = transport.heartbeats().size();
        scheduler.advance(5000);
        assertEquals(heartbeatsBefore, transport.heartbeats().size(), "no rejoin before the application gave them up");

        coordinator.poll();
        assertEquals(List.of("lost [t-0, t-1] fetcher=[t-0, t-1] reported=[t-0, t-1]"), eventsStartingWith("lost"));
        assertEquals(Set.of(), partitions.assignment());
        scheduler.runDue();
        GroupHeartbeatRequest rejoin = transport.lastHeartbeat();
        assertEquals(0, rejoin.getMemberEpoch());
        assertEquals(MEMBER, rejoin.getMemberId(), "the member id is kept across rejoins");
        assertEquals(0, rejoin.getOwnedPartitionsCount());
        assertEquals(SESSION_TIMEOUT_MS, rejoin.getSessionTimeoutMs());
    }

    @Test
    void unknownMemberIdAlsoLosesThePartitionsAndDefaultLostCallsRevoked() {
        create(false);
        List<Collection<TopicPartition>> revoked = new ArrayList<>();
        ConsumerRebalanceListener plain = new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> tps) {
                revoked.add(List.copyOf(tps));
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> tps) {
            }
        };
        coordinator.subscribe(Set.of("t"), plain);
        scheduler.runDue();
        transport.answerHeartbeat(heartbeatOk(MEMBER, 1, 1, Set.of(P2)));
        coordinator.poll();
        scheduler.runDue();
        transport.answerHeartbeat(error(ErrorCode.UNKNOWN_MEMBER_ID, "expelled", null));
        coordinator.poll();
        assertEquals(List.of(List.of(P2)), revoked, "onPartitionsLost defaults to onPartitionsRevoked");
    }

    @Test
    void noSuccessfulHeartbeatForTheSessionTimeoutLosesThePartitions() {
        create(false);
        join(1, Set.of(P0));
        for (int i = 0; i < 200; i++) {
            transport.heartbeatAnswers.add(FakeGroupTransport.unavailable());
        }
        scheduler.advance(SESSION_TIMEOUT_MS - 100);
        coordinator.poll();
        assertEquals(Set.of(P0), partitions.assignment(), "still owned within the session timeout");
        assertTrue(transport.heartbeats().size() > 10, "retried with backoff meanwhile");

        scheduler.advance(100);
        assertTrue(coordinator.needsAttention());
        coordinator.poll();
        assertEquals(Set.of(), partitions.assignment(), "stops fetching before the coordinator expels it");
        assertEquals(1, eventsStartingWith("lost").size());
        scheduler.advance(1000); // the heartbeat retry backoff still applies
        assertEquals(0, transport.lastHeartbeat().getMemberEpoch(), "rejoins");
    }

    @Test
    void answerToAHeartbeatOfAnEarlierMembershipIsIgnored() {
        create(false);
        join(1, Set.of(P0));
        scheduler.advance(1000);
        assertTrue(transport.heartbeatPending());
        transport.commitAnswers.add(error(ErrorCode.UNKNOWN_MEMBER_ID, "expelled", null));
        assertThrows(CommitFailedException.class,
                () -> coordinator.commitSync(Map.of(P0, new OffsetAndMetadata(1)), clock.millis() + 1000));
        transport.answerHeartbeat(heartbeatOk(MEMBER, 2, 2, Set.of(P0, P1)));
        coordinator.poll();
        assertEquals(List.of("lost [t-0]"), eventsStartingWith("lost").stream()
                .map(e -> e.substring(0, e.indexOf(']') + 1)).toList(), "the commit's UNKNOWN_MEMBER_ID counts");
        assertEquals(List.of(), eventsStartingWith("assigned [t-0, t-1]"), "the late answer is ignored");
        scheduler.runDue();
        assertEquals(0, transport.lastHeartbeat().getMemberEpoch());
    }

    @Test
    void fatalHeartbeatErrorIsThrownByPollAndTheMemberRejoinsLater() {
        create(false);
        coordinator.subscribe(Set.of("t"), listener);
        scheduler.runDue();
        transport.answerHeartbeat(error(ErrorCode.INVALID_ARGUMENT, "session_timeout_ms out of bounds", null));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, coordinator::poll);
        assertTrue(e.getMessage().contains("session_timeout_ms"), e.getMessage());
        coordinator.poll(); // thrown once
        int sent = transport.heartbeats().size();
        scheduler.advance(999);
        assertEquals(sent, transport.heartbeats().size(), "no rejoin storm");
        scheduler.advance(1);
        assertEquals(sent + 1, transport.heartbeats().size());
        assertEquals(0, transport.lastHeartbeat().getMemberEpoch());
    }

    // ---- coordinator lookup -------------------------------------------------------------------------

    @Test
    void notCoordinatorHintMovesHeartbeatsToTheHintedBroker() {
        create(false);
        join(1, Set.of(P0));
        scheduler.advance(1000);
        transport.answerHeartbeat(error(ErrorCode.NOT_COORDINATOR, "not the coordinator", 2));
        scheduler.advance(RETRY_BACKOFF_MS);
        List<FakeGroupTransport.Call> hbs = transport.calls("heartbeat");
        assertEquals(address(2), hbs.get(hbs.size() - 1).address());
        assertEquals(1, transport.calls("findCoordinator").size(), "the hint saves a lookup");
        assertEquals(1, transport.lastHeartbeat().getMemberEpoch(), "same membership");
    }

    @Test
    void commitFollowsTheNotCoordinatorHint() {
        create(false);
        partitions.assign(List.of(P0));
        transport.commitAnswers.add(error(ErrorCode.NOT_COORDINATOR, "not the coordinator", 3));
        coordinator.commitSync(Map.of(P0, new OffsetAndMetadata(3, "m")), clock.millis() + REQUEST_TIMEOUT_MS);
        List<FakeGroupTransport.Call> commits = transport.calls("commitOffsets");
        assertEquals(List.of(address(1), address(3)), commits.stream().map(FakeGroupTransport.Call::address).toList());
        CommitOffsetsRequest request = (CommitOffsetsRequest) commits.get(1).request();
        assertEquals("", request.getMemberId(), "a consumer without subscription commits as a non-member");
        assertEquals(-1, request.getMemberEpoch());
        assertEquals("m", request.getOffsets(0).getMetadata());
        assertEquals(3L, transport.committed.get(P0));
    }

    @Test
    void coordinatorNotAvailableIsRetriedWithBackoffOnAnotherBroker() {
        create(false);
        transport.findAnswers.add(FindCoordinatorResponse.newBuilder().setError(Error.newBuilder()
                .setCode(ErrorCode.COORDINATOR_NOT_AVAILABLE).setMessage("electing")).build());
        coordinator.subscribe(Set.of("t"), listener);
        scheduler.runDue();
        assertEquals(0, transport.heartbeats().size());
        scheduler.advance(RETRY_BACKOFF_MS);
        assertEquals(List.of(address(1), address(2)),
                transport.calls("findCoordinator").stream().map(FakeGroupTransport.Call::address).toList());
        assertEquals(1, transport.heartbeats().size());
    }

    // ---- commits ------------------------------------------------------------------------------------

    @Test
    void commitWithStaleEpochFailsWithCommitFailedException() {
        create(false);
        join(2, Set.of(P0));
        partitions.positions.put(P0, 3L);
        transport.commitAnswers.add(error(ErrorCode.STALE_MEMBER_EPOCH, "epoch 2 is stale", null));
        CommitFailedException e = assertThrows(CommitFailedException.class,
                () -> coordinator.commitSync(clock.millis() + REQUEST_TIMEOUT_MS));
        assertInstanceOf(StaleMemberEpochException.class, e.getCause());
        assertFalse(e.isRetriable());
        assertTrue(e.getMessage().contains("rebalanced") && e.getMessage().contains("poll()"), e.getMessage());
        List<FakeGroupTransport.Call> commits = transport.calls("commitOffsets");
        assertEquals(1, commits.size(), "not retried");
        CommitOffsetsRequest request = (CommitOffsetsRequest) commits.get(0).request();
        assertEquals(MEMBER, request.getMemberId());
        assertEquals(2, request.getMemberEpoch());
        coordinator.poll();
        assertEquals(Set.of(P0), partitions.assignment(), "a stale commit does not lose the partitions");
    }

    @Test
    void commitSyncCommitsOnlyMovedPositionsAndRetriesRetriableErrors() {
        create(false);
        join(1, Set.of(P0, P1));
        partitions.positions.put(P0, 5L);
        transport.commitAnswers.add(FakeGroupTransport.unavailable());
        transport.commitAnswers.add(FakeGroupTransport.unavailable());
        coordinator.commitSync(clock.millis() + REQUEST_TIMEOUT_MS);
        assertEquals(3, transport.calls("commitOffsets").size());
        assertEquals(Map.of(P0, 5L), transport.committed);
        coordinator.commitSync(clock.millis() + REQUEST_TIMEOUT_MS);
        assertEquals(3, transport.calls("commitOffsets").size(), "unchanged positions are not committed again");
    }

    @Test
    void commitAsyncGivesUpAfterOneRetry() {
        create(false);
        partitions.assign(List.of(P0));
        transport.commitAnswers.add(FakeGroupTransport.unavailable());
        transport.commitAnswers.add(FakeGroupTransport.unavailable());
        CompletableFuture<Void> f = coordinator.commitAsync(Map.of(P0, new OffsetAndMetadata(1)));
        assertFalse(f.isDone());
        scheduler.advance(RETRY_BACKOFF_MS);
        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(BrokerNotAvailableException.class, e.getCause());
        assertEquals(2, transport.calls("commitOffsets").size());
    }

    @Test
    void autoCommitCommitsMovedPositionsWhenTheIntervalElapsed() {
        create(true);
        transport.committed.put(P0, 2L);
        transport.steadyHeartbeat = heartbeatOk(MEMBER, 1, 1, Set.of(P0, P1));
        join(1, Set.of(P0, P1));
        partitions.positions.put(P0, 5L); // records up to 4 were returned by a poll
        coordinator.poll();
        assertEquals(List.of(), eventsStartingWith("commit"), "interval not elapsed yet");
        scheduler.advance(5000);
        coordinator.poll();
        assertEquals(List.of("commit t-0=5 epoch=1"), eventsStartingWith("commit"),
                "only the moved position; P1 has none");
        scheduler.advance(5000);
        coordinator.poll();
        assertEquals(1, eventsStartingWith("commit").size(), "nothing moved since");
    }

    @Test
    void commitSyncInsideOnPartitionsRevokedCommitsTheRevokedPartitions() {
        create(false);
        join(1, Set.of(P0, P1));
        partitions.positions.put(P0, 8L);
        listener.onRevoked = tps -> coordinator.commitSync(clock.millis() + REQUEST_TIMEOUT_MS);
        scheduler.advance(1000);
        transport.answerHeartbeat(heartbeatOk(MEMBER, 2, 2, Set.of(P1)));
        coordinator.poll();
        assertEquals(Map.of(P0, 8L), transport.committed);
        int revokedAt = events.indexOf(eventsStartingWith("revoked").get(0));
        assertEquals("commit t-0=8 epoch=2", events.get(revokedAt + 1));
        assertEquals(Set.of(P1), partitions.assignment());
    }

    @Test
    void committedOmitsPartitionsWithoutAnOffset() {
        create(false);
        transport.committed.put(P0, 3L);
        assertEquals(Map.of(P0, new OffsetAndMetadata(3)),
                coordinator.committed(Set.of(P0, P1), clock.millis() + REQUEST_TIMEOUT_MS));
    }

    @Test
    void groupOperationsNeedAGroupId() {
        create(null, true);
        partitions.assign(List.of(P0));
        partitions.positions.put(P0, 1L);
        assertThrows(IllegalStateException.class, () -> coordinator.commitSync(clock.millis() + 100));
        assertThrows(IllegalStateException.class, () -> coordinator.commitAsync());
        assertThrows(IllegalStateException.class, () -> coordinator.committed(Set.of(P0), clock.millis() + 100));
        assertThrows(IllegalStateException.class, () -> coordinator.subscribe(Set.of("t"), null));
        scheduler.advance(10_000);
        coordinator.poll();
        coordinator.close(clock.millis() + 100);
        assertEquals(List.of(), transport.calls, "no auto-commit without a group");
    }

    // ---- leaving --------------------------------------------------------------------------------------

    @Test
    void closeCommitsRevokesThenLeaves() {
        create(true);
        transport.steadyHeartbeat = heartbeatOk(MEMBER, 1, 1, Set.of(P0));
        join(1, Set.of(P0));
        partitions.positions.put(P0, 4L);
        events.clear();
        coordinator.close(clock.millis() + REQUEST_TIMEOUT_MS);
        assertEquals(List.of(
                "commit t-0=4 epoch=1",
                "revoked [t-0] fetcher=[t-0] reported=[t-0]",
                "fetcher []",
                "heartbeat epoch=-1 owned=[]"), events);
        int sent = transport.heartbeats().size();
        scheduler.advance(60_000);
        assertEquals(sent, transport.heartbeats().size(), "no heartbeat after close");
    }

    @Test
    void unsubscribeOfALostMemberCallsLostAndSendsNoLeave() {
        create(false);
        join(1, Set.of(P0));
        scheduler.advance(1000);
        transport.answerHeartbeat(error(ErrorCode.FENCED_MEMBER_EPOCH, "fenced", null));
        events.clear();
        coordinator.unsubscribe(clock.millis() + REQUEST_TIMEOUT_MS);
        assertEquals(List.of("lost [t-0] fetcher=[t-0] reported=[t-0]", "fetcher []"), events);
        assertFalse(coordinator.subscribed());
        assertEquals(new ConsumerGroupMetadata("g", "", -1, -1), coordinator.groupMetadata());
    }

    @Test
    void resubscribingAfterUnsubscribeRejoinsWithTheSameMemberId() {
        create(false);
        transport.steadyHeartbeat = heartbeatOk(MEMBER, 1, 1, Set.of(P0));
        join(1, Set.of(P0));
        coordinator.unsubscribe(clock.millis() + REQUEST_TIMEOUT_MS);
        assertEquals(-1, transport.lastHeartbeat().getMemberEpoch());
        coordinator.subscribe(Set.of("t", "u"), listener);
        scheduler.runDue();
        GroupHeartbeatRequest rejoin = transport.lastHeartbeat();
        assertEquals(0, rejoin.getMemberEpoch());
        assertEquals(MEMBER, rejoin.getMemberId());
        assertEquals(List.of("t", "u"), rejoin.getSubscribedTopicsList());
    }
}
