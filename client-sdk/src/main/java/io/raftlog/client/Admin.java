package io.raftlog.client;

import io.grpc.Channel;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.AlterReplicationFactorRequest;
import io.raftlog.api.v1.AlterReplicationFactorResponse;
import io.raftlog.api.v1.AlterTopicConfigRequest;
import io.raftlog.api.v1.AlterTopicConfigResponse;
import io.raftlog.api.v1.CreatePartitionsRequest;
import io.raftlog.api.v1.CreatePartitionsResponse;
import io.raftlog.api.v1.CreateTopicRequest;
import io.raftlog.api.v1.DecommissionBrokerRequest;
import io.raftlog.api.v1.DecommissionBrokerResponse;
import io.raftlog.api.v1.DeleteGroupRequest;
import io.raftlog.api.v1.DeleteGroupResponse;
import io.raftlog.api.v1.DeleteTopicRequest;
import io.raftlog.api.v1.DescribeClusterRequest;
import io.raftlog.api.v1.DescribeClusterResponse;
import io.raftlog.api.v1.DescribeGroupRequest;
import io.raftlog.api.v1.DescribeGroupResponse;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.DescribeTopicResponse;
import io.raftlog.api.v1.ElectPreferredLeadersRequest;
import io.raftlog.api.v1.ElectPreferredLeadersResponse;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.GroupMemberDescription;
import io.raftlog.api.v1.GroupServiceGrpc;
import io.raftlog.api.v1.ListGroupsRequest;
import io.raftlog.api.v1.ListGroupsResponse;
import io.raftlog.api.v1.ListOffsetsPartition;
import io.raftlog.api.v1.ListPartitionReassignmentsRequest;
import io.raftlog.api.v1.ListPartitionReassignmentsResponse;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResponse;
import io.raftlog.api.v1.ListOffsetsResult;
import io.raftlog.api.v1.ListTopicsRequest;
import io.raftlog.api.v1.PartitionDescription;
import io.raftlog.api.v1.PartitionReplicas;
import io.raftlog.api.v1.ReassignPartitionsRequest;
import io.raftlog.api.v1.ReassignPartitionsResponse;
import io.raftlog.api.v1.ResetOffsetsRequest;
import io.raftlog.api.v1.ResetOffsetsResponse;
import io.raftlog.api.v1.TopicPartitions;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.LeaderNotAvailableException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.TimeoutException;
import io.raftlog.client.internals.Futures;
import io.raftlog.client.internals.MetadataCache;
import io.raftlog.client.internals.TopicNames;
import io.raftlog.client.internals.consumer.group.BrokerDirectory;
import io.raftlog.client.internals.consumer.group.CoordinatorClient;
import io.raftlog.client.internals.consumer.group.GrpcGroupTransport;
import io.raftlog.client.internals.consumer.group.Scheduler;
import io.raftlog.client.transport.ChannelPool;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topic administration and cluster inspection.
 *
 * <p>Every method is asynchronous and returns a {@link CompletableFuture} that fails with a
 * {@link RaftlogException} subclass; {@link #blocking()} offers the same operations as blocking
 * calls. Admin RPCs go to any live broker (brokers forward writes to the metadata group): on
 * gRPC UNAVAILABLE or a retriable error the call moves on to the next known broker, backing off
 * {@code retryBackoffMs} after each full round, until {@code requestTimeoutMs} has elapsed.
 * {@link #listOffsets} is routed to the partition leader instead.
 *
 * <p>Consumer-group methods ({@link #listGroups}, {@link #describeGroup}, {@link #listGroupOffsets},
 * {@link #deleteGroup}, {@link #resetGroupOffsets}) go to the group coordinator, found with
 * FindCoordinator on any broker and cached (the consumer's lookup); NOT_COORDINATOR (following its
 * hint at once when the broker is known, once in a row), COORDINATOR_NOT_AVAILABLE and unreachable
 * brokers make the call find the coordinator again and retry, backing off {@code retryBackoffMs}
 * (doubling per retry, up to max(1 s, retryBackoffMs)), until {@code requestTimeoutMs} has elapsed;
 * the {@code TimeoutException} then has the last error as its cause.
 *
 * <p>A topic name no topic can have fails the future at once, without a request, with an
 * {@code InvalidTopicException} naming the rule it breaks (the client's copy of the broker's
 * rules); a broker refusing a name the client let through answers {@code InvalidArgumentException}
 * (its superclass) with its own message.
 *
 * <p>Thread-safe. Futures complete on gRPC or internal threads: do not block in callbacks.
 */
public final class Admin implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Admin.class);
    private static final Comparator<TopicPartition> PARTITION_ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private final AdminConfig config;
    private final ChannelPool channels;
    private final MetadataCache metadata;
    private final ScheduledExecutorService scheduler;
    private final AtomicInteger nextBroker = new AtomicInteger();
    /**
     * The coordinator lookup the consumer uses too. One for every group: the cluster has a single
     * coordinator (the metadata leader), so FindCoordinator is sent without a group id and its
     * answer serves all of them.
     */
    private final CoordinatorClient coordinator;
    private final Blocking blocking = new Blocking();

    private Admin(AdminConfig config) {
        this.config = config;
        this.channels = new ChannelPool(config.channelFactory(), config.clock(), config.retryBackoffMs());
        this.metadata = new MetadataCache(config.bootstrapServers(), channels, config.clock(),
                config.retryBackoffMs(), config.requestTimeoutMs(), config.metadataMaxAgeMs());
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "raftlog-admin");
            t.setDaemon(true);
            return t;
        });
        this.coordinator = new CoordinatorClient("", new GrpcGroupTransport(channels), BrokerDirectory.of(metadata),
                Scheduler.over(scheduler), config.clock(), config.retryBackoffMs(), config.requestTimeoutMs(),
                "[admin]");
    }

    /** Creates an admin client; no connection is made until the first call. */
    public static Admin create(AdminConfig config) {
        return new Admin(config);
    }

    /**
     * Creates a topic. Fails with {@code TopicAlreadyExistsException}, {@code InvalidTopicException}
     * or {@code InvalidArgumentException} (partitions, replication factor).
     */
    public CompletableFuture<Void> createTopic(String name, int partitions, int replicationFactor) {
        return createTopic(name, partitions, replicationFactor, Map.of());
    }

    /**
     * Creates a topic with configuration overrides, Kafka's key names ({@code retention.ms},
     * {@code retention.bytes}, {@code segment.bytes}, {@code segment.ms}, {@code max.message.bytes},
     * {@code cleanup.policy}, {@code delete.retention.ms}, {@code min.cleanable.dirty.ratio},
     * {@code min.compaction.lag.ms}); keys left out take the broker defaults. An unknown key or invalid
     * value fails with {@code InvalidArgumentException} carrying the broker's message.
     */
    public CompletableFuture<Void> createTopic(String name, int partitions, int replicationFactor,
                                               Map<String, String> configs) {
        Objects.requireNonNull(configs, "configs");
        CompletableFuture<Void> invalid = invalidTopic(name);
        if (invalid != null) {
            return invalid;
        }
        CreateTopicRequest request = CreateTopicRequest.newBuilder()
                .setName(name).setPartitions(partitions).setReplicationFactor(replicationFactor)
                .putAllConfig(configs).build();
        return callAnyBroker("CreateTopic", (channel, deadlineMs) -> Futures.<io.raftlog.api.v1.CreateTopicResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .createTopic(request, o))).thenApply(r -> null);
    }

    /**
     * Changes a topic's configuration: sets the entries of {@code set} and removes the keys of
     * {@code remove} (they go back to the broker defaults). Completes with the topic's overrides
     * after the change, sorted by key. Fails with {@code UnknownTopicOrPartitionException} if the
     * topic does not exist, and {@code InvalidArgumentException} for an unknown key, an invalid
     * value, a key both set and removed, or nothing to change. Brokers apply the change a moment
     * after the future completes.
     */
    public CompletableFuture<Map<String, String>> alterTopicConfig(String topic, Map<String, String> set,
                                                                   Collection<String> remove) {
        Objects.requireNonNull(set, "set");
        Objects.requireNonNull(remove, "remove");
        CompletableFuture<Map<String, String>> invalid = invalidTopic(topic);
        if (invalid != null) {
            return invalid;
        }
        AlterTopicConfigRequest request = AlterTopicConfigRequest.newBuilder().setName(topic).putAllSet(set)
                .addAllRemove(remove).build();
        return callAnyBroker("AlterTopicConfig", (channel, deadlineMs) -> Futures.<AlterTopicConfigResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .alterTopicConfig(request, o)))
                .thenApply(r -> Collections.unmodifiableMap(new TreeMap<>(r.getConfigOverridesMap())));
    }

    /** Deletes a topic. Fails with {@code UnknownTopicOrPartitionException} if it does not exist. */
    public CompletableFuture<Void> deleteTopic(String name) {
        CompletableFuture<Void> invalid = invalidTopic(name);
        if (invalid != null) {
            return invalid;
        }
        DeleteTopicRequest request = DeleteTopicRequest.newBuilder().setName(name).build();
        return callAnyBroker("DeleteTopic", (channel, deadlineMs) -> Futures.<io.raftlog.api.v1.DeleteTopicResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .deleteTopic(request, o))).thenApply(r -> null);
    }

    /** Names of all topics, sorted. */
    public CompletableFuture<List<String>> listTopics() {
        return callAnyBroker("ListTopics", (channel, deadlineMs) -> Futures.<io.raftlog.api.v1.ListTopicsResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .listTopics(ListTopicsRequest.getDefaultInstance(), o)))
                .thenApply(r -> r.getNamesList().stream().sorted().toList());
    }

    /** Leader, replicas, ISR and offsets of every partition of {@code name}, in partition order. */
    public CompletableFuture<TopicDescription> describeTopic(String name) {
        CompletableFuture<TopicDescription> invalid = invalidTopic(name);
        if (invalid != null) {
            return invalid;
        }
        DescribeTopicRequest request = DescribeTopicRequest.newBuilder().setName(name).build();
        return callAnyBroker("DescribeTopic", (channel, deadlineMs) -> Futures.<DescribeTopicResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .describeTopic(request, o)))
                .thenApply(Admin::toDescription);
    }

    /** Cluster id, metadata leader, brokers with their partition counts, and under-replicated partitions. */
    public CompletableFuture<ClusterDescription> describeCluster() {
        return callAnyBroker("DescribeCluster", (channel, deadlineMs) -> Futures.<DescribeClusterResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .describeCluster(DescribeClusterRequest.getDefaultInstance(), o)))
                .thenApply(r -> new ClusterDescription(r.getClusterId(), r.getMetadataLeaderId(),
                        r.getBrokersList().stream()
                                .map(b -> new BrokerInfo(b.getBrokerId(), b.getHost(), b.getPort(), b.getAlive(),
                                        b.getDecommissioned()))
                                .toList(),
                        r.getBrokerLoadsList().stream()
                                .map(l -> new BrokerLoad(l.getBrokerId(), l.getLeaders(), l.getReplicas()))
                                .toList(),
                        r.getUnderReplicatedPartitionsList().stream()
                                .map(u -> new UnderReplicatedPartition(u.getTopic(), u.getPartition(), u.getLeaderId(),
                                        u.getReplicasList(), u.getIsrList()))
                                .toList()));
    }

    /**
     * Moves the leadership of every partition of every topic to its preferred replica (the first
     * of its assigned replicas), like Kafka's preferred leader election. See
     * {@link #electPreferredLeaders(String, Collection)}.
     */
    public CompletableFuture<List<PreferredLeaderElection>> electPreferredLeaders() {
        return sendElectPreferredLeaders(ElectPreferredLeadersRequest.getDefaultInstance());
    }

    /**
     * Moves the leadership of every partition of {@code topic} to its preferred replica. See
     * {@link #electPreferredLeaders(String, Collection)}.
     */
    public CompletableFuture<List<PreferredLeaderElection>> electPreferredLeaders(String topic) {
        return electPreferredLeaders(topic, List.of());
    }

    /**
     * Moves the leadership of the given partitions of {@code topic} (all of them when
     * {@code partitions} is empty) to their preferred replica: the first of each partition's
     * assigned replicas. Completes with one result per partition, sorted by topic and partition:
     * {@code ELECTED}, {@code ALREADY_PREFERRED}, or {@code FAILED} with the broker's reason (a
     * preferred replica that is down or not in sync); a failed partition does not fail the future.
     *
     * <p>The future fails only for bad input: {@code InvalidTopicException} for a name no topic
     * can have and {@code InvalidArgumentException} for a negative partition (both at once,
     * without a request), {@code UnknownTopicOrPartitionException} for a topic that does not
     * exist, and the broker's {@code InvalidArgumentException} for a partition the topic does not
     * have. Duplicate partitions are sent once.
     */
    public CompletableFuture<List<PreferredLeaderElection>> electPreferredLeaders(String topic,
                                                                                 Collection<Integer> partitions) {
        Objects.requireNonNull(partitions, "partitions");
        CompletableFuture<List<PreferredLeaderElection>> invalid = invalidTopic(topic);
        if (invalid != null) {
            return invalid;
        }
        // Sorted and without duplicates, so the request is the same whatever order the caller used.
        Set<Integer> distinct = new TreeSet<>();
        for (Integer partition : partitions) {
            Objects.requireNonNull(partition, "partitions must not contain null");
            if (partition < 0) {
                return CompletableFuture.failedFuture(new InvalidArgumentException(
                        "partition ids must be >= 0; got " + partition + " for topic '" + topic + "'"));
            }
            distinct.add(partition);
        }
        return sendElectPreferredLeaders(ElectPreferredLeadersRequest.newBuilder().setTopic(topic)
                .addAllPartitions(distinct).build());
    }

    /**
     * Moves partitions of {@code topic} to new replicas (Kafka's partition reassignment): for each
     * entry, partition id to its new replica list, preferred leader first. New replicas join the
     * partition's Raft group and catch up, leadership moves off replicas that leave, then they leave;
     * the partition keeps taking writes meanwhile. Completes once the reassignments are recorded,
     * with one entry per partition (a target equal to the current replicas records nothing); watch
     * {@link #listPartitionReassignments(String)} or {@link #describeTopic} for their end. A partition
     * already under reassignment gets the new target instead.
     *
     * <p>Fails with {@code InvalidArgumentException} for an empty, duplicate or unknown broker, a
     * new replica on a broker that is down or decommissioned, or a partition the topic does not have,
     * and {@code UnknownTopicOrPartitionException} for an unknown topic; then nothing changes.
     */
    public CompletableFuture<List<PartitionReassignment>> reassignPartitions(String topic,
                                                                             Map<Integer, List<Integer>> targets) {
        Objects.requireNonNull(targets, "targets");
        CompletableFuture<List<PartitionReassignment>> invalid = invalidTopic(topic);
        if (invalid != null) {
            return invalid;
        }
        ReassignPartitionsRequest.Builder request = ReassignPartitionsRequest.newBuilder().setTopic(topic);
        new TreeMap<>(targets).forEach((p, replicas) -> request.addPartitions(
                PartitionReplicas.newBuilder().setPartition(p).addAllReplicas(replicas)));
        return sendReassign(request.build());
    }

    /**
     * Cancels the reassignments under way of the given partitions of {@code topic} (all of the
     * topic's when empty): each goes back to the replicas it had when its reassignment started.
     */
    public CompletableFuture<List<PartitionReassignment>> cancelPartitionReassignments(String topic,
                                                                                       Collection<Integer> partitions) {
        Objects.requireNonNull(partitions, "partitions");
        CompletableFuture<List<PartitionReassignment>> invalid = invalidTopic(topic);
        if (invalid != null) {
            return invalid;
        }
        ReassignPartitionsRequest.Builder request = ReassignPartitionsRequest.newBuilder().setTopic(topic).setCancel(true);
        new TreeSet<>(partitions).forEach(p -> request.addPartitions(PartitionReplicas.newBuilder().setPartition(p)));
        return sendReassign(request.build());
    }

    private CompletableFuture<List<PartitionReassignment>> sendReassign(ReassignPartitionsRequest request) {
        return callAnyBroker("ReassignPartitions", (channel, deadlineMs) -> Futures.<ReassignPartitionsResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .reassignPartitions(request, o)))
                .thenApply(r -> toReassignments(r.getReassignmentsList()));
    }

    /** Partitions under reassignment, of every topic. */
    public CompletableFuture<List<PartitionReassignment>> listPartitionReassignments() {
        return listPartitionReassignments("");
    }

    /** Partitions of {@code topic} under reassignment (of every topic when {@code topic} is empty). */
    public CompletableFuture<List<PartitionReassignment>> listPartitionReassignments(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (!topic.isEmpty()) {
            CompletableFuture<List<PartitionReassignment>> invalid = invalidTopic(topic);
            if (invalid != null) {
                return invalid;
            }
        }
        ListPartitionReassignmentsRequest request = ListPartitionReassignmentsRequest.newBuilder().setTopic(topic).build();
        return callAnyBroker("ListPartitionReassignments", (channel, deadlineMs) ->
                Futures.<ListPartitionReassignmentsResponse>unary(o -> AdminServiceGrpc.newStub(channel)
                        .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).listPartitionReassignments(request, o)))
                .thenApply(r -> toReassignments(r.getReassignmentsList()));
    }

    /**
     * Changes the replication factor of every partition of {@code topic} by reassignment: new
     * replicas go to the least loaded live brokers; replicas are dropped from the end of each list
     * (the preferred leader stays). Completes with the partitions that move, once recorded.
     */
    public CompletableFuture<List<PartitionReassignment>> alterReplicationFactor(String topic, int replicationFactor) {
        CompletableFuture<List<PartitionReassignment>> invalid = invalidTopic(topic);
        if (invalid != null) {
            return invalid;
        }
        AlterReplicationFactorRequest request = AlterReplicationFactorRequest.newBuilder().setTopic(topic)
                .setReplicationFactor(replicationFactor).build();
        return callAnyBroker("AlterReplicationFactor", (channel, deadlineMs) ->
                Futures.<AlterReplicationFactorResponse>unary(o -> AdminServiceGrpc.newStub(channel)
                        .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).alterReplicationFactor(request, o)))
                .thenApply(r -> toReassignments(r.getReassignmentsList()));
    }

    /**
     * Decommissions a broker: marks it so that it takes no new replicas and moves each of its
     * replicas to the least loaded other live broker. Completes with the partitions that move, once
     * recorded; the broker can be stopped when {@link #listPartitionReassignments()} no longer shows
     * them. Fails with {@code InvalidArgumentException}, changing nothing, when a partition could not
     * keep its replication factor.
     */
    public CompletableFuture<List<PartitionReassignment>> decommissionBroker(int brokerId) {
        return sendDecommission(DecommissionBrokerRequest.newBuilder().setBrokerId(brokerId).build());
    }

    /** Takes a broker's decommissioned mark away: it takes new replicas again (nothing moves back by itself). */
    public CompletableFuture<Void> recommissionBroker(int brokerId) {
        return sendDecommission(DecommissionBrokerRequest.newBuilder().setBrokerId(brokerId).setRecommission(true).build())
                .thenApply(r -> null);
    }

    private CompletableFuture<List<PartitionReassignment>> sendDecommission(DecommissionBrokerRequest request) {
        return callAnyBroker("DecommissionBroker", (channel, deadlineMs) -> Futures.<DecommissionBrokerResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .decommissionBroker(request, o)))
                .thenApply(r -> toReassignments(r.getReassignmentsList()));
    }

    private static List<PartitionReassignment> toReassignments(List<io.raftlog.api.v1.PartitionReassignment> list) {
        return list.stream().map(r -> new PartitionReassignment(r.getTopic(), r.getPartition(), r.getReplicasList(),
                r.getTargetReplicasList(), r.getAddingReplicasList(), r.getRemovingReplicasList())).toList();
    }

    private CompletableFuture<List<PreferredLeaderElection>> sendElectPreferredLeaders(
            ElectPreferredLeadersRequest request) {
        return callAnyBroker("ElectPreferredLeaders", (channel, deadlineMs) -> Futures.<ElectPreferredLeadersResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .electPreferredLeaders(request, o)))
                .thenApply(r -> r.getResultsList().stream()
                        .map(Admin::toElection)
                        .sorted(Comparator.comparing(PreferredLeaderElection::topic)
                                .thenComparingInt(PreferredLeaderElection::partition))
                        .toList());
    }

    /** One result in the SDK's terms; package-private so tests can feed it outcomes no broker sends today. */
    static PreferredLeaderElection toElection(io.raftlog.api.v1.PreferredLeaderElection e) {
        PreferredLeaderElection.Outcome outcome;
        String message = e.getMessage();
        switch (e.getOutcome()) {
            case ELECTED -> outcome = PreferredLeaderElection.Outcome.ELECTED;
            case ALREADY_PREFERRED -> outcome = PreferredLeaderElection.Outcome.ALREADY_PREFERRED;
            case FAILED -> outcome = PreferredLeaderElection.Outcome.FAILED;
            default -> {
                // An outcome this client does not know (a newer broker, or none set): it cannot
                // claim the preferred replica leads, so report it as not done, saying why.
                outcome = PreferredLeaderElection.Outcome.FAILED;
                message = "the broker answered outcome " + e.getOutcomeValue() + ", unknown to this client"
                        + (message.isEmpty() ? "" : ": " + message);
            }
        }
        return new PreferredLeaderElection(e.getTopic(), e.getPartition(), e.getPreferredLeader(), e.getLeader(),
                outcome, message);
    }

    /**
     * The earliest or latest offset of a partition, asked of its leader. Retries NOT_LEADER and
     * unreachable leaders after a metadata refresh until {@code requestTimeoutMs}.
     */
    public CompletableFuture<Long> listOffsets(TopicPartition tp, OffsetSpec spec) {
        CompletableFuture<Long> invalid = invalidTopic(tp.topic());
        if (invalid != null) {
            return invalid;
        }
        // Runs on the admin thread because routing may need a (blocking, bounded) metadata refresh.
        return CompletableFuture.supplyAsync(() -> listOffsetsBlocking(tp, spec), scheduler);
    }

    private long listOffsetsBlocking(TopicPartition tp, OffsetSpec spec) {
        long deadline = config.clock().millis() + config.requestTimeoutMs();
        metadata.partitionCount(tp.topic());
        ListOffsetsRequest request = ListOffsetsRequest.newBuilder().addPartitions(ListOffsetsPartition.newBuilder()
                .setTopic(tp.topic()).setPartition(tp.partition())
                .setSpec(spec == OffsetSpec.EARLIEST ? io.raftlog.api.v1.OffsetSpec.EARLIEST
                        : io.raftlog.api.v1.OffsetSpec.LATEST)).build();
        RaftlogException last;
        while (true) {
            String leader = metadata.snapshot().leaderAddress(tp).orElse(null);
            if (leader == null) {
                last = new LeaderNotAvailableException("no known leader for " + tp);
            } else {
                try {
                    long remaining = Math.max(1, deadline - config.clock().millis());
                    ListOffsetsResponse response = FetchServiceGrpc.newBlockingStub(channels.channel(leader))
                            .withDeadlineAfter(remaining, TimeUnit.MILLISECONDS).listOffsets(request);
                    ListOffsetsResult result = response.getResults(0);
                    RaftlogException error = Errors.toException(result.getError());
                    if (error == null) {
                        return result.getOffset();
                    }
                    last = error;
                } catch (RuntimeException e) {
                    last = Errors.fromThrowable(e);
                }
            }
            if (!last.isRetriable()) {
                throw last;
            }
            if (config.clock().millis() + config.retryBackoffMs() >= deadline) {
                throw new TimeoutException("listOffsets(" + tp + ") timed out: " + last.getMessage(), last);
            }
            sleep(config.retryBackoffMs());
            metadata.invalidate();
            metadata.maybeRefresh();
        }
    }

    /** Every consumer group the coordinator knows, sorted by group id. */
    public CompletableFuture<List<GroupListing>> listGroups() {
        return groupCall("ListGroups",
                stub -> Futures.<ListGroupsResponse>unary(
                        o -> stub.listGroups(ListGroupsRequest.getDefaultInstance(), o)))
                .thenApply(r -> r.getGroupsList().stream()
                        .map(g -> new GroupListing(g.getGroupId(), GroupState.parse(g.getState()), g.getMembers()))
                        .sorted(Comparator.comparing(GroupListing::groupId))
                        .toList());
    }

    /**
     * State, members and committed offsets of a consumer group. Fails with
     * {@code GroupIdNotFoundException} if the group has neither members nor committed offsets.
     */
    public CompletableFuture<GroupDescription> describeGroup(String groupId) {
        CompletableFuture<GroupDescription> invalid = invalidGroup(groupId);
        if (invalid != null) {
            return invalid;
        }
        DescribeGroupRequest request = DescribeGroupRequest.newBuilder().setGroupId(groupId).build();
        return groupCall("DescribeGroup",
                stub -> Futures.<DescribeGroupResponse>unary(o -> stub.describeGroup(request, o)))
                .thenApply(Admin::toGroupDescription);
    }

    /**
     * The offsets a consumer group has committed, ordered by topic and partition. Partitions
     * without a committed offset are absent; a group the coordinator does not know has none.
     */
    public CompletableFuture<Map<TopicPartition, CommittedOffset>> listGroupOffsets(String groupId) {
        CompletableFuture<Map<TopicPartition, CommittedOffset>> invalid = invalidGroup(groupId);
        if (invalid != null) {
            return invalid;
        }
        FetchOffsetsRequest request = FetchOffsetsRequest.newBuilder().setGroupId(groupId).build();
        return groupCall("FetchOffsets",
                stub -> Futures.<FetchOffsetsResponse>unary(o -> stub.fetchOffsets(request, o)))
                .thenApply(r -> toOffsets(r.getOffsetsList()));
    }

    /**
     * Deletes a consumer group without members, with its committed offsets. Fails with
     * {@code GroupNotEmptyException} while it has members and {@code GroupIdNotFoundException} if
     * it does not exist.
     */
    public CompletableFuture<Void> deleteGroup(String groupId) {
        CompletableFuture<Void> invalid = invalidGroup(groupId);
        if (invalid != null) {
            return invalid;
        }
        DeleteGroupRequest request = DeleteGroupRequest.newBuilder().setGroupId(groupId).build();
        return groupCall("DeleteGroup",
                stub -> Futures.<DeleteGroupResponse>unary(o -> stub.deleteGroup(request, o)))
                .thenApply(r -> null);
    }

    /**
     * Sets the committed offsets of a consumer group without members for the partitions of
     * {@code topic} that {@code to} selects (all when {@link GroupOffsetReset#partitions()} is
     * empty), and returns the offsets now committed for them, in partition order. Fails with
     * {@code GroupNotEmptyException} (with the broker's message) while the group has members, and
     * {@code UnknownTopicOrPartitionException} for a topic or partition that does not exist.
     */
    public CompletableFuture<Map<TopicPartition, CommittedOffset>> resetGroupOffsets(String groupId, String topic,
                                                                                    GroupOffsetReset to) {
        Objects.requireNonNull(to, "to");
        CompletableFuture<Map<TopicPartition, CommittedOffset>> invalid = invalidGroup(groupId);
        if (invalid == null) {
            invalid = invalidTopic(topic);
        }
        if (invalid != null) {
            return invalid;
        }
        ResetOffsetsRequest.Builder request = ResetOffsetsRequest.newBuilder().setGroupId(groupId).setTopic(topic)
                .addAllPartitions(to.partitions());
        if (to instanceof GroupOffsetReset.Earliest) {
            request.setToEarliest(true);
        } else if (to instanceof GroupOffsetReset.Latest) {
            request.setToLatest(true);
        } else {
            request.setToOffset(((GroupOffsetReset.ToOffset) to).offset());
        }
        ResetOffsetsRequest built = request.build();
        return groupCall("ResetOffsets",
                stub -> Futures.<ResetOffsetsResponse>unary(o -> stub.resetOffsets(built, o)))
                .thenApply(r -> toOffsets(r.getOffsetsList()));
    }

    /**
     * Adds partitions to {@code topic} so that it has {@code totalCount} in all (the new total, as
     * Kafka's {@code createPartitions}, not the number to add). Existing partitions and their data
     * stay as they are; the new ones start empty. Completes with the counts before and after.
     *
     * <p>Fails with {@code UnknownTopicOrPartitionException} if the topic does not exist, and
     * {@code InvalidArgumentException} if {@code totalCount} is not above the current count, is over
     * the broker's {@code max.partitions.per.topic}, or fewer brokers are live than the topic's
     * replication factor. A retry after a lost answer may find the partitions already added and
     * fail with {@code InvalidArgumentException} ("the count can only grow").
     *
     * <p>The future completes once the metadata group has recorded the partitions; the brokers then
     * start their replicas and elect leaders within moments (produce to a new partition meanwhile is
     * retried as for any partition without a leader). Running producers see the new partitions at
     * their next metadata refresh (at the latest after their {@code metadata.max.age.ms}); members
     * of consumer groups subscribed to the topic get them assigned at once by their coordinator.
     * Keyed records: the partition of a key is {@code murmur2(key) % partitions}, so after the
     * change most keys map to another partition than before, as in Kafka.
     */
    public CompletableFuture<CreatePartitionsResult> createPartitions(String topic, int totalCount) {
        CompletableFuture<CreatePartitionsResult> invalid = invalidTopic(topic);
        if (invalid != null) {
            return invalid;
        }
        CreatePartitionsRequest request = CreatePartitionsRequest.newBuilder().setName(topic).setTotalCount(totalCount)
                .build();
        return callAnyBroker("CreatePartitions", (channel, deadlineMs) -> Futures.<CreatePartitionsResponse>unary(
                o -> AdminServiceGrpc.newStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .createPartitions(request, o)))
                .thenApply(r -> new CreatePartitionsResult(topic, r.getPreviousCount(), r.getCount()));
    }

    /**
     * Sends a GroupService RPC to the group coordinator through {@link #coordinator}, which finds
     * it, follows NOT_COORDINATOR hints and retries until {@code requestTimeoutMs} has elapsed.
     */
    private <R> CompletableFuture<R> groupCall(String name,
            java.util.function.Function<GroupServiceGrpc.GroupServiceStub, CompletableFuture<R>> rpc) {
        return coordinator.call(name, config.clock().millis() + config.requestTimeoutMs(), Integer.MAX_VALUE,
                (node, timeoutMs) -> {
                    try {
                        return rpc.apply(GroupServiceGrpc.newStub(channels.channel(node.address()))
                                .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS));
                    } catch (RuntimeException e) {
                        return CompletableFuture.failedFuture(e);
                    }
                });
    }

    /** A future failed with {@code InvalidArgumentException} if {@code groupId} is null or empty, else null. */
    private static <T> CompletableFuture<T> invalidGroup(String groupId) {
        return groupId == null || groupId.isEmpty()
                ? CompletableFuture.failedFuture(new InvalidArgumentException("group id must not be empty"))
                : null;
    }

    /** A future failed with {@code InvalidTopicException} if no topic can be called {@code name}, else null. */
    private static <T> CompletableFuture<T> invalidTopic(String name) {
        String problem = TopicNames.problem(name);
        return problem == null ? null : CompletableFuture.failedFuture(new InvalidTopicException(name, problem));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RaftlogException("interrupted", e);
        }
    }

    /** The same operations as blocking calls that throw {@link RaftlogException} subclasses. */
    public Blocking blocking() {
        return blocking;
    }

    /** Shuts channels and the internal thread down. Pending futures may fail. */
    @Override
    public void close() {
        scheduler.shutdownNow();
        channels.close();
    }

    private static TopicDescription toDescription(DescribeTopicResponse r) {
        List<PartitionInfo> partitions = new ArrayList<>();
        for (PartitionDescription p : r.getPartitionsList()) {
            partitions.add(new PartitionInfo(p.getPartition(), p.getLeaderId(), p.getReplicasList(), p.getIsrList(),
                    p.getLogStartOffset(), p.getLogEndOffset(), p.getTargetReplicasList()));
        }
        partitions.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        return new TopicDescription(r.getName(), r.getTopicId(), r.getReplicationFactor(), partitions,
                r.getConfigMap(), r.getConfigOverridesMap());
    }

    private static GroupDescription toGroupDescription(DescribeGroupResponse r) {
        List<MemberDescription> members = new ArrayList<>();
        for (GroupMemberDescription m : r.getMembersList()) {
            members.add(new MemberDescription(m.getMemberId(), m.getClientId(), m.getMemberEpoch(),
                    m.getSubscribedTopicsList(), toPartitions(m.getAssignmentList()),
                    toPartitions(m.getPendingRevocationList()), toPartitions(m.getTargetAssignmentList()),
                    m.getSessionTimeoutMs()));
        }
        return new GroupDescription(r.getGroupId(), GroupState.parse(r.getState()), r.getGroupEpoch(),
                r.getAssignor(), members, toOffsets(r.getOffsetsList()));
    }

    /** Flattened and sorted by topic, then partition. */
    private static List<TopicPartition> toPartitions(List<TopicPartitions> list) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (TopicPartitions tps : list) {
            tps.getPartitionsList().forEach(p -> partitions.add(new TopicPartition(tps.getTopic(), p)));
        }
        partitions.sort(PARTITION_ORDER);
        return partitions;
    }

    /** Committed offsets by partition, sorted; entries without an offset (-1) are left out. */
    private static Map<TopicPartition, CommittedOffset> toOffsets(List<io.raftlog.api.v1.CommittedOffset> list) {
        Map<TopicPartition, CommittedOffset> offsets = new LinkedHashMap<>();
        list.stream()
                .filter(o -> o.getOffset() >= 0)
                .sorted(Comparator.comparing(io.raftlog.api.v1.CommittedOffset::getTopic)
                        .thenComparingInt(io.raftlog.api.v1.CommittedOffset::getPartition))
                .forEach(o -> offsets.put(new TopicPartition(o.getTopic(), o.getPartition()),
                        new CommittedOffset(o.getOffset(), o.getMetadata(), o.getCommitTimestampMs())));
        return Collections.unmodifiableMap(offsets);
    }

    /** Addresses to try, starting at a rotating index so load spreads and a dead broker is not always first. */
    private List<String> brokerAddresses() {
        Set<String> all = new LinkedHashSet<>(config.bootstrapServers());
        metadata.snapshot().brokers().values().forEach(b -> all.add(b.address()));
        List<String> list = new ArrayList<>(all);
        int start = Math.floorMod(nextBroker.getAndIncrement(), list.size());
        List<String> rotated = new ArrayList<>(list.subList(start, list.size()));
        rotated.addAll(list.subList(0, start));
        return rotated;
    }

    private <R> CompletableFuture<R> callAnyBroker(String name,
            BiFunction<Channel, Long, CompletableFuture<R>> call) {
        CompletableFuture<R> result = new CompletableFuture<>();
        long deadline = config.clock().millis() + config.requestTimeoutMs();
        attempt(name, call, brokerAddresses(), 0, deadline, result, null);
        return result;
    }

    private <R> void attempt(String name, BiFunction<Channel, Long, CompletableFuture<R>> call,
                             List<String> addresses, int index, long deadline, CompletableFuture<R> result,
                             RaftlogException lastError) {
        long remaining = deadline - config.clock().millis();
        if (remaining <= 0) {
            result.completeExceptionally(lastError != null
                    ? new TimeoutException(name + " timed out after " + config.requestTimeoutMs() + " ms; last error: "
                            + lastError.getMessage(), lastError)
                    : new TimeoutException(name + " timed out after " + config.requestTimeoutMs() + " ms"));
            return;
        }
        if (index == addresses.size()) {
            // Tried every broker once: back off, then start another round.
            long delay = Math.min(config.retryBackoffMs(), remaining);
            try {
                scheduler.schedule(() -> attempt(name, call, brokerAddresses(), 0, deadline, result, lastError),
                        delay, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                result.completeExceptionally(new BrokerNotAvailableException("admin client closed"));
            }
            return;
        }
        String address = addresses.get(index);
        CompletableFuture<R> future;
        try {
            future = call.apply(channels.channel(address), remaining);
        } catch (RuntimeException e) {
            result.completeExceptionally(Errors.fromThrowable(e));
            return;
        }
        future.whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
                return;
            }
            RaftlogException mapped = Errors.fromThrowable(failure);
            if (mapped.isRetriable()) {
                log.debug("{} via {} failed ({}), trying next broker", name, address, mapped.getMessage());
                attempt(name, call, addresses, index + 1, deadline, result, mapped);
            } else {
                result.completeExceptionally(mapped);
            }
        });
    }

    /** Blocking view of {@link Admin}; each method waits for the corresponding future. Thread-safe. */
    public final class Blocking {
        private Blocking() {
        }

        public void createTopic(String name, int partitions, int replicationFactor) {
            Futures.await(Admin.this.createTopic(name, partitions, replicationFactor));
        }

        public void createTopic(String name, int partitions, int replicationFactor, Map<String, String> configs) {
            Futures.await(Admin.this.createTopic(name, partitions, replicationFactor, configs));
        }

        public Map<String, String> alterTopicConfig(String topic, Map<String, String> set,
                                                    Collection<String> remove) {
            return Futures.await(Admin.this.alterTopicConfig(topic, set, remove));
        }

        public void deleteTopic(String name) {
            Futures.await(Admin.this.deleteTopic(name));
        }

        public List<String> listTopics() {
            return Futures.await(Admin.this.listTopics());
        }

        public TopicDescription describeTopic(String name) {
            return Futures.await(Admin.this.describeTopic(name));
        }

        public ClusterDescription describeCluster() {
            return Futures.await(Admin.this.describeCluster());
        }

        public List<PreferredLeaderElection> electPreferredLeaders() {
            return Futures.await(Admin.this.electPreferredLeaders());
        }

        public List<PreferredLeaderElection> electPreferredLeaders(String topic) {
            return Futures.await(Admin.this.electPreferredLeaders(topic));
        }

        public List<PreferredLeaderElection> electPreferredLeaders(String topic, Collection<Integer> partitions) {
            return Futures.await(Admin.this.electPreferredLeaders(topic, partitions));
        }

        public List<PartitionReassignment> reassignPartitions(String topic, Map<Integer, List<Integer>> targets) {
            return Futures.await(Admin.this.reassignPartitions(topic, targets));
        }

        public List<PartitionReassignment> cancelPartitionReassignments(String topic, Collection<Integer> partitions) {
            return Futures.await(Admin.this.cancelPartitionReassignments(topic, partitions));
        }

        public List<PartitionReassignment> listPartitionReassignments() {
            return Futures.await(Admin.this.listPartitionReassignments());
        }

        public List<PartitionReassignment> listPartitionReassignments(String topic) {
            return Futures.await(Admin.this.listPartitionReassignments(topic));
        }

        public List<PartitionReassignment> alterReplicationFactor(String topic, int replicationFactor) {
            return Futures.await(Admin.this.alterReplicationFactor(topic, replicationFactor));
        }

        public List<PartitionReassignment> decommissionBroker(int brokerId) {
            return Futures.await(Admin.this.decommissionBroker(brokerId));
        }

        public void recommissionBroker(int brokerId) {
            Futures.await(Admin.this.recommissionBroker(brokerId));
        }

        public long listOffsets(TopicPartition tp, OffsetSpec spec) {
            return Futures.await(Admin.this.listOffsets(tp, spec));
        }

        public List<GroupListing> listGroups() {
            return Futures.await(Admin.this.listGroups());
        }

        public GroupDescription describeGroup(String groupId) {
            return Futures.await(Admin.this.describeGroup(groupId));
        }

        public Map<TopicPartition, CommittedOffset> listGroupOffsets(String groupId) {
            return Futures.await(Admin.this.listGroupOffsets(groupId));
        }

        public void deleteGroup(String groupId) {
            Futures.await(Admin.this.deleteGroup(groupId));
        }

        public Map<TopicPartition, CommittedOffset> resetGroupOffsets(String groupId, String topic,
                                                                      GroupOffsetReset to) {
            return Futures.await(Admin.this.resetGroupOffsets(groupId, topic, to));
        }

        public CreatePartitionsResult createPartitions(String topic, int totalCount) {
            return Futures.await(Admin.this.createPartitions(topic, totalCount));
        }
    }
}
