package io.raftlog.client.internals.consumer.group;

import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.api.v1.GroupHeartbeatResponse;
import io.raftlog.api.v1.TopicPartitions;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.FencedMemberEpochException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.UnknownMemberIdException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer's membership in its group: member id and epoch, the partitions the coordinator wants
 * it to own (the <i>target</i>), the partitions it reports as owned, and the heartbeats.
 *
 * <h2>Threading</h2>
 * Heartbeats run on the {@link Scheduler}'s thread ({@link #tick}), never on the application
 * thread, so a slow poll loop does not lose the membership (there is no {@code max.poll.interval.ms}:
 * a member stays in the group as long as its heartbeats succeed, however long the application
 * takes between polls). Heartbeat answers arrive on transport threads. The application thread
 * reads a consistent {@link View}, reconciles (listener callbacks, fetch positions) and reports
 * back with {@link #ownedChanged} / {@link #lostHandled}. All state is guarded by {@code this};
 * the application is woken with the injected callback whenever the view changes.
 *
 * <h2>States</h2>
 * <ul>
 *   <li>{@code UNSUBSCRIBED}: not in the group, no heartbeats.</li>
 *   <li>{@code JOINING}: heartbeats with member epoch 0 (owning nothing) until one succeeds.</li>
 *   <li>{@code STABLE}: a member; a heartbeat every heartbeat interval (the coordinator's value
 *       wins), and at once after the owned partitions changed. Retriable failures (coordinator
 *       moved or unavailable, broker unreachable, timeout) re-find the coordinator and retry with
 *       backoff.</li>
 *   <li>{@code LOST}: the partitions are lost: the coordinator answered UNKNOWN_MEMBER_ID or
 *       FENCED_MEMBER_EPOCH, a heartbeat failed for good (the error is also surfaced by the next
 *       poll), or no heartbeat succeeded for {@code session.timeout.ms} (so a member cut off from
 *       the coordinator stops consuming before the coordinator gives its partitions away). No
 *       heartbeats until the application has given the partitions up ({@link #lostHandled}), then
 *       it rejoins with epoch 0 and the same member id.</li>
 * </ul>
 * Every change of membership (join, lost, leave) bumps a <i>generation</i>; answers to heartbeats
 * sent under an older generation are ignored, so a late answer cannot resurrect an old membership.
 */
public final class MembershipManager {
    private static final Logger log = LoggerFactory.getLogger(MembershipManager.class);

    public enum State { UNSUBSCRIBED, JOINING, STABLE, LOST, CLOSED }

    /** The settings of the membership. */
    public record Settings(String groupId, String memberId, String clientId, int sessionTimeoutMs,
                           int heartbeatIntervalMs, String assignor, int requestTimeoutMs, long retryBackoffMs) {
    }

    /**
     * What the application thread reconciles against, read atomically.
     *
     * @param version bumped on every change the application must look at
     * @param target the partitions to own (null until the first answer after joining)
     * @param lostReason why the partitions were lost (state LOST)
     * @param heartbeatsSent heartbeats sent so far (see {@link #tryAcquire})
     */
    public record View(long version, State state, int generation, int memberEpoch, int groupEpoch,
                       Set<TopicPartition> target, String lostReason, long heartbeatsSent) {
    }

    /** The identity an offset commit carries. */
    public record Identity(String memberId, int memberEpoch, int generation) {
    }

    private final Settings settings;
    private final CoordinatorClient coordinators;
    private final GroupTransport transport;
    private final Scheduler scheduler;
    private final Clock clock;
    private final Runnable wakeApplication;
    private final String logPrefix;

    // Guarded by this.
    private State state = State.UNSUBSCRIBED;
    private Set<String> subscription = Set.of();
    private int memberEpoch = -1;
    private int groupEpoch = -1;
    private Set<TopicPartition> owned = Set.of();
    private Set<TopicPartition> target;
    private int heartbeatIntervalMs;
    /** Send as soon as {@link #retryAtMs} allows instead of waiting for the interval. */
    private boolean heartbeatNow;
    private long lastSentMs;
    private long lastSuccessMs;
    /** The generation of the heartbeat in flight, -1 for none (one of an older generation does not block). */
    private int inFlightGeneration = -1;
    private boolean lookupInFlight;
    private int failures;
    private long retryAtMs;
    private RaftlogException fatal;
    private String lostReason;
    private int generation;
    private long version;
    private Scheduler.Task timer;
    private long heartbeatsSent;
    /** An acquisition was refused as stale: the next answer wakes the application even if nothing changed. */
    private boolean acquireDeferred;

    public MembershipManager(Settings settings, CoordinatorClient coordinators, GroupTransport transport,
                             Scheduler scheduler, Clock clock, Runnable wakeApplication, String logPrefix) {
        this.settings = settings;
        this.coordinators = coordinators;
        this.transport = transport;
        this.scheduler = scheduler;
        this.clock = clock;
        this.wakeApplication = wakeApplication;
        this.logPrefix = logPrefix;
        this.heartbeatIntervalMs = settings.heartbeatIntervalMs();
    }

    public String memberId() {
        return settings.memberId();
    }

    // ---- application thread -------------------------------------------------------------------

    /** Joins with {@code topics}, or sends the new subscription with the next heartbeat if already in. */
    public void subscribe(Set<String> topics) {
        synchronized (this) {
            if (state == State.CLOSED) {
                throw new IllegalStateException("membership is closed");
            }
            subscription = Set.copyOf(topics);
            if (state == State.UNSUBSCRIBED) {
                startJoin();
            } else {
                heartbeatNow = true;
            }
        }
        wakeTick();
    }

    public synchronized View view() {
        return new View(version, state, generation, memberEpoch, groupEpoch, target, lostReason, heartbeatsSent);
    }

    /** The version of the {@link #view()}; cheap, for "did anything change" checks. */
    public synchronized long version() {
        return version;
    }

    /** The heartbeat error to surface from poll, if any; cleared by the call. */
    public synchronized RaftlogException takeFatalError() {
        RaftlogException e = fatal;
        fatal = null;
        return e;
    }

    /** The application owns {@code partitions} now (under membership {@code generation}): report it at once. */
    public void ownedChanged(int generation, Set<TopicPartition> partitions) {
        synchronized (this) {
            if (generation != this.generation || state != State.STABLE) {
                return; // lost or left meanwhile: the application will hear about it
            }
            owned = Set.copyOf(partitions);
            heartbeatNow = true;
        }
        wakeTick();
    }

    /**
     * The application starts owning {@code partitions} (a superset of what it owned, taken from
     * {@code view}'s target), atomically with respect to heartbeats. Refused (false) when a
     * heartbeat was sent since {@code view} was read or is in flight: that heartbeat told the
     * coordinator these partitions are not owned, and if they meanwhile left this member's target
     * (a new rebalance) the coordinator has taken that as their release and may have handed them to
     * another member. The answer to that heartbeat brings a fresh target and wakes the application,
     * which tries again. Without this rule two members could consume a partition at the same time.
     */
    public boolean tryAcquire(View view, Set<TopicPartition> partitions) {
        synchronized (this) {
            if (state != State.STABLE || view.generation() != generation || view.heartbeatsSent() != heartbeatsSent
                    || inFlightGeneration == generation || !java.util.Objects.equals(view.target(), target)) {
                if (inFlightGeneration == generation) {
                    acquireDeferred = true; // its answer wakes the application
                } else {
                    version++; // the answer is in already: look again at once
                }
                return false;
            }
            owned = Set.copyOf(partitions);
            heartbeatNow = true;
        }
        wakeTick();
        return true;
    }

    /** The application gave the lost partitions up: rejoin with epoch 0. */
    public void lostHandled(int generation) {
        synchronized (this) {
            if (state != State.LOST || generation != this.generation) {
                return;
            }
            startJoin();
        }
        wakeTick();
    }

    /** The member's identity for an offset commit, or empty when it is not a member right now. */
    public synchronized Optional<Identity> identity() {
        return state == State.STABLE ? Optional.of(new Identity(settings.memberId(), memberEpoch, generation))
                : Optional.empty();
    }

    /** An offset commit under {@code generation} learned that the coordinator fenced or forgot the member. */
    public void fencedByCommit(int generation, RaftlogException cause) {
        synchronized (this) {
            if (generation != this.generation || state != State.STABLE) {
                return;
            }
            markLost("an offset commit was refused: " + cause.getMessage());
        }
        wakeApplication.run();
    }

    /**
     * Leaves the group: one heartbeat with epoch -1, retried within {@code request.timeout.ms}
     * (the caller may stop waiting earlier). The state is UNSUBSCRIBED at once; the future
     * completes when the coordinator confirmed (or fails). A member that was not in the group
     * (lost, or never subscribed) sends nothing.
     */
    public CompletableFuture<Void> leave() {
        GroupHeartbeatRequest request = null;
        synchronized (this) {
            if (state == State.JOINING || state == State.STABLE) {
                request = GroupHeartbeatRequest.newBuilder().setGroupId(settings.groupId())
                        .setMemberId(settings.memberId()).setMemberEpoch(-1)
                        .addAllSubscribedTopics(new TreeSet<>(subscription)).build();
                log.info("{} leaving group {} (member epoch {})", logPrefix, settings.groupId(), memberEpoch);
            }
            if (state != State.CLOSED) {
                reset(State.UNSUBSCRIBED);
            }
        }
        if (request == null) {
            return CompletableFuture.completedFuture(null);
        }
        GroupHeartbeatRequest leave = request;
        return coordinators.call("leave group", clock.millis() + settings.requestTimeoutMs(), Integer.MAX_VALUE,
                (node, timeoutMs) -> transport.heartbeat(node.address(), leave, timeoutMs)).handle((r, e) -> {
                    if (e == null) {
                        log.info("{} left group {}", logPrefix, settings.groupId());
                        return null;
                    }
                    RaftlogException error = Errors.fromThrowable(e);
                    if (error instanceof UnknownMemberIdException || error instanceof FencedMemberEpochException) {
                        return null; // not a member anyway
                    }
                    throw error;
                });
    }

    /** Stops heartbeating for good. */
    public void close() {
        synchronized (this) {
            reset(State.CLOSED);
        }
    }

    private void reset(State next) {
        state = next;
        generation++;
        version++;
        memberEpoch = -1;
        groupEpoch = -1;
        target = null;
        owned = Set.of();
        heartbeatNow = false;
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    // ---- scheduler thread ---------------------------------------------------------------------

    /** Makes {@link #tick} run soon on the scheduler thread. Any thread. */
    private void wakeTick() {
        scheduler.execute(this::tick);
    }

    /**
     * One step of the heartbeat loop (scheduler thread; tests call it by hand): checks the session,
     * sends a heartbeat (or a coordinator lookup) when one is due, and arms a timer for the next
     * step. Idempotent: extra calls do nothing harmful.
     */
    public void tick() {
        CoordinatorClient.Node node = null;
        GroupHeartbeatRequest request = null;
        long timeoutMs = 0;
        int gen;
        boolean lookup = false;
        boolean lost = false;
        synchronized (this) {
            if (timer != null) {
                timer.cancel();
                timer = null;
            }
            if (state != State.JOINING && state != State.STABLE) {
                return;
            }
            long now = clock.millis();
            if (state == State.STABLE && now - lastSuccessMs >= settings.sessionTimeoutMs()) {
                markLost("no heartbeat succeeded for " + (now - lastSuccessMs) + " ms (session.timeout.ms="
                        + settings.sessionTimeoutMs() + ")");
                lost = true;
            }
            gen = generation;
            if (!lost) {
                long sessionCheckAt = state == State.STABLE ? lastSuccessMs + settings.sessionTimeoutMs()
                        : Long.MAX_VALUE;
                long dueAt = heartbeatNow ? retryAtMs : Math.max(lastSentMs + heartbeatIntervalMs, retryAtMs);
                if (inFlightGeneration == generation || lookupInFlight) {
                    armTimer(sessionCheckAt, now);
                } else if (now < dueAt) {
                    armTimer(Math.min(dueAt, sessionCheckAt), now);
                } else {
                    Optional<CoordinatorClient.Node> known = coordinators.known();
                    if (known.isEmpty()) {
                        lookupInFlight = true;
                        lookup = true;
                    } else {
                        node = known.get();
                        request = buildRequest();
                        heartbeatsSent++;
                        inFlightGeneration = generation;
                        heartbeatNow = false;
                        lastSentMs = now;
                        timeoutMs = memberEpoch == 0 ? settings.requestTimeoutMs()
                                : Math.min(settings.requestTimeoutMs(), Math.max(1, settings.sessionTimeoutMs() / 2));
                    }
                    armTimer(sessionCheckAt, now);
                }
            }
        }
        if (lost) {
            wakeApplication.run();
        } else if (lookup) {
            coordinators.coordinator().whenComplete((n, e) -> onLookup(gen, e));
        } else if (request != null) {
            long sentAtMs = clock.millis();
            CoordinatorClient.Node to = node;
            GroupHeartbeatRequest sent = request;
            log.debug("{} heartbeat to {}: member epoch {}, owned {}", logPrefix, to, sent.getMemberEpoch(),
                    sent.getOwnedPartitionsList().size());
            CompletableFuture<GroupHeartbeatResponse> rpc;
            try {
                rpc = transport.heartbeat(to.address(), sent, timeoutMs);
            } catch (RuntimeException e) {
                rpc = CompletableFuture.failedFuture(e);
            }
            rpc.whenComplete((r, e) -> onResponse(gen, to, r, e, sentAtMs));
        }
    }

    private void armTimer(long atMs, long now) {
        if (atMs == Long.MAX_VALUE) {
            return;
        }
        timer = scheduler.schedule(this::tick, Math.max(0, atMs - now));
    }

    private void startJoin() {
        state = State.JOINING;
        generation++;
        version++;
        memberEpoch = 0;
        target = null;
        owned = Set.of();
        lostReason = null;
        heartbeatNow = true;
        log.info("{} joining group {} as member {} (subscription {})", logPrefix, settings.groupId(),
                settings.memberId(), new TreeSet<>(subscription));
    }

    private void markLost(String reason) {
        log.warn("{} member {} of group {} lost its partitions {} (member epoch {}): {}; it rejoins once the "
                + "application has given them up (next poll)", logPrefix, settings.memberId(), settings.groupId(),
                sorted(owned), memberEpoch, reason);
        state = State.LOST;
        generation++;
        version++;
        memberEpoch = 0;
        target = null;
        lostReason = reason;
    }

    private GroupHeartbeatRequest buildRequest() {
        GroupHeartbeatRequest.Builder b = GroupHeartbeatRequest.newBuilder().setGroupId(settings.groupId())
                .setMemberId(settings.memberId()).setMemberEpoch(memberEpoch)
                .addAllSubscribedTopics(new TreeSet<>(subscription)).addAllOwnedPartitions(toProto(owned));
        if (memberEpoch == 0) {
            b.setSessionTimeoutMs(settings.sessionTimeoutMs()).setAssignor(settings.assignor())
                    .setClientId(settings.clientId());
        }
        return b.build();
    }

    private void onLookup(int gen, Throwable e) {
        synchronized (this) {
            lookupInFlight = false;
            if (e != null && gen == generation) {
                failures++;
                retryAtMs = clock.millis() + coordinators.backoffMs(failures);
            }
        }
        wakeTick();
    }

    private void onResponse(int gen, CoordinatorClient.Node node, GroupHeartbeatResponse response, Throwable e,
                            long sentAtMs) {
        if (e == null || !Errors.fromThrowable(e).isRetriable()) {
            coordinators.coordinatorAnswered(node);
        }
        boolean wakeApp = false;
        synchronized (this) {
            if (inFlightGeneration == gen) {
                inFlightGeneration = -1;
            }
            if (gen != generation || (state != State.JOINING && state != State.STABLE)) {
                log.debug("{} ignoring the answer to a heartbeat of an earlier membership", logPrefix);
            } else if (e == null) {
                wakeApp = succeeded(response, sentAtMs);
            } else {
                wakeApp = failed(node, Errors.fromThrowable(e));
            }
        }
        if (wakeApp) {
            wakeApplication.run();
        }
        wakeTick();
    }

    private boolean succeeded(GroupHeartbeatResponse r, long sentAtMs) {
        failures = 0;
        retryAtMs = 0;
        // The coordinator renewed the session when the request arrived, after it was sent: counting
        // from the send, this member gives its partitions up no later than the coordinator expels it.
        lastSuccessMs = sentAtMs;
        if (r.getHeartbeatIntervalMs() > 0) {
            heartbeatIntervalMs = r.getHeartbeatIntervalMs();
        }
        boolean joined = state == State.JOINING;
        int previousEpoch = memberEpoch;
        memberEpoch = r.getMemberEpoch();
        groupEpoch = r.getGroupEpoch();
        state = State.STABLE;
        Set<TopicPartition> assignment = fromProto(r.getAssignmentList());
        if (joined) {
            log.info("{} joined group {} as member {} with member epoch {} (group epoch {})", logPrefix,
                    settings.groupId(), settings.memberId(), memberEpoch, groupEpoch);
        }
        boolean changed = joined || previousEpoch != memberEpoch || !assignment.equals(target) || acquireDeferred;
        acquireDeferred = false;
        if (!assignment.equals(target)) {
            log.info("{} target assignment at member epoch {}: {} (owned: {})", logPrefix, memberEpoch,
                    sorted(assignment), sorted(owned));
        }
        target = assignment;
        log.debug("{} heartbeat ok: member epoch {}, group epoch {}, next in {} ms", logPrefix, memberEpoch,
                groupEpoch, heartbeatIntervalMs);
        if (changed) {
            version++;
        }
        return changed;
    }

    private boolean failed(CoordinatorClient.Node node, RaftlogException error) {
        long now = clock.millis();
        if (error instanceof UnknownMemberIdException || error instanceof FencedMemberEpochException) {
            markLost("the coordinator answered " + error.getClass().getSimpleName() + ": " + error.getMessage());
            return true;
        }
        failures++;
        if (error.isRetriable()) {
            retryAtMs = now + Math.min(coordinators.backoffMs(failures), Math.max(heartbeatIntervalMs, 1));
            heartbeatNow = true;
            coordinators.coordinatorFailed(node, error);
            log.debug("{} heartbeat to {} failed ({} in a row): {}", logPrefix, node, failures, error.getMessage());
            return false;
        }
        log.warn("{} heartbeat to {} failed: {}", logPrefix, node, error.toString());
        fatal = error;
        markLost("heartbeat failed: " + error.getMessage());
        // Rejoining will most likely fail the same way: not faster than once per interval.
        retryAtMs = now + Math.max(settings.retryBackoffMs(), heartbeatIntervalMs);
        return true;
    }

    // ---- conversions ----------------------------------------------------------------------------

    static List<TopicPartitions> toProto(Set<TopicPartition> partitions) {
        Map<String, TreeSet<Integer>> byTopic = new TreeMap<>();
        partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new TreeSet<>()).add(tp.partition()));
        List<TopicPartitions> out = new ArrayList<>();
        byTopic.forEach((topic, ps) -> out.add(TopicPartitions.newBuilder().setTopic(topic).addAllPartitions(ps).build()));
        return out;
    }

    static Set<TopicPartition> fromProto(List<TopicPartitions> list) {
        Set<TopicPartition> out = new LinkedHashSet<>();
        for (TopicPartitions tps : list) {
            for (int p : tps.getPartitionsList()) {
                if (p >= 0 && !tps.getTopic().isEmpty()) {
                    out.add(new TopicPartition(tps.getTopic(), p));
                }
            }
        }
        return Set.copyOf(out);
    }

    static List<TopicPartition> sorted(Set<TopicPartition> partitions) {
        List<TopicPartition> list = new ArrayList<>(partitions);
        list.sort((a, b) -> a.topic().equals(b.topic()) ? Integer.compare(a.partition(), b.partition())
                : a.topic().compareTo(b.topic()));
        return list;
    }
}
