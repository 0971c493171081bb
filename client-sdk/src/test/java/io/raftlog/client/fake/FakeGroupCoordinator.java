package io.raftlog.client.fake;

import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.CommittedOffset;
import io.raftlog.api.v1.DeleteGroupRequest;
import io.raftlog.api.v1.DeleteGroupResponse;
import io.raftlog.api.v1.DescribeGroupRequest;
import io.raftlog.api.v1.DescribeGroupResponse;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.FindCoordinatorRequest;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.api.v1.GroupListing;
import io.raftlog.api.v1.GroupMemberDescription;
import io.raftlog.api.v1.GroupServiceGrpc;
import io.raftlog.api.v1.ListGroupsRequest;
import io.raftlog.api.v1.ListGroupsResponse;
import io.raftlog.api.v1.ResetOffsetsRequest;
import io.raftlog.api.v1.ResetOffsetsResponse;
import io.raftlog.api.v1.TopicPartitions;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.Errors;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The consumer-group side of a {@link FakeCluster}: one broker (default 1) coordinates every
 * group, as in the real cluster. FindCoordinator works on every broker; the other group RPCs
 * answered by another broker fail with NOT_COORDINATOR carrying the coordinator's id as a hint
 * (unless {@link #hintCoordinator(boolean) hints are off}). Errors travel like the broker's: gRPC
 * status plus an {@link Error} in the {@code raftlog-error-bin} trailer.
 *
 * <p>Implemented: FindCoordinator, ListGroups, DescribeGroup, FetchOffsets, DeleteGroup,
 * ResetOffsets. Members and commits are set up directly ({@link #addMember}, {@link #commit});
 * Heartbeat and CommitOffsets answer UNIMPLEMENTED. Fault injection: {@link #moveCoordinator},
 * {@link #hintCoordinator}, {@link #available}. Observation: {@link #calls()}.
 *
 * <p>Thread-safe (one monitor). Calls into the owning cluster (topics, logs) happen with this
 * monitor held, never the other way round.
 */
public final class FakeGroupCoordinator {

    /** One group RPC as received: which broker, which method. */
    public record GroupCall(int brokerId, String method) {
    }

    /** A member as the fake stores it; the assignment doubles as the target assignment. */
    public record Member(String memberId, String clientId, int memberEpoch, List<String> subscribedTopics,
                         List<TopicPartition> assignment) {
        public Member {
            subscribedTopics = List.copyOf(subscribedTopics);
            assignment = List.copyOf(assignment);
        }
    }

    private static final Comparator<TopicPartition> ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private static final class Group {
        int epoch;
        String assignor = "";
        final Map<String, Member> members = new LinkedHashMap<>();
        final Map<TopicPartition, CommittedOffset> offsets = new TreeMap<>(ORDER);
    }

    private final FakeCluster cluster;
    private final Map<String, Group> groups = new TreeMap<>();
    private final List<GroupCall> calls = new CopyOnWriteArrayList<>();
    private int coordinatorId = 1;
    private boolean hints = true;
    private boolean available = true;
    /** Deterministic commit timestamps: each commit gets the next millisecond. */
    private long nextCommitTimestampMs = 1_700_000_000_000L;

    FakeGroupCoordinator(FakeCluster cluster) {
        this.cluster = cluster;
    }

    // ---- test control ---------------------------------------------------------------------------

    /** Makes broker {@code id} the coordinator without telling clients (like a metadata leader change). */
    public synchronized void moveCoordinator(int id) {
        coordinatorId = id;
    }

    public synchronized int coordinatorId() {
        return coordinatorId;
    }

    /** Whether NOT_COORDINATOR answers carry the coordinator's id (default true). */
    public synchronized void hintCoordinator(boolean on) {
        hints = on;
    }

    /**
     * While false, FindCoordinator answers COORDINATOR_NOT_AVAILABLE and every other group RPC
     * fails with it (a metadata leader election in progress). Default true.
     */
    public synchronized void available(boolean on) {
        available = on;
    }

    /** Adds (or replaces) a member; bumps the group epoch and sets the assignor to "sticky". */
    public synchronized void addMember(String groupId, Member member) {
        Group g = groups.computeIfAbsent(groupId, k -> new Group());
        g.members.put(member.memberId(), member);
        g.epoch++;
        g.assignor = "sticky";
    }

    /** Removes every member (consumers stopped); bumps the group epoch. */
    public synchronized void removeMembers(String groupId) {
        Group g = groups.get(groupId);
        if (g != null) {
            g.members.clear();
            g.epoch++;
        }
    }

    /** Stores a committed offset, as a CommitOffsets would. */
    public synchronized void commit(String groupId, TopicPartition tp, long offset, String metadata) {
        Group g = groups.computeIfAbsent(groupId, k -> new Group());
        g.offsets.put(tp, committed(tp, offset, metadata));
    }

    /** The group's committed offsets, by partition (empty for an unknown group). */
    public synchronized Map<TopicPartition, Long> committed(String groupId) {
        Map<TopicPartition, Long> result = new TreeMap<>(ORDER);
        Group g = groups.get(groupId);
        if (g != null) {
            g.offsets.forEach((tp, o) -> result.put(tp, o.getOffset()));
        }
        return result;
    }

    public synchronized boolean exists(String groupId) {
        return groups.containsKey(groupId);
    }

    /** Every group RPC received so far (FindCoordinator included), in arrival order. */
    public List<GroupCall> calls() {
        return List.copyOf(calls);
    }

    /** The received calls of one method, in arrival order. */
    public List<GroupCall> calls(String method) {
        return calls.stream().filter(c -> c.method().equals(method)).toList();
    }

    // ---- service --------------------------------------------------------------------------------

    BindableService service(int brokerId) {
        return new Service(brokerId);
    }

    private CommittedOffset committed(TopicPartition tp, long offset, String metadata) {
        return CommittedOffset.newBuilder().setTopic(tp.topic()).setPartition(tp.partition()).setOffset(offset)
                .setMetadata(metadata).setCommitTimestampMs(nextCommitTimestampMs++).build();
    }

    private static Error error(ErrorCode code, String message) {
        return Error.newBuilder().setCode(code).setMessage(message).build();
    }

    private static <T> void fail(StreamObserver<T> observer, Status status, Error error) {
        Metadata trailers = new Metadata();
        trailers.put(Errors.ERROR_TRAILER_KEY, error);
        observer.onError(status.withDescription(error.getMessage()).asRuntimeException(trailers));
    }

    private static <T> void reply(StreamObserver<T> observer, T response) {
        observer.onNext(response);
        observer.onCompleted();
    }

    private static List<TopicPartitions> grouped(List<TopicPartition> partitions) {
        Map<String, TopicPartitions.Builder> byTopic = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            byTopic.computeIfAbsent(tp.topic(), t -> TopicPartitions.newBuilder().setTopic(t))
                    .addPartitions(tp.partition());
        }
        return byTopic.values().stream().map(TopicPartitions.Builder::build).toList();
    }

    private static String state(Group g) {
        return g.members.isEmpty() ? "EMPTY" : "STABLE";
    }

    private final class Service extends GroupServiceGrpc.GroupServiceImplBase {
        private final int brokerId;

        Service(int brokerId) {
            this.brokerId = brokerId;
        }

        /**
         * Records the call and fails it like a broker that is not (or has no) coordinator; returns
         * true when the caller may go on. Call with the monitor held.
         */
        private <T> boolean coordinatorCheck(String method, StreamObserver<T> observer) {
            calls.add(new GroupCall(brokerId, method));
            if (!available) {
                fail(observer, Status.UNAVAILABLE, error(ErrorCode.COORDINATOR_NOT_AVAILABLE,
                        "no group coordinator: metadata leader election in progress"));
                return false;
            }
            if (brokerId != coordinatorId) {
                Error.Builder e = Error.newBuilder().setCode(ErrorCode.NOT_COORDINATOR)
                        .setMessage("broker " + brokerId + " is not the group coordinator");
                if (hints) {
                    e.setLeaderId(coordinatorId);
                }
                fail(observer, Status.UNAVAILABLE, e.build());
                return false;
            }
            return true;
        }

        private <T> void groupNotFound(String groupId, StreamObserver<T> observer) {
            fail(observer, Status.NOT_FOUND, error(ErrorCode.GROUP_ID_NOT_FOUND, "group '" + groupId + "' not found"));
        }

        @Override
        public void findCoordinator(FindCoordinatorRequest request, StreamObserver<FindCoordinatorResponse> observer) {
            FindCoordinatorResponse response;
            synchronized (FakeGroupCoordinator.this) {
                calls.add(new GroupCall(brokerId, "FindCoordinator"));
                response = available
                        ? FindCoordinatorResponse.newBuilder().setCoordinator(cluster.brokerInfo(coordinatorId)).build()
                        : FindCoordinatorResponse.newBuilder().setError(error(ErrorCode.COORDINATOR_NOT_AVAILABLE,
                                "no group coordinator: metadata leader election in progress")).build();
            }
            reply(observer, response);
        }

        @Override
        public void listGroups(ListGroupsRequest request, StreamObserver<ListGroupsResponse> observer) {
            ListGroupsResponse.Builder response = ListGroupsResponse.newBuilder();
            synchronized (FakeGroupCoordinator.this) {
                if (!coordinatorCheck("ListGroups", observer)) {
                    return;
                }
                groups.forEach((id, g) -> response.addGroups(GroupListing.newBuilder().setGroupId(id)
                        .setState(state(g)).setMembers(g.members.size())));
            }
            reply(observer, response.build());
        }

        @Override
        public void describeGroup(DescribeGroupRequest request, StreamObserver<DescribeGroupResponse> observer) {
            DescribeGroupResponse.Builder response = DescribeGroupResponse.newBuilder();
            synchronized (FakeGroupCoordinator.this) {
                if (!coordinatorCheck("DescribeGroup", observer)) {
                    return;
                }
                Group g = groups.get(request.getGroupId());
                if (g == null) {
                    groupNotFound(request.getGroupId(), observer);
                    return;
                }
                response.setGroupId(request.getGroupId()).setState(state(g)).setGroupEpoch(g.epoch)
                        .setAssignor(g.assignor).addAllOffsets(g.offsets.values());
                for (Member m : g.members.values()) {
                    response.addMembers(GroupMemberDescription.newBuilder().setMemberId(m.memberId())
                            .setClientId(m.clientId()).setMemberEpoch(m.memberEpoch())
                            .addAllSubscribedTopics(m.subscribedTopics())
                            .addAllAssignment(grouped(m.assignment()))
                            .addAllTargetAssignment(grouped(m.assignment()))
                            .setSessionTimeoutMs(45_000));
                }
            }
            reply(observer, response.build());
        }

        @Override
        public void fetchOffsets(FetchOffsetsRequest request, StreamObserver<FetchOffsetsResponse> observer) {
            FetchOffsetsResponse.Builder response = FetchOffsetsResponse.newBuilder();
            synchronized (FakeGroupCoordinator.this) {
                if (!coordinatorCheck("FetchOffsets", observer)) {
                    return;
                }
                Group g = groups.get(request.getGroupId());
                if (request.getPartitionsCount() == 0) {
                    if (g != null) {
                        response.addAllOffsets(g.offsets.values());
                    }
                } else {
                    for (TopicPartitions tps : request.getPartitionsList()) {
                        for (int p : tps.getPartitionsList()) {
                            CommittedOffset o = g == null ? null : g.offsets.get(new TopicPartition(tps.getTopic(), p));
                            response.addOffsets(o != null ? o : CommittedOffset.newBuilder().setTopic(tps.getTopic())
                                    .setPartition(p).setOffset(-1).build());
                        }
                    }
                }
            }
            reply(observer, response.build());
        }

        @Override
        public void deleteGroup(DeleteGroupRequest request, StreamObserver<DeleteGroupResponse> observer) {
            synchronized (FakeGroupCoordinator.this) {
                if (!coordinatorCheck("DeleteGroup", observer)) {
                    return;
                }
                Group g = groups.get(request.getGroupId());
                if (g == null) {
                    groupNotFound(request.getGroupId(), observer);
                    return;
                }
                if (!g.members.isEmpty()) {
                    fail(observer, Status.FAILED_PRECONDITION, error(ErrorCode.GROUP_NOT_EMPTY,
                            "group '" + request.getGroupId() + "' has " + g.members.size() + " active members"));
                    return;
                }
                groups.remove(request.getGroupId());
            }
            reply(observer, DeleteGroupResponse.getDefaultInstance());
        }

        @Override
        public void resetOffsets(ResetOffsetsRequest request, StreamObserver<ResetOffsetsResponse> observer) {
            ResetOffsetsResponse.Builder response = ResetOffsetsResponse.newBuilder();
            synchronized (FakeGroupCoordinator.this) {
                if (!coordinatorCheck("ResetOffsets", observer)) {
                    return;
                }
                Group g = groups.get(request.getGroupId());
                if (g != null && !g.members.isEmpty()) {
                    fail(observer, Status.FAILED_PRECONDITION, error(ErrorCode.GROUP_NOT_EMPTY,
                            "group '" + request.getGroupId() + "' has " + g.members.size() + " active members"));
                    return;
                }
                int count = cluster.partitionCount(request.getTopic());
                if (count < 0) {
                    fail(observer, Status.NOT_FOUND, error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                            "unknown topic '" + request.getTopic() + "'"));
                    return;
                }
                List<Integer> partitions = new ArrayList<>(request.getPartitionsList());
                if (partitions.isEmpty()) {
                    for (int p = 0; p < count; p++) {
                        partitions.add(p);
                    }
                }
                for (int p : partitions) {
                    if (p < 0 || p >= count) {
                        fail(observer, Status.NOT_FOUND, error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                                "unknown partition " + request.getTopic() + "-" + p));
                        return;
                    }
                }
                if (request.getToCase() == ResetOffsetsRequest.ToCase.TO_NOT_SET) {
                    fail(observer, Status.INVALID_ARGUMENT, error(ErrorCode.INVALID_ARGUMENT, "no reset target"));
                    return;
                }
                Group group = groups.computeIfAbsent(request.getGroupId(), k -> new Group());
                for (int p : partitions) {
                    TopicPartition tp = new TopicPartition(request.getTopic(), p);
                    long offset = switch (request.getToCase()) {
                        case TO_EARLIEST -> 0;
                        case TO_LATEST -> cluster.log(tp).size();
                        case TO_OFFSET -> request.getToOffset();
                        case TO_NOT_SET -> throw new AssertionError("checked above");
                    };
                    CommittedOffset o = committed(tp, offset, "");
                    group.offsets.put(tp, o);
                    response.addOffsets(o);
                }
            }
            reply(observer, response.build());
        }
    }
}
