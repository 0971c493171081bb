package io.raftlog.client.internals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.errors.GroupNotEmptyException;
import io.raftlog.client.errors.NotCoordinatorException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.transport.ChannelPool;
import java.time.Clock;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class GroupCoordinatorLookupTest {
    private FakeCluster cluster;
    private ChannelPool pool;
    private MetadataCache metadata;
    private ScheduledExecutorService scheduler;
    private GroupCoordinatorLookup lookup;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        pool = new ChannelPool(cluster.channelFactory());
        List<String> bootstrap = List.of(cluster.bootstrap().split(","));
        metadata = new MetadataCache(bootstrap, pool, Clock.systemUTC(), 10, 2000);
        metadata.refresh(List.of()); // every broker's address is known, so hints are usable
        scheduler = Executors.newSingleThreadScheduledExecutor();
        lookup = new GroupCoordinatorLookup(pool, metadata, () -> bootstrap, Clock.systemUTC(), 50, scheduler);
    }

    @AfterEach
    void tearDown() {
        scheduler.shutdownNow();
        pool.close();
        cluster.close();
    }

    @Test
    void hintsThatKeepPointingElsewhereAreFollowedOnceThenBackedOff() {
        AtomicInteger calls = new AtomicInteger();
        CompletableFuture<String> result = lookup.call("Ping", "g", 400, (channel, deadlineMs) -> {
            int n = calls.incrementAndGet();
            // Two brokers naming each other: 1 says 2, 2 says 1.
            return CompletableFuture.failedFuture(new NotCoordinatorException("not me", OptionalInt.of(n % 2 + 1)));
        });
        CompletionException e = assertThrows(CompletionException.class, result::join);
        TimeoutException timeout = assertInstanceOf(TimeoutException.class, e.getCause());
        assertInstanceOf(NotCoordinatorException.class, timeout.getCause());
        // About two calls per 50 ms backoff over 400 ms; a hot loop would make thousands.
        assertTrue(calls.get() >= 4 && calls.get() <= 30, "calls: " + calls.get());
    }

    @Test
    void theCoordinatorIsCachedAndForgottenOnRetriableErrors() {
        assertEquals("ok", lookup.call("Op", "g", 2000,
                (channel, deadlineMs) -> CompletableFuture.completedFuture("ok")).join());
        assertEquals(cluster.address(1), lookup.coordinator().orElseThrow());

        cluster.groups().moveCoordinator(2);
        cluster.groups().hintCoordinator(false);
        AtomicInteger attempts = new AtomicInteger();
        assertEquals("ok", lookup.call("Op", "g", 2000, (channel, deadlineMs) -> attempts.incrementAndGet() == 1
                ? CompletableFuture.failedFuture(new NotCoordinatorException("moved", OptionalInt.empty()))
                : CompletableFuture.completedFuture("ok")).join());
        assertEquals(cluster.address(2), lookup.coordinator().orElseThrow(), "found again after NOT_COORDINATOR");
    }

    @Test
    void fatalErrorsFailAtOnce() {
        AtomicInteger calls = new AtomicInteger();
        CompletionException e = assertThrows(CompletionException.class, () -> lookup.call("Op", "g", 2000,
                (channel, deadlineMs) -> {
                    calls.incrementAndGet();
                    return CompletableFuture.<String>failedFuture(new GroupNotEmptyException("busy"));
                }).join());
        assertInstanceOf(GroupNotEmptyException.class, e.getCause());
        assertEquals(1, calls.get());
        assertTrue(lookup.coordinator().isPresent(), "a fatal answer came from the coordinator: keep it");
    }
}
