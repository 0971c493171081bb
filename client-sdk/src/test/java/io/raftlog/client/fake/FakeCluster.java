package io.raftlog.client.fake;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.AlterTopicConfigRequest;
import io.raftlog.api.v1.AlterTopicConfigResponse;
import io.raftlog.api.v1.BrokerInfo;
import io.raftlog.api.v1.CreatePartitionsRequest;
import io.raftlog.api.v1.CreatePartitionsResponse;
import io.raftlog.api.v1.CreateTopicRequest;
import io.raftlog.api.v1.CreateTopicResponse;
import io.raftlog.api.v1.DeleteTopicRequest;
import io.raftlog.api.v1.DeleteTopicResponse;
import io.raftlog.api.v1.DescribeClusterRequest;
import io.raftlog.api.v1.DescribeClusterResponse;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.DescribeTopicResponse;
import io.raftlog.api.v1.ElectPreferredLeadersRequest;
import io.raftlog.api.v1.ElectPreferredLeadersResponse;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.GetMetadataRequest;
import io.raftlog.api.v1.GetMetadataResponse;
import io.raftlog.api.v1.InitProducerIdRequest;
import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.ListOffsetsPartition;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResponse;
import io.raftlog.api.v1.ListOffsetsResult;
import io.raftlog.api.v1.ListTopicsRequest;
import io.raftlog.api.v1.ListTopicsResponse;
import io.raftlog.api.v1.MetadataServiceGrpc;
import io.raftlog.api.v1.OffsetSpec;
import io.raftlog.api.v1.PartitionDescription;
import io.raftlog.api.v1.PartitionMetadata;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.PreferredLeaderElection;
import io.raftlog.api.v1.PreferredLeaderOutcome;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.api.v1.TopicMetadata;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.transport.ChannelFactory;
import io.raftlog.api.v1.RecordFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * A fake cluster of {@code n} brokers (ids 1..n) on the in-process transport. All brokers share
 * one state object (guarded by its monitor), like a perfectly replicated cluster: produce and
 * fetch must go to the partition leader, otherwise NOT_LEADER with a leader hint is returned.
 *
 * <p>Fault injection: {@link #moveLeaderSilently} (clients keep stale metadata),
 * {@link #injectProduceFault}, {@link #stopBroker}, {@link #refuseTopicName}. Observation:
 * {@link #produceCalls()}, {@link #metadataCalls()}, {@link #metadataRequests()},
 * {@link #adminCalls()}, {@link #fetchCalls()}, {@link #log}. Consumer groups: {@link #groups()}.
 *
 * <p>ElectPreferredLeaders moves the leader of a partition back to its first replica when that
 * replica's broker is running (after {@link #moveLeaderSilently}, for instance), and reports
 * FAILED for one whose first replica's broker is stopped.
 */
public final class FakeCluster implements AutoCloseable {

    /** What a fake broker does with the next produce for a partition. */
    public enum ProduceFault {
        /** Reject with NOT_LEADER (no append). */
        NOT_LEADER,
        /** Append, then answer REQUEST_TIMED_OUT, as if the acknowledgement got lost. */
        APPEND_THEN_TIMEOUT,
        /** Reject with RECORD_TOO_LARGE (fatal). */
        RECORD_TOO_LARGE
    }

    /** One fetch request as received by a broker: partition to requested offset, in request order. */
    public record FetchCall(int brokerId, RecordFormat format, Map<TopicPartition, Long> offsets) {
    }

    /**
     * RECORD_BATCHES fetches return the log cut into aligned batches of this many records, like
     * the real broker returning whole stored batches: the first batch may start before the
     * requested offset.
     */
    public static final int FETCH_BATCH_RECORDS = 4;

    /** One produce batch as received by a broker. */
    public record ProduceCall(int brokerId, TopicPartition tp, Long producerId, int baseSequence, int records,
                              Acks acks) {
    }

    private static final class Partition {
        int leaderId;
        List<Integer> replicas;
        /** Non-empty while reassigning. */
        List<Integer> target = List.of();
        final List<Record> log = new ArrayList<>();
        final Map<Long, Integer> nextSequence = new HashMap<>();
        final Map<String, Long> dedup = new HashMap<>();
        final Queue<ProduceFault> faults = new ArrayDeque<>();

        Partition(int leaderId, List<Integer> replicas) {
            this.leaderId = leaderId;
            this.replicas = replicas;
        }
    }

    private final String namePrefix = "fake-" + UUID.randomUUID().toString().substring(0, 8);
    private final int brokerCount;
    private final Map<Integer, Server> servers = new TreeMap<>();
    private final Map<String, List<Partition>> topics = new TreeMap<>();
    /** Per topic, its configuration overrides (sorted by key). */
    private final Map<String, Map<String, String>> topicConfigs = new HashMap<>();
    private final List<ProduceCall> produceCalls = new CopyOnWriteArrayList<>();
    private final AtomicInteger metadataCalls = new AtomicInteger();
    private final List<List<String>> metadataRequests = new CopyOnWriteArrayList<>();
    private final AtomicInteger adminCalls = new AtomicInteger();
    /** Names every broker refuses with INVALID_ARGUMENT, to the message it gives. */
    private final Map<String, String> refusedNames = new HashMap<>();
    private final List<FetchCall> fetchCalls = new CopyOnWriteArrayList<>();
    private final FakeGroupCoordinator groups = new FakeGroupCoordinator(this);
    private Compression fetchCompression = Compression.NONE;
    private long nextProducerId = 1000;
    private final FakeMembershipCoordinator membership;
    /** Which fake answers FindCoordinator and FetchOffsets: the one the test asked for last. */
    private volatile boolean membershipMode;

    public FakeCluster(int brokerCount) throws IOException {
        this.brokerCount = brokerCount;
        this.membership = new FakeMembershipCoordinator(id -> BrokerInfo.newBuilder().setBrokerId(id).setHost(host(id))
                .setPort(port(id)).setRaftPort(port(id) + 1000).setAlive(true).build(),
                topic -> Math.max(0, partitionCount(topic)));
        for (int id = 1; id <= brokerCount; id++) {
            startBroker(id);
        }
    }

    // ---- addresses and channels -----------------------------------------------------------------

    public String host(int brokerId) {
        return namePrefix + "-b" + brokerId;
    }

    public int port(int brokerId) {
        return 9090 + brokerId;
    }

    public String address(int brokerId) {
        return host(brokerId) + ":" + port(brokerId);
    }

    /** Bootstrap string of all brokers, comma-separated. */
    public String bootstrap() {
        List<String> all = new ArrayList<>();
        for (int id = 1; id <= brokerCount; id++) {
            all.add(address(id));
        }
        return String.join(",", all);
    }

    /** In-process channels by address; a stopped or unknown broker fails calls with UNAVAILABLE. */
    public ChannelFactory channelFactory() {
        return address -> InProcessChannelBuilder.forName(address).build();
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    public synchronized void startBroker(int id) throws IOException {
        Server server = InProcessServerBuilder.forName(address(id))
                .addService(new Admin())
                .addService(new MetadataSvc())
                .addService(new Produce(id))
                .addService(new Fetch(id))
                .addService(new GroupSvc(id))
                .build().start();
        servers.put(id, server);
    }

    /** Stops a broker: its address now fails with UNAVAILABLE. */
    public synchronized void stopBroker(int id) {
        Server server = servers.remove(id);
        if (server != null) {
            server.shutdownNow();
        }
    }

    @Override
    public synchronized void close() {
        servers.values().forEach(Server::shutdownNow);
        servers.clear();
        notifyAll();
    }

    // ---- test control ---------------------------------------------------------------------------

    /**
     * The topic config keys the fake accepts, with the defaults it reports for keys a topic does
     * not set (those of a broker with default configuration).
     */
    public static final Map<String, String> TOPIC_CONFIG_DEFAULTS = Map.of(
            "retention.ms", "604800000", "retention.bytes", "-1", "segment.bytes", "67108864",
            "segment.ms", "604800000", "max.message.bytes", "1048576", "cleanup.policy", "delete",
            "delete.retention.ms", "86400000", "min.cleanable.dirty.ratio", "0.5", "min.compaction.lag.ms", "0");

    /** The configuration overrides of a topic, sorted by key; null if the topic does not exist. */
    public synchronized Map<String, String> topicConfig(String name) {
        Map<String, String> config = topicConfigs.get(name);
        return config == null ? null : java.util.Collections.unmodifiableMap(new TreeMap<>(config));
    }

    public synchronized void createTopic(String name, int partitions, int replicationFactor) {
        topicConfigs.put(name, new TreeMap<>());
        List<Partition> list = new ArrayList<>();
        addPartitions(list, partitions, replicationFactor);
        topics.put(name, list);
    }

    /**
     * Grows an existing topic to {@code totalCount} partitions, placed like {@link #createTopic}
     * (partition p led by broker {@code p % brokers + 1}), as the CreatePartitions RPC does.
     */
    public synchronized void addPartitions(String name, int totalCount) {
        List<Partition> list = topics.get(name);
        addPartitions(list, totalCount, list.get(0).replicas.size());
    }

    private void addPartitions(List<Partition> list, int totalCount, int replicationFactor) {
        for (int p = list.size(); p < totalCount; p++) {
            int leader = p % brokerCount + 1;
            List<Integer> replicas = new ArrayList<>();
            for (int r = 0; r < replicationFactor; r++) {
                replicas.add((leader - 1 + r) % brokerCount + 1);
            }
            list.add(new Partition(leader, List.copyOf(replicas)));
        }
    }

    /**
     * The group administration side (list, describe, delete, reset, committed offsets, coordinator
     * faults). Calling it makes it answer FindCoordinator and FetchOffsets.
     */
    public FakeGroupCoordinator groups() {
        membershipMode = false;
        return groups;
    }

    /**
     * The membership side (heartbeats, assignment, commits), for consumer tests. Calling it makes it
     * answer FindCoordinator and FetchOffsets.
     */
    public FakeMembershipCoordinator membership() {
        membershipMode = true;
        return membership;
    }

    /**
     * One GroupService per broker over the two fakes: heartbeats and commits go to {@link #membership},
     * administration to {@link #groups}, the RPCs both implement to the one the test asked for last.
     */
    private final class GroupSvc extends io.raftlog.api.v1.GroupServiceGrpc.GroupServiceImplBase {
        private final io.raftlog.api.v1.GroupServiceGrpc.GroupServiceImplBase admin;
        private final io.raftlog.api.v1.GroupServiceGrpc.GroupServiceImplBase members;

        GroupSvc(int id) {
            this.admin = (io.raftlog.api.v1.GroupServiceGrpc.GroupServiceImplBase) groups.service(id);
            this.members = (io.raftlog.api.v1.GroupServiceGrpc.GroupServiceImplBase) membership.service(id);
        }

        private io.raftlog.api.v1.GroupServiceGrpc.GroupServiceImplBase shared() {
            return membershipMode ? members : admin;
        }

        @Override
        public void findCoordinator(io.raftlog.api.v1.FindCoordinatorRequest r,
                                    StreamObserver<io.raftlog.api.v1.FindCoordinatorResponse> o) {
            shared().findCoordinator(r, o);
        }

        @Override
        public void fetchOffsets(io.raftlog.api.v1.FetchOffsetsRequest r,
                                 StreamObserver<io.raftlog.api.v1.FetchOffsetsResponse> o) {
            shared().fetchOffsets(r, o);
        }

        @Override
        public void heartbeat(io.raftlog.api.v1.GroupHeartbeatRequest r,
                              StreamObserver<io.raftlog.api.v1.GroupHeartbeatResponse> o) {
            members.heartbeat(r, o);
        }

        @Override
        public void commitOffsets(io.raftlog.api.v1.CommitOffsetsRequest r,
                                  StreamObserver<io.raftlog.api.v1.CommitOffsetsResponse> o) {
            members.commitOffsets(r, o);
        }

        @Override
        public void listGroups(io.raftlog.api.v1.ListGroupsRequest r, StreamObserver<io.raftlog.api.v1.ListGroupsResponse> o) {
            admin.listGroups(r, o);
        }

        @Override
        public void describeGroup(io.raftlog.api.v1.DescribeGroupRequest r,
                                  StreamObserver<io.raftlog.api.v1.DescribeGroupResponse> o) {
            admin.describeGroup(r, o);
        }

        @Override
        public void deleteGroup(io.raftlog.api.v1.DeleteGroupRequest r, StreamObserver<io.raftlog.api.v1.DeleteGroupResponse> o) {
            admin.deleteGroup(r, o);
        }

        @Override
        public void resetOffsets(io.raftlog.api.v1.ResetOffsetsRequest r,
                                 StreamObserver<io.raftlog.api.v1.ResetOffsetsResponse> o) {
            admin.resetOffsets(r, o);
        }
    }

    /** Number of partitions of {@code topic}, or -1 if it does not exist. */
    public synchronized int partitionCount(String topic) {
        List<Partition> list = topics.get(topic);
        return list == null ? -1 : list.size();
    }

    public synchronized int leader(TopicPartition tp) {
        return partition(tp).leaderId;
    }

    /** Changes the leader without telling clients: their next request to the old leader gets NOT_LEADER. */
    public synchronized void moveLeaderSilently(TopicPartition tp, int newLeader) {
        partition(tp).leaderId = newLeader;
    }

    /**
     * Makes every broker refuse {@code name} the way the real broker refuses a name no topic can
     * have: INVALID_ARGUMENT with {@code message} for the topic in metadata answers, as the status
     * (and trailer) of CreateTopic/DeleteTopic/DescribeTopic, and per partition in produce, fetch
     * and ListOffsets answers. Models a broker whose rules are stricter than the client's copy.
     */
    public synchronized void refuseTopicName(String name, String message) {
        refusedNames.put(name, message);
    }

    public synchronized void injectProduceFault(TopicPartition tp, ProduceFault fault) {
        partition(tp).faults.add(fault);
    }

    /**
     * Forgets the partition's producer-id state (as a broker does after producer.id.expiration):
     * the next idempotent batch of those ids with a sequence other than 0 gets UNKNOWN_PRODUCER_ID.
     */
    public synchronized void expireProducerIds(TopicPartition tp) {
        Partition p = partition(tp);
        p.nextSequence.clear();
        p.dedup.clear();
    }

    /** Appends records directly (as another producer would). */
    public synchronized void append(TopicPartition tp, String... values) {
        Partition p = partition(tp);
        for (String v : values) {
            p.log.add(Record.newBuilder().setValue(com.google.protobuf.ByteString.copyFromUtf8(v))
                    .setOffset(p.log.size()).build());
        }
        notifyAll();
    }

    /** A copy of the partition's log. */
    public synchronized List<Record> log(TopicPartition tp) {
        return List.copyOf(partition(tp).log);
    }

    public List<ProduceCall> produceCalls() {
        return List.copyOf(produceCalls);
    }

    public int metadataCalls() {
        return metadataCalls.get();
    }

    /** The topics each GetMetadata asked for (empty: all topics), in arrival order. */
    public List<List<String>> metadataRequests() {
        return List.copyOf(metadataRequests);
    }

    /** Number of admin RPCs received (any method). */
    public int adminCalls() {
        return adminCalls.get();
    }

    /** Every fetch received so far (any format), in arrival order. */
    public List<FetchCall> fetchCalls() {
        return List.copyOf(fetchCalls);
    }

    /** Compression of the batches RECORD_BATCHES fetches return (default none). */
    public synchronized void fetchCompression(Compression compression) {
        this.fetchCompression = compression;
    }

    private Partition partition(TopicPartition tp) {
        List<Partition> list = topics.get(tp.topic());
        if (list == null || tp.partition() >= list.size()) {
            throw new IllegalArgumentException("no such partition " + tp);
        }
        return list.get(tp.partition());
    }

    private Partition find(String topic, int partition) {
        List<Partition> list = topics.get(topic);
        return list == null || partition < 0 || partition >= list.size() ? null : list.get(partition);
    }

    private static Error error(ErrorCode code, String message) {
        return Error.newBuilder().setCode(code).setMessage(message).build();
    }

    /** INVALID_ARGUMENT if {@code topic} is a refused name, else null. Call with the monitor held. */
    private Error refused(String topic) {
        String message = refusedNames.get(topic);
        return message == null ? null : error(ErrorCode.INVALID_ARGUMENT, message);
    }

    /** Fails the admin call with INVALID_ARGUMENT if {@code topic} is a refused name. */
    private <T> boolean failIfRefused(String topic, StreamObserver<T> observer) {
        Error refused;
        synchronized (this) {
            refused = refused(topic);
        }
        if (refused != null) {
            fail(observer, Status.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, refused.getMessage());
            return true;
        }
        return false;
    }

    private static Error notLeader(Partition p) {
        return Error.newBuilder().setCode(ErrorCode.NOT_LEADER).setMessage("not the leader")
                .setLeaderId(p.leaderId).build();
    }

    private static <T> void fail(StreamObserver<T> observer, Status status, ErrorCode code, String message) {
        Metadata trailers = new Metadata();
        trailers.put(Errors.ERROR_TRAILER_KEY, error(code, message));
        observer.onError(status.withDescription(message).asRuntimeException(trailers));
    }

    /** The broker as GetMetadata describes it. */
    synchronized BrokerInfo brokerInfo(int id) {
        return BrokerInfo.newBuilder().setBrokerId(id).setHost(host(id)).setPort(port(id))
                .setRaftPort(port(id) + 1000).setAlive(servers.containsKey(id)).build();
    }

    private synchronized List<BrokerInfo> brokerInfos() {
        List<BrokerInfo> brokers = new ArrayList<>();
        for (int id = 1; id <= brokerCount; id++) {
            brokers.add(brokerInfo(id));
        }
        return brokers;
    }

    /**
     * Loads from the fake's leaders and replicas; a partition whose leader is stopped is reported
     * offline, one with a stopped follower under-replicated (ISR: the running replicas).
     */
    private synchronized DescribeClusterResponse describeClusterResponse() {
        DescribeClusterResponse.Builder b = DescribeClusterResponse.newBuilder().setClusterId("fake-cluster")
                .setMetadataLeaderId(1).addAllBrokers(brokerInfos());
        int[] leaders = new int[brokerCount + 1];
        int[] replicas = new int[brokerCount + 1];
        topics.forEach((name, list) -> {
            for (int i = 0; i < list.size(); i++) {
                Partition p = list.get(i);
                boolean leaderUp = servers.containsKey(p.leaderId);
                if (leaderUp) {
                    leaders[p.leaderId]++;
                }
                List<Integer> isr = leaderUp ? p.replicas.stream().filter(servers::containsKey).toList() : List.of();
                p.replicas.forEach(r -> replicas[r]++);
                if (isr.size() < p.replicas.size()) {
                    b.addUnderReplicatedPartitions(io.raftlog.api.v1.UnderReplicatedPartition.newBuilder()
                            .setTopic(name).setPartition(i).setLeaderId(leaderUp ? p.leaderId : -1)
                            .addAllReplicas(p.replicas).addAllIsr(isr));
                }
            }
        });
        for (int id = 1; id <= brokerCount; id++) {
            b.addBrokerLoads(io.raftlog.api.v1.BrokerLoad.newBuilder().setBrokerId(id).setLeaders(leaders[id])
                    .setReplicas(replicas[id]));
        }
        return b.build();
    }

    // ---- services -------------------------------------------------------------------------------

    private final class Admin extends AdminServiceGrpc.AdminServiceImplBase {
        @Override
        public void createTopic(CreateTopicRequest request, StreamObserver<CreateTopicResponse> observer) {
            adminCalls.incrementAndGet();
            if (failIfRefused(request.getName(), observer)) {
                return;
            }
            synchronized (FakeCluster.this) {
                if (request.getName().isEmpty() || request.getPartitions() <= 0
                        || request.getReplicationFactor() <= 0 || request.getReplicationFactor() > brokerCount) {
                    fail(observer, Status.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT,
                            "invalid topic spec for '" + request.getName() + "'");
                    return;
                }
                if (topics.containsKey(request.getName())) {
                    fail(observer, Status.ALREADY_EXISTS, ErrorCode.TOPIC_ALREADY_EXISTS,
                            "topic '" + request.getName() + "' already exists");
                    return;
                }
                String problem = unknownConfigKey(request.getConfigMap().keySet());
                if (problem != null) {
                    fail(observer, Status.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, problem);
                    return;
                }
                FakeCluster.this.createTopic(request.getName(), request.getPartitions(),
                        request.getReplicationFactor());
                topicConfigs.get(request.getName()).putAll(request.getConfigMap());
            }
            observer.onNext(CreateTopicResponse.newBuilder().setName(request.getName())
                    .setTopicId("id-" + request.getName()).build());
            observer.onCompleted();
        }

        @Override
        public void deleteTopic(DeleteTopicRequest request, StreamObserver<DeleteTopicResponse> observer) {
            adminCalls.incrementAndGet();
            if (failIfRefused(request.getName(), observer)) {
                return;
            }
            synchronized (FakeCluster.this) {
                topicConfigs.remove(request.getName());
                if (topics.remove(request.getName()) == null) {
                    fail(observer, Status.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                            "unknown topic '" + request.getName() + "'");
                    return;
                }
            }
            observer.onNext(DeleteTopicResponse.getDefaultInstance());
            observer.onCompleted();
        }

        @Override
        public void listTopics(ListTopicsRequest request, StreamObserver<ListTopicsResponse> observer) {
            adminCalls.incrementAndGet();
            ListTopicsResponse response;
            synchronized (FakeCluster.this) {
                response = ListTopicsResponse.newBuilder().addAllNames(topics.keySet()).build();
            }
            observer.onNext(response);
            observer.onCompleted();
        }

        @Override
        public void describeTopic(DescribeTopicRequest request, StreamObserver<DescribeTopicResponse> observer) {
            adminCalls.incrementAndGet();
            if (failIfRefused(request.getName(), observer)) {
                return;
            }
            DescribeTopicResponse.Builder response = DescribeTopicResponse.newBuilder().setName(request.getName());
            synchronized (FakeCluster.this) {
                List<Partition> list = topics.get(request.getName());
                if (list == null) {
                    fail(observer, Status.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                            "unknown topic '" + request.getName() + "'");
                    return;
                }
                response.setTopicId("id-" + request.getName()).setReplicationFactor(list.get(0).replicas.size());
                Map<String, String> overrides = topicConfigs.get(request.getName());
                response.putAllConfig(TOPIC_CONFIG_DEFAULTS).putAllConfig(overrides).putAllConfigOverrides(overrides);
                for (int i = 0; i < list.size(); i++) {
                    Partition p = list.get(i);
                    response.addPartitions(PartitionDescription.newBuilder().setPartition(i).setLeaderId(p.leaderId)
                            .addAllReplicas(p.replicas).addAllIsr(p.replicas).addAllTargetReplicas(p.target)
                            .setLogStartOffset(0).setLogEndOffset(p.log.size()));
                }
            }
            observer.onNext(response.build());
            observer.onCompleted();
        }

        /** Checks like the broker's (keys only: values are not interpreted) and stores the change. */
        @Override
        public void alterTopicConfig(AlterTopicConfigRequest request,
                                     StreamObserver<AlterTopicConfigResponse> observer) {
            adminCalls.incrementAndGet();
            if (failIfRefused(request.getName(), observer)) {
                return;
            }
            Map<String, String> after;
            synchronized (FakeCluster.this) {
                String problem = request.getSetCount() == 0 && request.getRemoveCount() == 0
                        ? "nothing to change: give at least one config to set or to remove" : null;
                if (problem == null) {
                    problem = unknownConfigKey(request.getSetMap().keySet());
                }
                if (problem == null) {
                    problem = unknownConfigKey(request.getRemoveList());
                }
                for (String key : request.getRemoveList()) {
                    if (problem == null && request.getSetMap().containsKey(key)) {
                        problem = "topic config '" + key + "' is both set and removed; do one or the other";
                    }
                }
                if (problem != null) {
                    fail(observer, Status.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, problem);
                    return;
                }
                Map<String, String> config = topicConfigs.get(request.getName());
                if (config == null) {
                    fail(observer, Status.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                            "topic '" + request.getName() + "' does not exist");
                    return;
                }
                config.putAll(request.getSetMap());
                request.getRemoveList().forEach(config::remove);
                after = Map.copyOf(config);
            }
            observer.onNext(AlterTopicConfigResponse.newBuilder().putAllConfigOverrides(after).build());
            observer.onCompleted();
        }

        @Override
        public void describeCluster(DescribeClusterRequest request, StreamObserver<DescribeClusterResponse> observer) {
            adminCalls.incrementAndGet();
            observer.onNext(describeClusterResponse());
            observer.onCompleted();
        }

        /**
         * Records targets like the broker (checks: topic, partition, non-empty distinct brokers of this
         * cluster); they complete when the test calls {@link #completeReassignments()}, or by
         * themselves on the listing after {@link #completeReassignmentsWhenListed}.
         */
        @Override
        public void reassignPartitions(io.raftlog.api.v1.ReassignPartitionsRequest request,
                                       StreamObserver<io.raftlog.api.v1.ReassignPartitionsResponse> observer) {
            adminCalls.incrementAndGet();
            if (failIfRefused(request.getTopic(), observer)) {
                return;
            }
            io.raftlog.api.v1.ReassignPartitionsResponse.Builder response =
                    io.raftlog.api.v1.ReassignPartitionsResponse.newBuilder();
            synchronized (FakeCluster.this) {
                List<Partition> list = topics.get(request.getTopic());
                if (list == null) {
                    fail(observer, Status.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                            "unknown topic '" + request.getTopic() + "'");
                    return;
                }
                Map<Integer, List<Integer>> targets = new TreeMap<>();
                for (io.raftlog.api.v1.PartitionReplicas pr : request.getPartitionsList()) {
                    int id = pr.getPartition();
                    String problem = id < 0 || id >= list.size() ? "topic '" + request.getTopic() + "' has no partition " + id
                            : request.getCancel() ? null
                            : pr.getReplicasCount() == 0 ? "a partition needs at least one replica"
                            : new java.util.HashSet<>(pr.getReplicasList()).size() != pr.getReplicasCount()
                                    ? "replicas " + pr.getReplicasList() + " name a broker twice"
                            : pr.getReplicasList().stream().anyMatch(b -> b < 1 || b > brokerCount)
                                    ? "a broker of " + pr.getReplicasList() + " is not registered" : null;
                    if (problem != null) {
                        fail(observer, Status.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, problem);
                        return;
                    }
                    targets.put(id, request.getCancel() ? list.get(id).replicas : pr.getReplicasList());
                }
                targets.forEach((id, target) -> {
                    Partition p = list.get(id);
                    p.target = target.equals(p.replicas) ? List.of() : List.copyOf(target);
                    response.addReassignments(reassignment(request.getTopic(), id, p));
                });
            }
            observer.onNext(response.build());
            observer.onCompleted();
        }

        @Override
        public void listPartitionReassignments(io.raftlog.api.v1.ListPartitionReassignmentsRequest request,
                                               StreamObserver<io.raftlog.api.v1.ListPartitionReassignmentsResponse> observer) {
            adminCalls.incrementAndGet();
            io.raftlog.api.v1.ListPartitionReassignmentsResponse.Builder response =
                    io.raftlog.api.v1.ListPartitionReassignmentsResponse.newBuilder();
            synchronized (FakeCluster.this) {
                topics.forEach((name, list) -> {
                    for (int i = 0; i < list.size(); i++) {
                        if ((request.getTopic().isEmpty() || request.getTopic().equals(name))
                                && !list.get(i).target.isEmpty()) {
                            response.addReassignments(reassignment(name, i, list.get(i)));
                        }
                    }
                });
                if (completeWhenListed) {
                    completeReassignments();
                }
            }
            observer.onNext(response.build());
            observer.onCompleted();
        }

        /** Checks the request like the broker, then elects against the fake's state: see {@link #elect}. */
        @Override
        public void electPreferredLeaders(ElectPreferredLeadersRequest request,
                                          StreamObserver<ElectPreferredLeadersResponse> observer) {
            adminCalls.incrementAndGet();
            String topic = request.getTopic();
            if (topic.isEmpty() && request.getPartitionsCount() > 0) {
                fail(observer, Status.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT,
                        "partitions " + request.getPartitionsList() + " given without a topic");
                return;
            }
            if (!topic.isEmpty() && failIfRefused(topic, observer)) {
                return;
            }
            ElectPreferredLeadersResponse.Builder response = ElectPreferredLeadersResponse.newBuilder();
            synchronized (FakeCluster.this) {
                // TreeMap iteration and ascending partition ids give the documented order: topic, then partition.
                Map<String, List<Integer>> selected = new TreeMap<>();
                if (topic.isEmpty()) {
                    topics.forEach((name, list) -> selected.put(name, allPartitions(list)));
                } else {
                    List<Partition> list = topics.get(topic);
                    if (list == null) {
                        fail(observer, Status.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                                "unknown topic '" + topic + "'");
                        return;
                    }
                    java.util.TreeSet<Integer> wanted = new java.util.TreeSet<>(request.getPartitionsList());
                    for (int p : wanted) {
                        if (p < 0 || p >= list.size()) {
                            fail(observer, Status.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "partition " + p
                                    + " does not exist: topic '" + topic + "' has partitions 0.." + (list.size() - 1));
                            return;
                        }
                    }
                    selected.put(topic, wanted.isEmpty() ? allPartitions(list) : List.copyOf(wanted));
                }
                selected.forEach((name, ids) -> {
                    for (int id : ids) {
                        response.addResults(elect(name, id, topics.get(name).get(id)));
                    }
                });
            }
            observer.onNext(response.build());
            observer.onCompleted();
        }

        /** Checks like the broker (unknown topic, a count that does not grow), then grows the topic. */
        @Override
        public void createPartitions(CreatePartitionsRequest request,
                                     StreamObserver<CreatePartitionsResponse> observer) {
            adminCalls.incrementAndGet();
            if (failIfRefused(request.getName(), observer)) {
                return;
            }
            int previous;
            synchronized (FakeCluster.this) {
                List<Partition> list = topics.get(request.getName());
                if (list == null) {
                    fail(observer, Status.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                            "topic '" + request.getName() + "' does not exist");
                    return;
                }
                previous = list.size();
                if (request.getTotalCount() <= previous) {
                    fail(observer, Status.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "topic '" + request.getName()
                            + "' has " + previous + " partitions; the count can only grow: give a new total above "
                            + previous + ", got " + request.getTotalCount());
                    return;
                }
                addPartitions(request.getName(), request.getTotalCount());
            }
            observer.onNext(CreatePartitionsResponse.newBuilder().setName(request.getName())
                    .setPreviousCount(previous).setCount(request.getTotalCount()).build());
            observer.onCompleted();
        }
    }

    private static io.raftlog.api.v1.PartitionReassignment reassignment(String topic, int id, Partition p) {
        io.raftlog.api.v1.PartitionReassignment.Builder b = io.raftlog.api.v1.PartitionReassignment.newBuilder()
                .setTopic(topic).setPartition(id).addAllReplicas(p.replicas).addAllTargetReplicas(p.target);
        p.target.stream().filter(r -> !p.replicas.contains(r)).forEach(b::addAddingReplicas);
        if (!p.target.isEmpty()) {
            p.replicas.stream().filter(r -> !p.target.contains(r)).forEach(b::addRemovingReplicas);
        }
        return b.build();
    }

    private boolean completeWhenListed;

    /** Every reassignment under way completes: its target becomes its replicas, the first leads. */
    public synchronized void completeReassignments() {
        topics.values().forEach(list -> list.stream().filter(p -> !p.target.isEmpty()).forEach(p -> {
            p.replicas = p.target;
            p.leaderId = p.target.get(0);
            p.target = List.of();
        }));
    }

    /** From now on, each listing of reassignments reports them, then completes them. */
    public synchronized void completeReassignmentsWhenListed() {
        completeWhenListed = true;
    }

    private static List<Integer> allPartitions(List<Partition> list) {
        return java.util.stream.IntStream.range(0, list.size()).boxed().toList();
    }

    /**
     * One partition's preferred leader election, as the broker decides it: the first replica
     * takes over if its broker runs (ELECTED), else the partition is FAILED; a partition it already
     * leads is ALREADY_PREFERRED. As in {@link #describeClusterResponse}, a leader whose broker is
     * stopped counts as no leader, so a stopped preferred replica is FAILED even if it is still
     * recorded as the leader. Call with the monitor held.
     */
    private PreferredLeaderElection elect(String topic, int id, Partition p) {
        int preferred = p.replicas.get(0);
        PreferredLeaderElection.Builder result = PreferredLeaderElection.newBuilder().setTopic(topic)
                .setPartition(id).setPreferredLeader(preferred);
        if (!servers.containsKey(preferred)) {
            return result.setLeader(servers.containsKey(p.leaderId) ? p.leaderId : -1)
                    .setOutcome(PreferredLeaderOutcome.FAILED)
                    .setMessage("preferred replica " + preferred + " is not alive").build();
        }
        if (p.leaderId == preferred) {
            return result.setLeader(preferred).setOutcome(PreferredLeaderOutcome.ALREADY_PREFERRED).build();
        }
        p.leaderId = preferred;
        return result.setLeader(preferred).setOutcome(PreferredLeaderOutcome.ELECTED).build();
    }

    /** The broker's message for the first key it does not know, or null. */
    private static String unknownConfigKey(Iterable<String> keys) {
        for (String key : keys) {
            if (!TOPIC_CONFIG_DEFAULTS.containsKey(key)) {
                return "unknown topic config '" + key + "'; supported: retention.ms, retention.bytes, segment.bytes,"
                        + " segment.ms, max.message.bytes, cleanup.policy, delete.retention.ms,"
                        + " min.cleanable.dirty.ratio, min.compaction.lag.ms";
            }
        }
        return null;
    }

    private final class MetadataSvc extends MetadataServiceGrpc.MetadataServiceImplBase {
        @Override
        public void getMetadata(GetMetadataRequest request, StreamObserver<GetMetadataResponse> observer) {
            metadataCalls.incrementAndGet();
            metadataRequests.add(List.copyOf(request.getTopicsList()));
            GetMetadataResponse.Builder response = GetMetadataResponse.newBuilder().addAllBrokers(brokerInfos());
            synchronized (FakeCluster.this) {
                List<String> names = request.getTopicsCount() == 0 ? List.copyOf(topics.keySet())
                        : request.getTopicsList();
                for (String name : names) {
                    List<Partition> list = topics.get(name);
                    TopicMetadata.Builder topic = TopicMetadata.newBuilder().setName(name);
                    if (refused(name) != null) {
                        topic.setError(refused(name));
                    } else if (list == null) {
                        topic.setError(error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic"));
                    } else {
                        topic.setTopicId("id-" + name);
                        for (int i = 0; i < list.size(); i++) {
                            topic.addPartitions(PartitionMetadata.newBuilder().setPartition(i)
                                    .setLeaderId(list.get(i).leaderId).addAllReplicas(list.get(i).replicas));
                        }
                    }
                    response.addTopics(topic);
                }
            }
            observer.onNext(response.build());
            observer.onCompleted();
        }
    }

    private final class Produce extends ProduceServiceGrpc.ProduceServiceImplBase {
        private final int brokerId;

        Produce(int brokerId) {
            this.brokerId = brokerId;
        }

        @Override
        public void initProducerId(InitProducerIdRequest request, StreamObserver<InitProducerIdResponse> observer) {
            long id;
            synchronized (FakeCluster.this) {
                id = nextProducerId++;
            }
            observer.onNext(InitProducerIdResponse.newBuilder().setProducerId(id).setProducerEpoch(0).build());
            observer.onCompleted();
        }

        @Override
        public void produce(ProduceRequest request, StreamObserver<ProduceResponse> observer) {
            observer.onNext(handle(request));
            observer.onCompleted();
        }

        /** Ordered produce: each request is applied when it arrives and answered at once, in order. */
        @Override
        public StreamObserver<ProduceRequest> produceStream(StreamObserver<ProduceResponse> responses) {
            return new StreamObserver<>() {
                @Override
                public void onNext(ProduceRequest request) {
                    ProduceResponse response = handle(request);
                    synchronized (responses) {
                        responses.onNext(response);
                    }
                }

                @Override
                public void onError(Throwable t) {
                    // The client went away; nothing to clean up.
                }

                @Override
                public void onCompleted() {
                    synchronized (responses) {
                        responses.onCompleted();
                    }
                }
            };
        }

        private ProduceResponse handle(ProduceRequest request) {
            ProduceResponse.Builder response = ProduceResponse.newBuilder().setCorrelationId(request.getCorrelationId());
            synchronized (FakeCluster.this) {
                for (PartitionProduceData raw : request.getPartitionsList()) {
                    PartitionProduceData data = decodeRecordBatch(raw);
                    produceCalls.add(new ProduceCall(brokerId, new TopicPartition(data.getTopic(), data.getPartition()),
                            data.hasProducerId() ? data.getProducerId() : null, data.getBaseSequence(),
                            data.getRecordsCount(), request.getAcks()));
                    response.addResults(produceOne(data, request.getAcks()));
                }
                FakeCluster.this.notifyAll();
            }
            return response.build();
        }

        private PartitionProduceResult produceOne(PartitionProduceData data, Acks acks) {
            PartitionProduceResult.Builder result = PartitionProduceResult.newBuilder()
                    .setTopic(data.getTopic()).setPartition(data.getPartition()).setBaseOffset(-1);
            if (refused(data.getTopic()) != null) {
                return result.setError(refused(data.getTopic())).build();
            }
            Partition p = find(data.getTopic(), data.getPartition());
            if (p == null) {
                return result.setError(error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown partition")).build();
            }
            if (p.leaderId != brokerId) {
                return result.setError(notLeader(p)).build();
            }
            ProduceFault fault = p.faults.poll();
            if (fault == ProduceFault.NOT_LEADER) {
                return result.setError(error(ErrorCode.NOT_LEADER, "injected not-leader")).build();
            }
            if (fault == ProduceFault.RECORD_TOO_LARGE) {
                return result.setError(error(ErrorCode.RECORD_TOO_LARGE, "injected too large")).build();
            }
            long baseOffset;
            if (data.hasProducerId()) {
                String key = data.getProducerId() + "/" + data.getBaseSequence();
                Long duplicate = p.dedup.get(key);
                if (duplicate != null) {
                    baseOffset = duplicate;
                } else if (!p.nextSequence.containsKey(data.getProducerId()) && data.getBaseSequence() != 0) {
                    // Like the broker: an unknown producer id must start at sequence 0.
                    return result.setError(error(ErrorCode.UNKNOWN_PRODUCER_ID, "unknown producer id "
                            + data.getProducerId() + " with sequence " + data.getBaseSequence())).build();
                } else {
                    int expected = p.nextSequence.getOrDefault(data.getProducerId(), 0);
                    if (data.getBaseSequence() != expected) {
                        return result.setError(error(ErrorCode.OUT_OF_ORDER_SEQUENCE,
                                "expected sequence " + expected + " got " + data.getBaseSequence())).build();
                    }
                    baseOffset = append(p, data);
                    p.dedup.put(key, baseOffset);
                    p.nextSequence.put(data.getProducerId(), expected + data.getRecordsCount());
                }
            } else {
                baseOffset = append(p, data);
            }
            if (fault == ProduceFault.APPEND_THEN_TIMEOUT) {
                return result.setError(error(ErrorCode.REQUEST_TIMED_OUT, "injected timeout after append")).build();
            }
            return result.setBaseOffset(acks == Acks.ACKS_NONE ? -1 : baseOffset).build();
        }

        private long append(Partition p, PartitionProduceData data) {
            long base = p.log.size();
            for (Record r : data.getRecordsList()) {
                p.log.add(r.toBuilder().setOffset(p.log.size()).build());
            }
            return base;
        }
    }

    /**
     * A {@code record_batch} (Kafka v2, as the SDK producer sends it) turned into the equivalent
     * {@code records} + idempotence fields, so the fake stores and serves decoded records either way.
     */
    static PartitionProduceData decodeRecordBatch(PartitionProduceData data) {
        if (data.getRecordBatch().isEmpty()) {
            return data;
        }
        PartitionProduceData.Builder decoded = data.toBuilder().clearRecordBatch().clearRecords();
        for (org.apache.kafka.common.record.internal.MutableRecordBatch batch
                : org.apache.kafka.common.record.internal.MemoryRecords.readableRecords(
                        data.getRecordBatch().asReadOnlyByteBuffer()).batches()) {
            if (batch.hasProducerId()) {
                decoded.setProducerId(batch.producerId()).setProducerEpoch(batch.producerEpoch())
                        .setBaseSequence(batch.baseSequence());
            }
            for (org.apache.kafka.common.record.internal.Record r : batch) {
                Record.Builder record = Record.newBuilder().setTimestampMs(r.timestamp());
                if (r.hasKey()) {
                    record.setKey(com.google.protobuf.ByteString.copyFrom(r.key()));
                }
                if (r.hasValue()) {
                    record.setValue(com.google.protobuf.ByteString.copyFrom(r.value()));
                }
                for (org.apache.kafka.common.header.Header h : r.headers()) {
                    io.raftlog.api.v1.Header.Builder header = io.raftlog.api.v1.Header.newBuilder().setKey(h.key());
                    if (h.value() != null) {
                        header.setValue(com.google.protobuf.ByteString.copyFrom(h.value()));
                    }
                    record.addHeaders(header);
                }
                decoded.addRecords(record);
            }
        }
        return decoded.build();
    }

    private final class Fetch extends FetchServiceGrpc.FetchServiceImplBase {
        private final int brokerId;

        Fetch(int brokerId) {
            this.brokerId = brokerId;
        }

        @Override
        public void fetch(FetchRequest request, StreamObserver<FetchResponse> observer) {
            Map<TopicPartition, Long> offsets = new java.util.LinkedHashMap<>();
            request.getPartitionsList().forEach(fp -> offsets.put(new TopicPartition(fp.getTopic(), fp.getPartition()),
                    fp.getOffset()));
            fetchCalls.add(new FetchCall(brokerId, request.getFormat(), offsets));
            long deadline = System.currentTimeMillis() + request.getMaxWaitMs();
            FetchResponse response;
            synchronized (FakeCluster.this) {
                while (true) {
                    response = fetchNow(request);
                    boolean hasData = response.getResultsList().stream()
                            .anyMatch(r -> r.getRecordsCount() > 0 || !r.getRecordBatches().isEmpty()
                                    || r.getError().getCode() != ErrorCode.NONE);
                    long remaining = deadline - System.currentTimeMillis();
                    if (hasData || remaining <= 0 || servers.get(brokerId) == null) {
                        break;
                    }
                    try {
                        FakeCluster.this.wait(remaining);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            observer.onNext(response);
            observer.onCompleted();
        }

        private FetchResponse fetchNow(FetchRequest request) {
            FetchResponse.Builder response = FetchResponse.newBuilder();
            for (FetchPartition fp : request.getPartitionsList()) {
                FetchPartitionResult.Builder result = FetchPartitionResult.newBuilder()
                        .setTopic(fp.getTopic()).setPartition(fp.getPartition());
                Partition p = find(fp.getTopic(), fp.getPartition());
                if (refused(fp.getTopic()) != null) {
                    result.setError(refused(fp.getTopic()));
                } else if (p == null) {
                    result.setError(error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown partition"));
                } else if (p.leaderId != brokerId) {
                    result.setError(notLeader(p));
                } else if (fp.getOffset() < 0 || fp.getOffset() > p.log.size()) {
                    result.setError(error(ErrorCode.OFFSET_OUT_OF_RANGE, "offset " + fp.getOffset()))
                            .setHighWatermark(p.log.size());
                } else if (request.getFormat() == RecordFormat.RECORD_BATCHES) {
                    result.setHighWatermark(p.log.size()).setLogStartOffset(0)
                            .setRecordBatches(batches(p.log, fp.getOffset()));
                } else {
                    result.setHighWatermark(p.log.size()).setLogStartOffset(0)
                            .addAllRecords(p.log.subList((int) fp.getOffset(), p.log.size()));
                }
                response.addResults(result);
            }
            return response.build();
        }

        /** The log from the aligned batch holding {@code offset} to the end, as Kafka v2 batches. */
        private com.google.protobuf.ByteString batches(List<Record> log, long offset) {
            com.google.protobuf.ByteString.Output out = com.google.protobuf.ByteString.newOutput();
            long start = offset - offset % FETCH_BATCH_RECORDS;
            for (long base = start; base < log.size(); base += FETCH_BATCH_RECORDS) {
                MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2,
                        fetchCompression, TimestampType.CREATE_TIME, base);
                for (long o = base; o < Math.min(base + FETCH_BATCH_RECORDS, log.size()); o++) {
                    Record r = log.get((int) o);
                    org.apache.kafka.common.header.Header[] headers = r.getHeadersList().stream()
                            .map(h -> new RecordHeader(h.getKey(), h.getValue().toByteArray()))
                            .toArray(org.apache.kafka.common.header.Header[]::new);
                    b.appendWithOffset(o, r.getTimestampMs(), r.hasKey() ? r.getKey().toByteArray() : null,
                            r.hasValue() ? r.getValue().toByteArray() : null, headers);
                }
                ByteBuffer buffer = b.build().buffer();
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                out.write(bytes, 0, bytes.length);
            }
            return out.toByteString();
        }

        @Override
        public void listOffsets(ListOffsetsRequest request, StreamObserver<ListOffsetsResponse> observer) {
            ListOffsetsResponse.Builder response = ListOffsetsResponse.newBuilder();
            synchronized (FakeCluster.this) {
                for (ListOffsetsPartition lp : request.getPartitionsList()) {
                    ListOffsetsResult.Builder result = ListOffsetsResult.newBuilder()
                            .setTopic(lp.getTopic()).setPartition(lp.getPartition());
                    Partition p = find(lp.getTopic(), lp.getPartition());
                    if (refused(lp.getTopic()) != null) {
                        result.setError(refused(lp.getTopic()));
                    } else if (p == null) {
                        result.setError(error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown partition"));
                    } else if (p.leaderId != brokerId) {
                        result.setError(notLeader(p));
                    } else {
                        result.setOffset(lp.getSpec() == OffsetSpec.EARLIEST ? 0 : p.log.size());
                    }
                    response.addResults(result);
                }
            }
            observer.onNext(response.build());
            observer.onCompleted();
        }
    }
}
