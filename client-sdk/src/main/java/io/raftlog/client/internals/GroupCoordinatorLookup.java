package io.raftlog.client.internals;

import io.grpc.Channel;
import io.raftlog.api.v1.FindCoordinatorRequest;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.api.v1.GroupServiceGrpc;
import io.raftlog.client.BrokerInfo;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.CoordinatorNotAvailableException;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.NotCoordinatorException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.transport.ChannelPool;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the group coordinator and sends group RPCs to it, retrying until a deadline.
 *
 * <p>The coordinator's address is cached. It is looked up with {@code FindCoordinator}, which any
 * broker answers, trying the brokers {@code brokerAddresses} supplies in order. A call that fails
 * with NOT_COORDINATOR goes at once to the broker the error names, when that broker is known in
 * {@code metadata} (at most once in a row, so two brokers naming each other cannot spin); every
 * other retriable failure (NOT_COORDINATOR without a usable hint, COORDINATOR_NOT_AVAILABLE, an
 * unreachable broker, a timeout) forgets the cached coordinator and tries again, lookup included,
 * after {@code retryBackoffMs}, until the call's deadline. Fatal errors fail the call at once.
 *
 * <p>Thread-safe. Retries run on {@code scheduler}; futures complete on gRPC or scheduler threads.
 */
