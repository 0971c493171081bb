package io.raftlog.client.internals.consumer.group;

import static io.raftlog.client.internals.consumer.group.FakeGroupTransport.address;
import static io.raftlog.client.internals.consumer.group.FakeGroupTransport.error;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.CoordinatorNotAvailableException;
import io.raftlog.client.errors.GroupNotEmptyException;
import io.raftlog.client.errors.NotCoordinatorException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.fake.ManualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Coordinator lookup, caching, hint following and retries of {@link CoordinatorClient} (shared by
 * the consumer and the admin client), against a scripted GroupService, a fake clock and a scheduler
 * run by hand.
 */
@Timeout(10)
class CoordinatorClientTest {
    private static final long RETRY_BACKOFF_MS = 50;
    private static final int REQUEST_TIMEOUT_MS = 5_000;

    private final ManualClock clock = new ManualClock();
    private final ManualScheduler scheduler = new ManualScheduler(clock);
    private final FakeGroupTransport transport = new FakeGroupTransport(new ArrayList<>());
    /** Addresses the rpc under test was sent to, in order. */
    private final List<String> sentTo = new ArrayList<>();

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

    private CoordinatorClient client(Scheduler scheduler) {
        return new CoordinatorClient("g", transport, brokers, scheduler, clock, RETRY_BACKOFF_MS, REQUEST_TIMEOUT_MS,
                "[test]");
    }

    private final CoordinatorClient client = client(scheduler);

    /** An rpc that records where it went and answers with {@code answer(brokerId)}. */
    private BiFunction<CoordinatorClient.Node, Long, CompletableFuture<String>> rpc(
            java.util.function.IntFunction<CompletableFuture<String>> answer) {
        return (node, timeoutMs) -> {
            sentTo.add(node.address());
            return answer.apply(node.id());
        };
    }

    private static CompletableFuture<String> notCoordinator(Integer hint) {
        return CompletableFuture.failedFuture(error(ErrorCode.NOT_COORDINATOR, "not the coordinator", hint));
    }

    /** The result of a call that must be over (join would block forever: nothing runs the scheduler). */
    private static <T> T result(CompletableFuture<T> f) {
        assertTrue(f.isDone(), "the call is over");
        return f.join();
    }

    private static Throwable failure(CompletableFuture<?> f) {
        assertTrue(f.isDone(), "the call is over");
        return assertThrows(CompletionException.class, f::join).getCause();
    }

    @Test
    void theCoordinatorIsCachedAndForgottenOnRetriableErrors() {
        assertEquals("ok", result(client.call("Op", clock.millis() + 2000, Integer.MAX_VALUE,
                rpc(id -> CompletableFuture.completedFuture("ok")))));
        assertEquals(1, client.known().orElseThrow().id());

        transport.coordinatorId = 2;
        CompletableFuture<String> moved = client.call("Op", clock.millis() + 2000, Integer.MAX_VALUE,
                rpc(id -> id == 1 ? notCoordinator(null) : CompletableFuture.completedFuture("ok")));
        assertFalse(moved.isDone(), "backing off");
        scheduler.advance(RETRY_BACKOFF_MS);
        assertEquals("ok", result(moved));
        assertEquals(2, client.known().orElseThrow().id(), "found again after NOT_COORDINATOR");
        assertEquals(2, transport.calls("findCoordinator").size());
    }

    @Test
    void aKnownHintIsFollowedAtOnceWithoutALookup() {
        CompletableFuture<String> result = client.call("Op", clock.millis() + 2000, Integer.MAX_VALUE,
                rpc(id -> id == 1 ? notCoordinator(3) : CompletableFuture.completedFuture("ok")));
        assertEquals("ok", result(result), "no backoff before the hinted broker");
        assertEquals(List.of(address(1), address(3)), sentTo);
        assertEquals(1, transport.calls("findCoordinator").size());
        assertEquals(3, client.known().orElseThrow().id());
    }

