package io.raftlog.client.internals.consumer.group;

import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.CommittedOffset;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.OffsetCommit;
import io.raftlog.client.ConsumerGroupMetadata;
import io.raftlog.client.ConsumerRebalanceListener;
import io.raftlog.client.OffsetAndMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.CommitFailedException;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.FencedMemberEpochException;
import io.raftlog.client.errors.GroupNotEmptyException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.StaleMemberEpochException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.errors.UnknownMemberIdException;
import io.raftlog.client.internals.consumer.Waiter;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application-thread side of consumer groups: subscription, reconciliation of the owned
 * partitions with the coordinator's assignment (with the rebalance listener), offset commits
 * (sync, async and automatic) and committed-offset lookups.
 *
 * <h2>Threading</h2>
 * Every method except {@link #needsAttention} runs on the application thread, inside a public
 * {@code Consumer} method; listener callbacks run here too, and may re-enter the commit and
 * lookup methods. Heartbeats are the {@link MembershipManager}'s, on the scheduler thread.
 * Blocking waits (commitSync, committed, leave) use the consumer's {@link Waiter}, woken by
 * future completions; futures returned by {@link #commitAsync} complete on transport or
 * scheduler threads.
 *
 * <h2>Reconciliation</h2> (in {@link #poll}, against the membership's {@link MembershipManager.View})
 * <ol>
 *   <li>Lost: {@code onPartitionsLost(owned)}, drop them (positions and buffered data), rejoin.</li>
 *   <li>Revoke {@code owned - target}: auto-commit their positions (sync, if enabled),
 *       {@code onPartitionsRevoked}, drop them, and report the smaller owned set at once.</li>
 *   <li>Add {@code target - owned}: fetch their committed offsets (asynchronously; a later poll
 *       finishes the step), seek to them (no committed offset: {@code auto.offset.reset}),
 *       {@code onPartitionsAssigned}, report the larger owned set at once.</li>
 * </ol>
 * The coordinator lists a partition in the target only once its previous owner gave it up. The
 * one race left is this member's own: a heartbeat sent (owning less) after the target arrived may
 * let the coordinator release a partition the target still lists; so partitions are taken only
 * through {@link MembershipManager#tryAcquire}, which refuses while such a heartbeat is out.
 */
public final class ConsumerCoordinator {
    private static final Logger log = LoggerFactory.getLogger(ConsumerCoordinator.class);

    private static final ConsumerRebalanceListener NO_LISTENER = new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        }
    };

    /** Attempts of an asynchronous commit: one, plus one after the coordinator moved. */
    static final int ASYNC_COMMIT_ATTEMPTS = 2;

    /**
     * @param groupId null without {@code group.id} (then only manual assignment, no commits)
     * @param autoCommit enable.auto.commit (effective only with a group id)
     */
    public record Settings(String groupId, boolean autoCommit, int autoCommitIntervalMs, int requestTimeoutMs,
                           long retryBackoffMs) {
    }

    /** The committed-offset lookup for partitions being added. */
    private static final class PendingAssignment {
        final Set<TopicPartition> partitions;
        final int generation;
        final CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> offsets;
        /** When the lookup failed (retried retry.backoff.ms later), -1 while it has not. */
        long failedAtMs = -1;
        /** The membership version at which taking the partitions was refused as stale, -1 if not. */
        long deferredAtVersion = -1;

        PendingAssignment(Set<TopicPartition> partitions, int generation,
                          CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> offsets) {
            this.partitions = partitions;
            this.generation = generation;
            this.offsets = offsets;
        }
    }

    private final Settings settings;
    private final MembershipManager membership;
    private final CoordinatorClient coordinators;
    private final GroupTransport transport;
    private final AssignedPartitions partitions;
    private final Clock clock;
    private final Waiter waiter;
    private final String logPrefix;

    // Application thread.
    private boolean subscribed;
    private Set<String> subscription = Set.of();
    private ConsumerRebalanceListener listener = NO_LISTENER;
    /** Partitions owned through the subscription (the fetcher's assignment while subscribed). */
    private final Set<TopicPartition> owned = new LinkedHashSet<>();
    private long handledVersion = -1;
    private int memberEpochView = -1;
    private int groupEpochView = -1;
    private PendingAssignment pendingAssignment;
    private long nextAutoCommitMs;
    private boolean inCallback;
    private CompletableFuture<Void> lastAsyncCommit = CompletableFuture.completedFuture(null);
    /** The last offset committed (or found committed) per partition: commits without arguments skip unchanged ones. */
    private final Map<TopicPartition, Long> lastCommitted = new ConcurrentHashMap<>();

    /**
     * @param membership null without a group id
     * @param coordinators null without a group id
     */
    public ConsumerCoordinator(Settings settings, MembershipManager membership, CoordinatorClient coordinators,
                               GroupTransport transport, AssignedPartitions partitions, Clock clock, Waiter waiter,
                               String logPrefix) {
        this.settings = settings;
        this.membership = membership;
        this.coordinators = coordinators;
        this.transport = transport;
        this.partitions = partitions;
        this.clock = clock;
        this.waiter = waiter;
        this.logPrefix = logPrefix;
        this.nextAutoCommitMs = clock.millis() + settings.autoCommitIntervalMs();
    }

    // ---- subscription -------------------------------------------------------------------------

    public boolean subscribed() {
        return subscribed;
    }

    public Set<String> subscription() {
        return subscription;
    }

    /** Inside a rebalance listener callback (some consumer methods are not allowed there). */
    public boolean inCallback() {
        return inCallback;
    }

    /** Subscribes to {@code topics} (non-empty), replacing the subscription and the listener. */
    public void subscribe(Set<String> topics, ConsumerRebalanceListener listener) {
        requireGroup("subscribe");
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("subscribe needs at least one topic (unsubscribe() to stop)");
        }
        Set<String> sorted = new TreeSet<>(topics);
        this.listener = listener == null ? NO_LISTENER : listener;
        if (!subscribed) {
            log.info("{} subscribing to {} in group {} as member {}", logPrefix, sorted, settings.groupId(),
                    membership.memberId());
            nextAutoCommitMs = clock.millis() + settings.autoCommitIntervalMs();
        } else if (!sorted.equals(subscription)) {
            log.info("{} subscription of group {} changes to {}", logPrefix, settings.groupId(), sorted);
        }
        subscribed = true;
        subscription = Set.copyOf(sorted);
        membership.subscribe(subscription);
    }

    /**
     * Gives every owned partition up (auto-commit + onPartitionsRevoked, or onPartitionsLost if the
     * membership was lost) and leaves the group, waiting for the leave until {@code deadlineMs}.
     * A listener exception is rethrown after leaving.
     */
    public void unsubscribe(long deadlineMs) {
        if (!subscribed) {
            return;
        }
        RuntimeException listenerError = releaseAll(deadlineMs);
        CompletableFuture<Void> leave = membership.leave();
        try {
            await(leave, deadlineMs, "leaving group " + settings.groupId(), true);
        } catch (RaftlogException e) {
            log.info("{} could not confirm leaving group {}: {} (the coordinator expels the member after its "
                    + "session timeout)", logPrefix, settings.groupId(), e.getMessage());
        }
        subscribed = false;
        subscription = Set.of();
        listener = NO_LISTENER;
        memberEpochView = -1;
        groupEpochView = -1;
        handledVersion = -1;
        if (listenerError != null) {
            throw listenerError;
        }
    }

    /** Before a manual {@code assign}: auto-commit (async) the positions of the current assignment. */
    public void beforeManualAssign(Collection<TopicPartition> next) {
        if (autoCommitEnabled()) {
            commitChangedAsync("auto-commit before assign");
        }
        lastCommitted.keySet().retainAll(Set.copyOf(next));
    }

    // ---- poll ---------------------------------------------------------------------------------

    /**
     * The group step of a poll: handle lost partitions, surface a fatal heartbeat error, auto-commit
     * when due, reconcile with the target assignment. May block for a commit before revoking
     * (bounded by request.timeout.ms), otherwise does not wait.
     *
     * @throws RuntimeException an exception a listener callback threw (after the step completed),
     *         or a non-retriable heartbeat or offset-lookup error
     */
    public void poll() {
        if (!subscribed) {
            maybeAutoCommit();
            return;
        }
        RuntimeException listenerError = null;
        MembershipManager.View view = membership.view();
        handledVersion = view.version();
        if (view.state() == MembershipManager.State.LOST) {
            listenerError = loseAll(view.lostReason());
            membership.lostHandled(view.generation());
            view = membership.view();
            handledVersion = view.version();
        }
        RaftlogException fatal = membership.takeFatalError();
        if (fatal != null) {
            if (listenerError != null) {
                fatal.addSuppressed(listenerError);
            }
            throw fatal;
        }
        maybeAutoCommit();
        if (view.state() == MembershipManager.State.STABLE && view.target() != null) {
            // Before the listener runs: groupMetadata() inside onPartitionsAssigned/Revoked names the
            // epoch of the assignment being applied.
            memberEpochView = view.memberEpoch();
            groupEpochView = view.groupEpoch();
            listenerError = first(listenerError, reconcile(view));
        } else if (view.state() == MembershipManager.State.JOINING) {
            memberEpochView = 0;
            groupEpochView = view.groupEpoch();
        }
        if (listenerError != null) {
            throw listenerError;
        }
    }

    /**
     * Whether {@link #poll} has something to do (the membership changed, committed offsets for new
     * partitions arrived): a waiting poll returns early to run it. Application thread.
     */
    public boolean needsAttention() {
        if (!subscribed) {
            return false;
        }
        PendingAssignment pending = pendingAssignment;
        return membership.version() != handledVersion
                || (pending != null && pending.offsets.isDone() && pending.deferredAtVersion < 0
                    && (pending.failedAtMs < 0 || clock.millis() >= pending.failedAtMs + settings.retryBackoffMs()));
    }

    private RuntimeException reconcile(MembershipManager.View view) {
        Set<TopicPartition> target = view.target();
        RuntimeException listenerError = null;
        Set<TopicPartition> revoke = new LinkedHashSet<>(owned);
        revoke.removeAll(target);
        if (!revoke.isEmpty()) {
            List<TopicPartition> revoked = MembershipManager.sorted(revoke);
            if (autoCommitEnabled()) {
                commitQuietly(changedPositions(revoke), clock.millis() + settings.requestTimeoutMs(),
                        "auto-commit before revoking " + revoked);
            }
            listenerError = invoke("onPartitionsRevoked", () -> listener.onPartitionsRevoked(revoked));
            owned.removeAll(revoke);
            partitions.assign(List.copyOf(owned));
            lastCommitted.keySet().removeAll(revoke);
            log.info("{} revoked {} (member epoch {}); owns {}", logPrefix, revoked, view.memberEpoch(),
                    MembershipManager.sorted(owned));
            membership.ownedChanged(view.generation(), owned);
        }
        Set<TopicPartition> add = new LinkedHashSet<>(target);
        add.removeAll(owned);
        if (add.isEmpty()) {
            cancelPendingAssignment();
            return listenerError;
        }
        long now = clock.millis();
        PendingAssignment pending = pendingAssignment;
        if (pending == null || !pending.partitions.equals(add) || pending.generation != view.generation()
                || (pending.failedAtMs >= 0 && now >= pending.failedAtMs + settings.retryBackoffMs())) {
            cancelPendingAssignment();
            pending = new PendingAssignment(Set.copyOf(add), view.generation(),
                    fetchCommitted(add, now + settings.requestTimeoutMs()));
            pending.offsets.whenComplete((r, e) -> waiter.wakeUp());
            pendingAssignment = pending;
        }
        if (!pending.offsets.isDone()) {
            return listenerError;
        }
        Map<TopicPartition, OffsetAndMetadata> committed;
        try {
            committed = pending.offsets.join();
        } catch (CompletionException | CancellationException e) {
            if (pending.failedAtMs < 0) {
                pending.failedAtMs = now;
                RaftlogException error = Errors.fromThrowable(e);
                if (!error.isRetriable()) {
                    pendingAssignment = null;
                    throw first(listenerError, error);
                }
                log.info("{} could not read the committed offsets of {}: {}; retrying", logPrefix,
                        MembershipManager.sorted(add), error.getMessage());
            }
            return listenerError;
        }
        Set<TopicPartition> next = new LinkedHashSet<>(owned);
        next.addAll(add);
        if (!membership.tryAcquire(view, next)) {
            // A heartbeat went out meanwhile; its answer (a fresh target) wakes the next poll.
            pending.deferredAtVersion = membership.version();
            log.debug("{} taking {} waits for the answer to the heartbeat in flight", logPrefix,
                    MembershipManager.sorted(add));
            return listenerError;
        }
        pendingAssignment = null;
        owned.addAll(add);
        partitions.assign(List.copyOf(owned));
        Map<TopicPartition, Long> start = new LinkedHashMap<>();
        for (TopicPartition tp : MembershipManager.sorted(add)) {
            OffsetAndMetadata c = committed.get(tp);
            if (c != null) {
                partitions.seek(tp, c.offset());
                lastCommitted.put(tp, c.offset());
                start.put(tp, c.offset());
            } else {
                lastCommitted.remove(tp);
            }
        }
        List<TopicPartition> added = MembershipManager.sorted(add);
        log.info("{} assigned {} (member epoch {}); committed offsets {}, the others start by auto.offset.reset",
                logPrefix, added, view.memberEpoch(), start);
        listenerError = first(listenerError, invoke("onPartitionsAssigned",
                () -> listener.onPartitionsAssigned(added)));
        return listenerError;
    }

    private RuntimeException loseAll(String reason) {
        cancelPendingAssignment();
        RuntimeException listenerError = null;
        if (!owned.isEmpty()) {
            List<TopicPartition> lost = MembershipManager.sorted(owned);
            log.info("{} giving up lost partitions {} ({})", logPrefix, lost, reason);
            listenerError = invoke("onPartitionsLost", () -> listener.onPartitionsLost(lost));
        }
        owned.clear();
        partitions.assign(List.of());
        lastCommitted.clear();
        return listenerError;
    }

    /** Revokes (or loses) every owned partition, for unsubscribe and close. */
    private RuntimeException releaseAll(long deadlineMs) {
        cancelPendingAssignment();
        MembershipManager.View view = membership.view();
        if (view.state() == MembershipManager.State.LOST) {
            return loseAll(view.lostReason());
        }
        RuntimeException listenerError = null;
        if (!owned.isEmpty()) {
            List<TopicPartition> revoked = MembershipManager.sorted(owned);
            if (autoCommitEnabled()) {
                commitQuietly(changedPositions(owned), deadlineMs, "auto-commit before leaving the group");
            }
            listenerError = invoke("onPartitionsRevoked", () -> listener.onPartitionsRevoked(revoked));
            log.info("{} gave up {} to leave the group", logPrefix, revoked);
        }
        owned.clear();
        partitions.assign(List.of());
        lastCommitted.clear();
        return listenerError;
    }

    private void cancelPendingAssignment() {
        if (pendingAssignment != null) {
            pendingAssignment.offsets.cancel(true);
            pendingAssignment = null;
        }
    }

    private RuntimeException invoke(String name, Runnable callback) {
        boolean outer = !inCallback;
        inCallback = true;
        try {
            callback.run();
            return null;
        } catch (RuntimeException e) {
            log.error("{} the rebalance listener's {} threw; the rebalance goes on and poll rethrows it", logPrefix,
                    name, e);
            return e;
        } finally {
            if (outer) {
                inCallback = false;
            }
        }
    }

    private static <E extends RuntimeException> RuntimeException first(RuntimeException a, E b) {
        return a != null ? a : b;
    }

    // ---- commits ------------------------------------------------------------------------------

    private boolean autoCommitEnabled() {
        return settings.groupId() != null && settings.autoCommit();
    }

    private void maybeAutoCommit() {
        if (!autoCommitEnabled()) {
            return;
        }
        long now = clock.millis();
        if (now < nextAutoCommitMs) {
            return;
        }
        if (!lastAsyncCommit.isDone()) {
            // One async commit at a time: two in flight can be applied by the coordinator in the
            // other order (its commits of 8 after 10), while this side records the one that
            // answered last as committed and never sends the newer position again. The next poll
            // after this one completes commits the latest position.
            return;
        }
        nextAutoCommitMs = now + settings.autoCommitIntervalMs();
        commitChangedAsync("auto-commit");
    }

    private void commitChangedAsync(String what) {
        Map<TopicPartition, OffsetAndMetadata> offsets = changedPositions(partitions.assignment());
        if (offsets.isEmpty()) {
            return;
        }
        commitAsync(offsets).whenComplete((r, e) -> {
            if (e != null) {
                log.warn("{} {} of {} failed: {}", logPrefix, what, offsets.keySet(), Errors.fromThrowable(e).getMessage());
            } else {
                log.debug("{} {} committed {}", logPrefix, what, offsets);
            }
        });
    }

    /** The positions of {@code among} (those with a known position) that differ from the last commit. */
    private Map<TopicPartition, OffsetAndMetadata> changedPositions(Collection<TopicPartition> among) {
        Map<TopicPartition, Long> positions = partitions.positions();
        Map<TopicPartition, OffsetAndMetadata> out = new LinkedHashMap<>();
        for (TopicPartition tp : among) {
            Long position = positions.get(tp);
            if (position != null && !position.equals(lastCommitted.get(tp))) {
                out.put(tp, new OffsetAndMetadata(position));
            }
        }
        return out;
    }

    private void commitQuietly(Map<TopicPartition, OffsetAndMetadata> offsets, long deadlineMs, String what) {
        if (offsets.isEmpty()) {
            return;
        }
        try {
            commitSync(offsets, deadlineMs);
            log.debug("{} {} committed {}", logPrefix, what, offsets);
        } catch (RaftlogException e) {
            log.warn("{} {} of {} failed: {}", logPrefix, what, offsets.keySet(), e.getMessage());
        }
    }

    /**
     * Commits the positions of every assigned partition that has one and moved since its last
     * commit; see {@link #commitSync(Map, long)}.
     */
    public void commitSync(long deadlineMs) {
        requireGroup("commitSync");
        commitSync(changedPositions(partitions.assignment()), deadlineMs);
    }

    /**
     * Commits {@code offsets}, retrying retriable errors until {@code deadlineMs}. Waits for earlier
     * asynchronous commits first, so they cannot overwrite these offsets.
     *
     * @throws CommitFailedException for a non-retriable failure (nothing was committed)
     * @throws TimeoutException when retriable failures lasted until the deadline
     */
    public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, long deadlineMs) {
        requireGroup("commitSync");
        if (offsets.isEmpty()) {
            return;
        }
        try {
            await(lastAsyncCommit, deadlineMs, "an earlier commitAsync", false);
        } catch (RaftlogException e) {
            // Its failure was reported through its own future.
        }
        await(commit(Map.copyOf(offsets), deadlineMs, Integer.MAX_VALUE), deadlineMs, "commitSync", true);
    }

    /** {@link #commitAsync(Map)} of the changed positions of every assigned partition. */
    public CompletableFuture<Void> commitAsync() {
        requireGroup("commitAsync");
        return commitAsync(changedPositions(partitions.assignment()));
    }

    /**
     * Commits {@code offsets} without waiting: one attempt, plus one more if the coordinator moved
     * or was unreachable. The future fails with {@link CommitFailedException} (non-retriable) or
     * the last retriable error; it completes on a transport or scheduler thread.
     */
    public CompletableFuture<Void> commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        requireGroup("commitAsync");
        if (offsets.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> f = commit(Map.copyOf(offsets), clock.millis() + settings.requestTimeoutMs(),
                ASYNC_COMMIT_ATTEMPTS);
        lastAsyncCommit = f;
        return f;
    }

    private CompletableFuture<Void> commit(Map<TopicPartition, OffsetAndMetadata> offsets, long deadlineMs,
                                           int maxAttempts) {
        Integer generation = null;
        if (subscribed) {
            Optional<MembershipManager.Identity> identity = membership.identity();
            if (identity.isEmpty()) {
                return CompletableFuture.failedFuture(new CommitFailedException("Offset commit failed: this consumer "
                        + "is not a member of group " + settings.groupId() + " right now (it is joining, or lost its "
                        + "partitions); nothing was committed. Call poll() to rejoin and get the current assignment."));
            }
            generation = identity.get().generation();
        }
        Integer startGeneration = generation;
        List<OffsetCommit> commits = offsets.entrySet().stream()
                .map(e -> OffsetCommit.newBuilder().setTopic(e.getKey().topic()).setPartition(e.getKey().partition())
                        .setOffset(e.getValue().offset()).setMetadata(e.getValue().metadata()).build())
                .toList();
        CompletableFuture<Void> result = new CompletableFuture<>();
        CompletableFuture<?> call = coordinators.call("offset commit", deadlineMs, maxAttempts, (node, timeoutMs) -> {
            CommitOffsetsRequest.Builder request = CommitOffsetsRequest.newBuilder().setGroupId(settings.groupId())
                    .addAllOffsets(commits);
            if (startGeneration == null) {
                request.setMemberId("").setMemberEpoch(-1);
            } else {
                // The current epoch (a heartbeat may have bumped it), as long as the membership is the same.
                MembershipManager.Identity id = membership.identity().orElse(null);
                if (id == null || id.generation() != startGeneration) {
                    throw new CommitFailedException("Offset commit failed: this consumer lost its partitions or left "
                            + "group " + settings.groupId() + " while committing; nothing was committed. Call poll() "
                            + "to rejoin and get the current assignment.");
                }
                request.setMemberId(id.memberId()).setMemberEpoch(id.memberEpoch());
            }
            return transport.commitOffsets(node.address(), request.build(), timeoutMs);
        });
        call.whenComplete((r, e) -> {
            if (e == null) {
                offsets.forEach((tp, om) -> lastCommitted.put(tp, om.offset()));
                result.complete(null);
                return;
            }
            RaftlogException error = Errors.fromThrowable(e);
            if (startGeneration != null
                    && (error instanceof UnknownMemberIdException || error instanceof FencedMemberEpochException)) {
                membership.fencedByCommit(startGeneration, error);
            }
            result.completeExceptionally(commitFailure(error));
        });
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) {
                call.cancel(true);
            }
        });
        return result;
    }

    private RaftlogException commitFailure(RaftlogException error) {
        if (error instanceof CommitFailedException || error.isRetriable()) {
            return error;
        }
        if (error instanceof StaleMemberEpochException || error instanceof UnknownMemberIdException
                || error instanceof FencedMemberEpochException) {
            return new CommitFailedException("Offset commit failed: group " + settings.groupId() + " rebalanced or "
                    + "this member was fenced (" + error.getMessage() + "), so nothing was committed. Call poll() to "
                    + "get the current assignment; records whose offsets were not committed are delivered again to "
                    + "their partition's owner.", error);
        }
        if (error instanceof GroupNotEmptyException) {
            return new CommitFailedException("Offset commit failed: group " + settings.groupId() + " has active "
                    + "members, and a consumer that does not subscribe (manual assign) may only commit while the "
                    + "group has none (" + error.getMessage() + ")", error);
        }
        return new CommitFailedException("Offset commit failed: " + error.getMessage(), error);
    }

    // ---- committed offsets --------------------------------------------------------------------

    /**
     * The committed offsets of {@code tps}, retrying retriable errors until {@code deadlineMs};
     * partitions without a committed offset are absent.
     */
    public Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> tps, long deadlineMs) {
        requireGroup("committed");
        if (tps.isEmpty()) {
            return Map.of();
        }
        return await(fetchCommitted(tps, deadlineMs), deadlineMs, "reading committed offsets", true);
    }

    private CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> fetchCommitted(Set<TopicPartition> tps,
                                                                                     long deadlineMs) {
        Set<TopicPartition> wanted = Set.copyOf(tps);
        FetchOffsetsRequest request = FetchOffsetsRequest.newBuilder().setGroupId(settings.groupId())
                .addAllPartitions(MembershipManager.toProto(wanted)).build();
        CompletableFuture<FetchOffsetsResponse> call = coordinators.call("committed-offset lookup", deadlineMs,
                Integer.MAX_VALUE, (node, timeoutMs) -> transport.fetchOffsets(node.address(), request, timeoutMs));
        CompletableFuture<Map<TopicPartition, OffsetAndMetadata>> result = call.thenApply(response -> {
            Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
            for (CommittedOffset c : response.getOffsetsList()) {
                if (c.getOffset() < 0 || c.getPartition() < 0 || c.getTopic().isEmpty()) {
                    continue;
                }
                TopicPartition tp = new TopicPartition(c.getTopic(), c.getPartition());
                if (wanted.contains(tp)) {
                    out.put(tp, new OffsetAndMetadata(c.getOffset(), c.getMetadata()));
                }
            }
            return Map.copyOf(out);
        });
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) {
                call.cancel(true);
            }
        });
        return result;
    }

    // ---- group metadata and close ---------------------------------------------------------------

    public ConsumerGroupMetadata groupMetadata() {
        requireGroup("groupMetadata");
        if (!subscribed) {
            return new ConsumerGroupMetadata(settings.groupId(), "", -1, -1);
        }
        return new ConsumerGroupMetadata(settings.groupId(), membership.memberId(), memberEpochView, groupEpochView);
    }

    /**
     * Close: when subscribed, auto-commit (if enabled), onPartitionsRevoked and leave the group;
     * with manual assignment, auto-commit. Waits until {@code deadlineMs} at most; listener errors
     * are logged, not thrown.
     */
    public void close(long deadlineMs) {
        try {
            if (subscribed) {
                unsubscribe(deadlineMs);
            } else if (autoCommitEnabled()) {
                commitQuietly(changedPositions(partitions.assignment()), deadlineMs, "auto-commit on close");
            }
        } catch (RuntimeException e) {
            log.error("{} error while closing the consumer's group membership", logPrefix, e);
        } finally {
            if (membership != null) {
                membership.close();
            }
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private void requireGroup(String operation) {
        if (settings.groupId() == null) {
            throw new IllegalStateException(operation + " needs a consumer group: set group.id in the ConsumerConfig");
        }
    }

    /**
     * Waits for {@code future} until {@code deadlineMs} (via the waiter, so nothing spins) and
     * returns its value or throws its failure as a {@link RaftlogException}; on timeout a
     * {@link TimeoutException} is thrown (and the future cancelled if {@code cancelOnTimeout}).
     */
    private <T> T await(CompletableFuture<T> future, long deadlineMs, String what, boolean cancelOnTimeout) {
        future.whenComplete((r, e) -> waiter.wakeUp());
        while (!future.isDone()) {
            long remaining = deadlineMs - clock.millis();
            if (remaining <= 0) {
                if (cancelOnTimeout) {
                    future.cancel(true);
                }
                throw new TimeoutException(what + " did not complete in time");
            }
            try {
                waiter.await(remaining);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RaftlogException("interrupted while " + what, e);
            }
        }
        try {
            return future.join();
        } catch (CompletionException | CancellationException e) {
            throw Errors.fromThrowable(e);
        }
    }

    @Override
    public String toString() {
        return logPrefix + " owned=" + owned + " subscription=" + subscription + " commits="
                + Objects.toString(lastCommitted);
    }
}