public final class GroupCoordinatorLookup {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinatorLookup.class);

    private final ChannelPool channels;
    private final MetadataCache metadata;
    private final Supplier<List<String>> brokerAddresses;
    private final Clock clock;
    private final long retryBackoffMs;
    private final ScheduledExecutorService scheduler;
    /** Address of the cached coordinator; null when unknown. */
    private final AtomicReference<String> coordinator = new AtomicReference<>();

    /**
     * @param brokerAddresses brokers to ask FindCoordinator, in the order to try them
     * @param metadata resolves NOT_COORDINATOR hints (broker id to address); never refreshed here
     */
    public GroupCoordinatorLookup(ChannelPool channels, MetadataCache metadata, Supplier<List<String>> brokerAddresses,
                                  Clock clock, long retryBackoffMs, ScheduledExecutorService scheduler) {
        this.channels = channels;
        this.metadata = metadata;
        this.brokerAddresses = brokerAddresses;
        this.clock = clock;
        this.retryBackoffMs = retryBackoffMs;
        this.scheduler = scheduler;
    }

    /** The cached coordinator address, if one is known. */
    public Optional<String> coordinator() {
        return Optional.ofNullable(coordinator.get());
    }

    /** Forgets the cached coordinator; the next call looks it up again. */
    public void invalidate() {
        coordinator.set(null);
    }

    /**
     * Sends a group RPC to the coordinator, retrying as described above.
     *
     * @param name the RPC's name, for messages
     * @param groupId the group, sent in FindCoordinator
     * @param timeoutMs how long to keep trying
     * @param rpc starts the RPC on a channel to the coordinator with the remaining milliseconds as
     *        its deadline; failures stay raw (they are mapped with {@link Errors})
     * @return the RPC's result, or a failure: the fatal error, or {@code TimeoutException} whose
     *         cause is the last retriable error
     */
    public <R> CompletableFuture<R> call(String name, String groupId, long timeoutMs,
                                         BiFunction<Channel, Long, CompletableFuture<R>> rpc) {
        Call<R> call = new Call<>(name, groupId, clock.millis() + timeoutMs, timeoutMs, rpc);
        attempt(call, false);
        return call.result;
    }

    private static final class Call<R> {
        final String name;
        final String groupId;
        final long deadline;
        final long timeoutMs;
        final BiFunction<Channel, Long, CompletableFuture<R>> rpc;
        final CompletableFuture<R> result = new CompletableFuture<>();
        volatile RaftlogException lastError;

        Call(String name, String groupId, long deadline, long timeoutMs,
             BiFunction<Channel, Long, CompletableFuture<R>> rpc) {
            this.name = name;
            this.groupId = groupId;
            this.deadline = deadline;
            this.timeoutMs = timeoutMs;
            this.rpc = rpc;
        }
    }

    /** @param followedHint whether this attempt follows a NOT_COORDINATOR hint without backoff */
    private <R> void attempt(Call<R> call, boolean followedHint) {
        long remaining = call.deadline - clock.millis();
        if (remaining <= 0) {
            RaftlogException last = call.lastError;
            call.result.completeExceptionally(last == null
                    ? new TimeoutException(call.name + " timed out after " + call.timeoutMs + " ms")
                    : new TimeoutException(call.name + " timed out after " + call.timeoutMs + " ms; last error: "
                            + last.getMessage(), last));
            return;
        }
        String address = coordinator.get();
        if (address == null) {
            find(call.groupId, brokerAddresses.get(), 0, call.deadline, null).whenComplete((found, failure) -> {
                if (failure == null) {
                    coordinator.compareAndSet(null, found);
                    attempt(call, false);
                } else {
                    retryOrFail(call, Errors.fromThrowable(failure));
                }
            });
            return;
        }
        CompletableFuture<R> future;
        try {
            future = call.rpc.apply(channels.channel(address), remaining);
        } catch (RuntimeException e) {
            call.result.completeExceptionally(Errors.fromThrowable(e));
            return;
        }
        future.whenComplete((value, failure) -> {
            if (failure == null) {
                call.result.complete(value);
                return;
            }
            RaftlogException error = Errors.fromThrowable(failure);
            String hinted = error instanceof NotCoordinatorException nc ? hintedAddress(nc, address) : null;
            if (hinted != null && !followedHint && error.isRetriable()) {
                log.debug("{} for group {}: {} is not the coordinator, following its hint {}",
                        call.name, call.groupId, address, hinted);
                call.lastError = error;
                coordinator.compareAndSet(address, hinted);
                attempt(call, true);
                return;
            }
            // The coordinator may have moved; a fatal answer came from the coordinator itself: keep it.
            if (error.isRetriable()) {
                coordinator.compareAndSet(address, null);
            }
            retryOrFail(call, error);
        });
    }

    private <R> void retryOrFail(Call<R> call, RaftlogException error) {
        if (!error.isRetriable()) {
            call.result.completeExceptionally(error);
            return;
        }
        log.debug("{} for group {} failed ({}), retrying", call.name, call.groupId, error.getMessage());
        call.lastError = error;
        long delay = Math.max(0, Math.min(retryBackoffMs, call.deadline - clock.millis()));
        try {
            scheduler.schedule(() -> attempt(call, false), delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            call.result.completeExceptionally(new BrokerNotAvailableException("client closed"));
        }
    }

    /** The address of the broker a NOT_COORDINATOR names, if known and not the one that answered. */
    private String hintedAddress(NotCoordinatorException e, String answered) {
        if (e.coordinatorId().isEmpty()) {
            return null;
        }
        BrokerInfo broker = metadata.snapshot().brokers().get(e.coordinatorId().getAsInt());
        return broker == null || broker.address().equals(answered) ? null : broker.address();
    }

    /**
     * Asks the brokers in {@code addresses} from {@code index} on, one after the other, until one
     * names the coordinator. Fails with the first fatal error, or with the last retriable one once
     * every broker has been asked.
     */
    private CompletableFuture<String> find(String groupId, List<String> addresses, int index, long deadline,
                                           RaftlogException lastError) {
        long remaining = deadline - clock.millis();
        if (index >= addresses.size() || remaining <= 0) {
            return CompletableFuture.failedFuture(lastError != null ? lastError
                    : new CoordinatorNotAvailableException("no broker to ask for the group coordinator"));
        }
        String address = addresses.get(index);
        FindCoordinatorRequest request = FindCoordinatorRequest.newBuilder().setGroupId(groupId).build();
        CompletableFuture<FindCoordinatorResponse> response;
        try {
            Channel channel = channels.channel(address);
            response = Futures.unary(o -> GroupServiceGrpc.newStub(channel)
                    .withDeadlineAfter(remaining, TimeUnit.MILLISECONDS).findCoordinator(request, o));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(Errors.fromThrowable(e));
        }
        return response.handle((r, failure) -> {
            RaftlogException error = failure != null ? Errors.fromThrowable(failure) : Errors.toException(r.getError());
            if (error == null && !r.hasCoordinator()) {
                error = new CoordinatorNotAvailableException("broker " + address + " named no coordinator");
            }
            if (error == null) {
                String found = r.getCoordinator().getHost() + ":" + r.getCoordinator().getPort();
                log.debug("group coordinator is broker {} at {} (asked {})",
                        r.getCoordinator().getBrokerId(), found, address);
                return CompletableFuture.completedFuture(found);
            }
            if (!error.isRetriable()) {
                return CompletableFuture.<String>failedFuture(error);
            }
            log.debug("FindCoordinator via {} failed ({}), trying the next broker", address, error.getMessage());
            return find(groupId, addresses, index + 1, deadline, error);
        }).thenCompose(f -> f);
    }
}