    @Test
    void hintsThatKeepPointingElsewhereAreFollowedOnceThenLookedUpAgain() {
        // Two brokers naming each other: 1 says 2, 2 says 1; FindCoordinator keeps naming 1.
        long deadline = clock.millis() + 2000;
        CompletableFuture<String> result = client.call("Op", deadline, Integer.MAX_VALUE,
                rpc(id -> notCoordinator(id == 1 ? 2 : 1)));
        scheduler.advance(3000);
        TimeoutException timeout = assertInstanceOf(TimeoutException.class, failure(result));
        assertInstanceOf(NotCoordinatorException.class, timeout.getCause());
        int lookups = transport.calls("findCoordinator").size();
        assertTrue(lookups >= 2, "the hint cycle ended in a new lookup: " + lookups);
        assertEquals(2 * lookups, sentTo.size(), "one hint followed per lookup: " + sentTo);
        for (int i = 0; i < sentTo.size(); i++) {
            assertEquals(address(i % 2 + 1), sentTo.get(i));
        }
    }

    @Test
    void aHintedCoordinatorThatAnsweredMayHintAgain() {
        result(client.call("Op", clock.millis() + 2000, Integer.MAX_VALUE,
                rpc(id -> id == 1 ? notCoordinator(2) : CompletableFuture.completedFuture("ok"))));
        assertEquals(2, client.known().orElseThrow().id());
        // Broker 2 answered, so it is the coordinator; when it later moves, its hint is followed.
        CompletableFuture<String> result = client.call("Op", clock.millis() + 2000, Integer.MAX_VALUE,
                rpc(id -> id == 2 ? notCoordinator(3) : CompletableFuture.completedFuture("ok")));
        assertEquals("ok", result(result));
        assertEquals(3, client.known().orElseThrow().id());
        assertEquals(1, transport.calls("findCoordinator").size());
    }

    @Test
    void fatalErrorsFailAtOnceAndKeepTheCoordinator() {
        CompletableFuture<String> result = client.call("Op", clock.millis() + 2000, Integer.MAX_VALUE,
                rpc(id -> CompletableFuture.failedFuture(new GroupNotEmptyException("busy"))));
        assertInstanceOf(GroupNotEmptyException.class, failure(result));
        assertEquals(1, sentTo.size());
        assertTrue(client.known().isPresent(), "a fatal answer came from the coordinator: keep it");
        assertEquals(Long.MAX_VALUE, scheduler.nextDueAt(), "no retry scheduled");
    }

    @Test
    void noCoordinatorTimesOutWithTheLastError() {
        for (int i = 0; i < 100; i++) {
            transport.findAnswers.add(FindCoordinatorResponse.newBuilder().setError(Error.newBuilder()
                    .setCode(ErrorCode.COORDINATOR_NOT_AVAILABLE).setMessage("electing")).build());
        }
        CompletableFuture<String> result = client.call("Op", clock.millis() + 300, Integer.MAX_VALUE,
                rpc(id -> CompletableFuture.completedFuture("ok")));
        scheduler.advance(1000);
        TimeoutException timeout = assertInstanceOf(TimeoutException.class, failure(result));
        assertInstanceOf(CoordinatorNotAvailableException.class, timeout.getCause());
        assertTrue(timeout.getMessage().contains("electing"), timeout.getMessage());
        assertTrue(sentTo.isEmpty());
    }

    @Test
    void aRetryOnAShutDownExecutorFailsTheCall() {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        executor.shutdownNow();
        CoordinatorClient closed = client(Scheduler.over(executor));
        CompletableFuture<String> result = closed.call("Op", clock.millis() + 2000, Integer.MAX_VALUE,
                rpc(id -> CompletableFuture.failedFuture(FakeGroupTransport.unavailable())));
        BrokerNotAvailableException e = assertInstanceOf(BrokerNotAvailableException.class, failure(result));
        assertEquals("client closed", e.getMessage());
    }
}
