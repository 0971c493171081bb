package io.raftlog.client.internals.consumer.group;

import io.raftlog.api.v1.BrokerInfo;
import io.raftlog.api.v1.FindCoordinatorRequest;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.CoordinatorNotAvailableException;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.NotCoordinatorException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the group coordinator and sends requests to it.
 *
 * <p><b>Lookup.</b> The coordinator is cached once a broker named it in a FindCoordinator answer
 * (any broker answers; brokers are tried in rotation). It is forgotten after a retriable failure
 * of a request sent to it ({@link #coordinatorFailed}): NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
 * an unreachable broker or a timeout. A NOT_COORDINATOR carrying a hint that names a broker whose
 * address is known moves the cache straight to that broker, saving a FindCoordinator round; but
 * only once in a row: if the hinted broker fails too before answering anything else, the next
 * failure forgets it and FindCoordinator decides, so two brokers naming each other cannot keep the
 * client bouncing between them. Concurrent lookups share one FindCoordinator request. A fatal
 * answer came from the coordinator itself and keeps it cached.
 *
 * <p><b>Retries.</b> {@link #call} retries retriable failures after {@code retry.backoff.ms}
 * (doubling per attempt, up to max(1 s, retry.backoff.ms)) on the (re-found) coordinator while
 * attempts and the deadline allow; a followed hint is tried at once (it cannot repeat, see above).
 * The lookup itself never waits: backoff is the caller's.
 *
 * <p>Thread-safe. Futures complete on transport or scheduler threads; nothing here runs
 * application code.
 */
public final class CoordinatorClient {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorClient.class);

    /** Cap of the exponential retry backoff (unless retry.backoff.ms is larger). */
    static final long MAX_RETRY_BACKOFF_MS = 1000;

    /** A coordinator broker: id and {@code host:port}. */
    public record Node(int id, String address) {
        @Override
        public String toString() {
            return "broker " + id + " (" + address + ")";
        }
    }

    private final String groupId;
    private final GroupTransport transport;
    private final BrokerDirectory brokers;
    private final Scheduler scheduler;
    private final Clock clock;
    private final long retryBackoffMs;
    private final int requestTimeoutMs;
    private final String logPrefix;

    // Guarded by this.
    private Node coordinator;
    private CompletableFuture<Node> lookup;
    private int nextCandidate;
    /** Whether {@link #coordinator} came from a NOT_COORDINATOR hint and has not answered since. */
    private boolean fromHint;
    /** Brokers named by FindCoordinator answers, to resolve hints the metadata cache does not know. */
    private final Map<Integer, String> seen = new HashMap<>();

    public CoordinatorClient(String groupId, GroupTransport transport, BrokerDirectory brokers, Scheduler scheduler,
                             Clock clock, long retryBackoffMs, int requestTimeoutMs, String logPrefix) {
        this.groupId = groupId;
        this.transport = transport;
        this.brokers = brokers;
        this.scheduler = scheduler;
        this.clock = clock;
        this.retryBackoffMs = retryBackoffMs;
        this.requestTimeoutMs = requestTimeoutMs;
        this.logPrefix = logPrefix;
    }

    /** The cached coordinator, if any (no request). */
    public synchronized Optional<Node> known() {
        return Optional.ofNullable(coordinator);
    }

    /**
     * The coordinator: the cached one, else one FindCoordinator request to the next candidate
     * broker. Fails (retriably) when that broker is unreachable or knows no coordinator.
     */
    public CompletableFuture<Node> coordinator() {
        String address;
        CompletableFuture<Node> result;
        synchronized (this) {
            if (coordinator != null) {
                return CompletableFuture.completedFuture(coordinator);
            }
            if (lookup != null) {
                return lookup;
            }
            List<String> candidates = brokers.findCoordinatorCandidates();
            address = candidates.get(Math.floorMod(nextCandidate++, candidates.size()));
            result = new CompletableFuture<>();
            lookup = result;
        }
        FindCoordinatorRequest request = FindCoordinatorRequest.newBuilder().setGroupId(groupId).build();
        CompletableFuture<FindCoordinatorResponse> rpc;
        try {
            rpc = transport.findCoordinator(address, request, requestTimeoutMs);
        } catch (RuntimeException e) {
            rpc = CompletableFuture.failedFuture(e);
        }
        rpc.whenComplete((response, e) -> {
            RaftlogException error = e != null ? Errors.fromThrowable(e) : Errors.toException(response.getError());
            if (error == null && !response.hasCoordinator()) {
                error = new CoordinatorNotAvailableException("the FindCoordinator answer of " + address
                        + " names no coordinator");
            }
            Node found = null;
            synchronized (this) {
                lookup = null;
                if (error == null) {
                    BrokerInfo b = response.getCoordinator();
                    found = new Node(b.getBrokerId(), b.getHost() + ":" + b.getPort());
                    seen.put(found.id(), found.address());
                    if (!found.equals(coordinator)) {
                        log.info("{} group coordinator is {}", logPrefix, found);
                    }
                    coordinator = found;
                    fromHint = false;
                }
            }
            if (error == null) {
                result.complete(found);
            } else {
                log.debug("{} FindCoordinator via {} failed: {}", logPrefix, address, error.getMessage());
                result.completeExceptionally(error);
            }
        });
        return result;
    }

    /**
     * {@code node} answered a request (successfully, or with a fatal error): it is the coordinator,
     * so a later NOT_COORDINATOR hint from it may be followed again.
     */
    public synchronized void coordinatorAnswered(Node node) {
        if (node.equals(coordinator)) {
            fromHint = false;
        }
    }

    /**
     * A request to {@code failed} failed retriably with {@code cause}: forget it as the
     * coordinator, or move to the hinted coordinator of a NOT_COORDINATOR if its address is known
     * and {@code failed} was not itself reached through a hint without answering since.
     * Does nothing if the cache already moved on.
     *
     * @return whether the cache moved to a hinted broker (worth trying at once)
     */
    public boolean coordinatorFailed(Node failed, RaftlogException cause) {
        synchronized (this) {
            if (coordinator == null || !coordinator.equals(failed)) {
                return false;
            }
            Node hinted = null;
            if (!fromHint && cause instanceof NotCoordinatorException nc && nc.coordinatorId().isPresent()
                    && nc.coordinatorId().getAsInt() != failed.id()) {
                int id = nc.coordinatorId().getAsInt();
                String address = seen.get(id);
                if (address == null) {
                    address = brokers.address(id).orElse(null);
                }
                if (address != null) {
                    hinted = new Node(id, address);
                }
            }
            coordinator = hinted;
            fromHint = hinted != null;
            if (hinted != null) {
                log.info("{} group coordinator moved from {} to {} ({})", logPrefix, failed, hinted, cause.getMessage());
            } else {
                log.info("{} group coordinator {} failed ({}); finding it again", logPrefix, failed, cause.getMessage());
            }
            return hinted != null;
        }
    }

    /**
     * Sends a request to the coordinator with {@code rpc(node, timeoutMs)}, retrying retriable
     * failures (see the class comment) until {@code maxAttempts} attempts were made or the next one
     * would start after {@code deadlineMs}. The future then fails with the last error, or with a
     * {@link TimeoutException} naming it when the deadline stopped the retries, or with
     * {@link BrokerNotAvailableException} when the scheduler was shut down (client closed).
     * {@code rpc} may throw a {@link RaftlogException} to fail the call (not retried unless
     * retriable). Cancelling the returned future stops further attempts.
     */
    public <R> CompletableFuture<R> call(String what, long deadlineMs, int maxAttempts,
                                         BiFunction<Node, Long, CompletableFuture<R>> rpc) {
        CompletableFuture<R> result = new CompletableFuture<>();
        attempt(what, deadlineMs, maxAttempts, rpc, result, 1);
        return result;
    }

    private <R> void attempt(String what, long deadlineMs, int maxAttempts,
                             BiFunction<Node, Long, CompletableFuture<R>> rpc, CompletableFuture<R> result, int n) {
        if (result.isDone()) {
            return;
        }
        AtomicBoolean movedToHint = new AtomicBoolean();
        coordinator().thenCompose(node -> {
            long timeoutMs = Math.max(1, Math.min(requestTimeoutMs, deadlineMs - clock.millis()));
            CompletableFuture<R> sent = rpc.apply(node, timeoutMs);
            return sent.whenComplete((r, e) -> {
                RaftlogException error = e == null ? null : Errors.fromThrowable(e);
                if (error == null || !error.isRetriable()) {
                    coordinatorAnswered(node);
                } else if (coordinatorFailed(node, error)) {
                    movedToHint.set(true);
                }
            });
        }).whenComplete((r, e) -> {
            if (e == null) {
                result.complete(r);
                return;
            }
            RaftlogException error = Errors.fromThrowable(e);
            if (!error.isRetriable()) {
                result.completeExceptionally(error);
                return;
            }
            long backoff = movedToHint.get() ? 0 : backoffMs(n);
            if (n >= maxAttempts) {
                result.completeExceptionally(error);
            } else if (backoff > 0 ? clock.millis() + backoff >= deadlineMs : clock.millis() >= deadlineMs) {
                result.completeExceptionally(new TimeoutException(what + " did not succeed in time; last error: "
                        + error.getMessage(), error));
            } else if (backoff == 0) {
                log.debug("{} {} failed (attempt {}): {}; trying the hinted coordinator", logPrefix, what, n,
                        error.getMessage());
                attempt(what, deadlineMs, maxAttempts, rpc, result, n + 1);
            } else {
                log.debug("{} {} failed (attempt {}): {}; retrying in {} ms", logPrefix, what, n, error.getMessage(),
                        backoff);
                try {
                    scheduler.schedule(() -> attempt(what, deadlineMs, maxAttempts, rpc, result, n + 1), backoff);
                } catch (RejectedExecutionException closed) {
                    result.completeExceptionally(new BrokerNotAvailableException("client closed"));
                }
            }
        });
    }

    /** retry.backoff.ms doubled per failure, capped at max(1 s, retry.backoff.ms). */
    long backoffMs(int failures) {
        long cap = Math.max(MAX_RETRY_BACKOFF_MS, retryBackoffMs);
        int shift = Math.min(Math.max(failures - 1, 0), 20);
        return Math.min(cap, retryBackoffMs << shift);
    }
}
