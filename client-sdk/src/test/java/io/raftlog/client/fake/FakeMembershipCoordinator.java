package io.raftlog.client.fake;

import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.BrokerInfo;
import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.CommitOffsetsResponse;
import io.raftlog.api.v1.CommittedOffset;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.FindCoordinatorRequest;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.api.v1.GroupHeartbeatResponse;
import io.raftlog.api.v1.GroupServiceGrpc;
import io.raftlog.api.v1.OffsetCommit;
import io.raftlog.api.v1.TopicPartitions;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.Errors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * A simple in-memory group coordinator for {@link FakeCluster}: one broker ({@link #coordinatorId})
 * coordinates every group, the others answer NOT_COORDINATOR with a hint. Round-robin assignment
 * per topic over the members subscribed to it (sorted by member id); a partition is handed to a
 * member only once no other member reports owning it. The group epoch is bumped on every join,
 * leave, expulsion and subscription change, and a member's epoch is the group epoch of its last
 * answer. No session expiry (use {@link #expel}). Thread-safe.
 */
public final class FakeMembershipCoordinator {
    /** One accepted or refused commit. */
    public record Commit(String groupId, String memberId, int memberEpoch, Map<TopicPartition, Long> offsets,
                         ErrorCode result) {
    }

    private static final class Member {
        final String id;
        int epoch;
        List<String> topics = List.of();
        Set<TopicPartition> owned = Set.of();

        Member(String id) {
            this.id = id;
        }
    }

    private static final class Group {
        final Map<String, Member> members = new TreeMap<>();
        int epoch;
        final Map<TopicPartition, Long> offsets = new HashMap<>();
        final Map<TopicPartition, String> metadata = new HashMap<>();
    }

    private final IntFunction<BrokerInfo> brokers;
    private final ToIntFunction<String> partitionCount;
    private final Map<String, Group> groups = new HashMap<>();
    private final List<Commit> commits = new CopyOnWriteArrayList<>();
    private final List<GroupHeartbeatRequest> heartbeats = new CopyOnWriteArrayList<>();
    private int coordinatorId = 1;
    private int heartbeatIntervalMs = 100;

    /**
     * @param brokers broker id to its BrokerInfo
     * @param partitionCount partitions of a topic, 0 when it does not exist
     */
    FakeMembershipCoordinator(IntFunction<BrokerInfo> brokers, ToIntFunction<String> partitionCount) {
        this.brokers = brokers;
        this.partitionCount = partitionCount;
    }

    // ---- test control and observation ---------------------------------------------------------------

    public synchronized void moveCoordinator(int brokerId) {
        coordinatorId = brokerId;
    }

    public synchronized void heartbeatIntervalMs(int ms) {
        heartbeatIntervalMs = ms;
    }

    /** Removes a member as a session expiry would: its next request gets UNKNOWN_MEMBER_ID. */
    public synchronized void expel(String groupId, String memberId) {
        Group g = group(groupId);
        if (g.members.remove(memberId) != null) {
            g.epoch++;
        }
    }

    public synchronized Map<TopicPartition, Long> committed(String groupId) {
        return Map.copyOf(group(groupId).offsets);
    }

    /** Member id to the partitions it last reported owning. */
    public synchronized Map<String, Set<TopicPartition>> owned(String groupId) {
        Map<String, Set<TopicPartition>> out = new TreeMap<>();
        group(groupId).members.values().forEach(m -> out.put(m.id, Set.copyOf(m.owned)));
        return out;
    }

    public synchronized Set<String> members(String groupId) {
        return Set.copyOf(group(groupId).members.keySet());
    }

    public List<Commit> commits() {
        return List.copyOf(commits);
    }

    public List<GroupHeartbeatRequest> heartbeats() {
        return List.copyOf(heartbeats);
    }

    // ---- the service ----------------------------------------------------------------------------------

    BindableService service(int brokerId) {
        return new GroupServiceGrpc.GroupServiceImplBase() {
            @Override
            public void findCoordinator(FindCoordinatorRequest request, StreamObserver<FindCoordinatorResponse> o) {
                int id;
                synchronized (FakeMembershipCoordinator.this) {
                    id = coordinatorId;
                }
                o.onNext(FindCoordinatorResponse.newBuilder().setCoordinator(brokers.apply(id)).build());
                o.onCompleted();
            }

            @Override
            public void heartbeat(GroupHeartbeatRequest request, StreamObserver<GroupHeartbeatResponse> o) {
                heartbeats.add(request);
                answer(o, () -> handleHeartbeat(brokerId, request));
            }

            @Override
            public void commitOffsets(CommitOffsetsRequest request, StreamObserver<CommitOffsetsResponse> o) {
                answer(o, () -> handleCommit(brokerId, request));
            }

            @Override
            public void fetchOffsets(FetchOffsetsRequest request, StreamObserver<FetchOffsetsResponse> o) {
                answer(o, () -> handleFetchOffsets(brokerId, request));
            }
        };
    }

    /** A refusal: the status and the Error trailer, as the broker sends them. */
    private static final class Refusal extends RuntimeException {
        final ErrorCode code;
        final Integer hint;

        Refusal(ErrorCode code, String message, Integer hint) {
            super(message);
            this.code = code;
            this.hint = hint;
        }
    }

    private static <T> void answer(StreamObserver<T> o, java.util.function.Supplier<T> handler) {
        T response;
        try {
            response = handler.get();
        } catch (Refusal r) {
            Error.Builder e = Error.newBuilder().setCode(r.code).setMessage(r.getMessage());
            if (r.hint != null) {
                e.setLeaderId(r.hint);
            }
            Metadata trailers = new Metadata();
            trailers.put(Errors.ERROR_TRAILER_KEY, e.build());
            o.onError(Status.FAILED_PRECONDITION.withDescription(r.getMessage()).asRuntimeException(trailers));
            return;
        }
        o.onNext(response);
        o.onCompleted();
    }

    private Group group(String groupId) {
        return groups.computeIfAbsent(groupId, g -> new Group());
    }

    private void requireCoordinator(int brokerId) {
        if (brokerId != coordinatorId) {
            throw new Refusal(ErrorCode.NOT_COORDINATOR, "broker " + brokerId + " is not the coordinator",
                    coordinatorId);
        }
    }

    private synchronized GroupHeartbeatResponse handleHeartbeat(int brokerId, GroupHeartbeatRequest r) {
        requireCoordinator(brokerId);
        Group g = group(r.getGroupId());
        Member m = g.members.get(r.getMemberId());
        if (r.getMemberEpoch() == -1) {
            if (g.members.remove(r.getMemberId()) != null) {
                g.epoch++;
            }
            return GroupHeartbeatResponse.newBuilder().setMemberId(r.getMemberId()).setMemberEpoch(-1)
                    .setGroupEpoch(g.epoch).build();
        }
        if (r.getMemberEpoch() == 0) {
            if (m == null) {
                m = new Member(r.getMemberId());
                g.members.put(m.id, m);
            }
            m.owned = Set.of();
            g.epoch++;
        } else if (m == null) {
            throw new Refusal(ErrorCode.UNKNOWN_MEMBER_ID, "unknown member " + r.getMemberId(), null);
        } else if (r.getMemberEpoch() != m.epoch) {
            throw new Refusal(ErrorCode.FENCED_MEMBER_EPOCH, "member epoch " + r.getMemberEpoch() + " is not "
                    + m.epoch, null);
        } else {
            m.owned = partitions(r.getOwnedPartitionsList());
        }
        if (!m.topics.equals(r.getSubscribedTopicsList())) {
            m.topics = List.copyOf(r.getSubscribedTopicsList());
            g.epoch++;
        }
        m.epoch = g.epoch;
        Set<TopicPartition> assignment = new LinkedHashSet<>(target(g).getOrDefault(m.id, Set.of()));
        for (Member other : g.members.values()) {
            if (other != m) {
                assignment.removeAll(other.owned);
            }
        }
        return GroupHeartbeatResponse.newBuilder().setMemberId(m.id).setMemberEpoch(m.epoch)
                .setHeartbeatIntervalMs(heartbeatIntervalMs).setGroupEpoch(g.epoch)
                .addAllAssignment(toProto(assignment)).build();
    }

    private Map<String, Set<TopicPartition>> target(Group g) {
        Map<String, Set<TopicPartition>> out = new HashMap<>();
        Set<String> topics = new TreeSet<>();
        g.members.values().forEach(m -> topics.addAll(m.topics));
        for (String topic : topics) {
            List<String> subscribers = g.members.values().stream().filter(m -> m.topics.contains(topic))
                    .map(m -> m.id).toList();
            int count = partitionCount.applyAsInt(topic);
            for (int p = 0; p < count; p++) {
                out.computeIfAbsent(subscribers.get(p % subscribers.size()), id -> new LinkedHashSet<>())
                        .add(new TopicPartition(topic, p));
            }
        }
        return out;
    }

    private synchronized CommitOffsetsResponse handleCommit(int brokerId, CommitOffsetsRequest r) {
        Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
        for (OffsetCommit c : r.getOffsetsList()) {
            offsets.put(new TopicPartition(c.getTopic(), c.getPartition()), c.getOffset());
        }
        try {
            requireCoordinator(brokerId);
            Group g = group(r.getGroupId());
            if (r.getMemberId().isEmpty() && r.getMemberEpoch() == -1) {
                if (!g.members.isEmpty()) {
                    throw new Refusal(ErrorCode.GROUP_NOT_EMPTY, "group " + r.getGroupId() + " has members", null);
                }
            } else {
                Member m = g.members.get(r.getMemberId());
                if (m == null) {
                    throw new Refusal(ErrorCode.UNKNOWN_MEMBER_ID, "unknown member " + r.getMemberId(), null);
                }
                if (r.getMemberEpoch() < m.epoch) {
                    throw new Refusal(ErrorCode.STALE_MEMBER_EPOCH, "member epoch " + r.getMemberEpoch()
                            + " is older than " + m.epoch, null);
                }
                if (r.getMemberEpoch() > m.epoch) {
                    throw new Refusal(ErrorCode.FENCED_MEMBER_EPOCH, "member epoch " + r.getMemberEpoch()
                            + " is newer than " + m.epoch, null);
                }
            }
            for (OffsetCommit c : r.getOffsetsList()) {
                TopicPartition tp = new TopicPartition(c.getTopic(), c.getPartition());
                g.offsets.put(tp, c.getOffset());
                g.metadata.put(tp, c.getMetadata());
            }
            commits.add(new Commit(r.getGroupId(), r.getMemberId(), r.getMemberEpoch(), offsets, ErrorCode.NONE));
            return CommitOffsetsResponse.getDefaultInstance();
        } catch (Refusal e) {
            commits.add(new Commit(r.getGroupId(), r.getMemberId(), r.getMemberEpoch(), offsets, e.code));
            throw e;
        }
    }

    private synchronized FetchOffsetsResponse handleFetchOffsets(int brokerId, FetchOffsetsRequest r) {
        requireCoordinator(brokerId);
        Group g = group(r.getGroupId());
        FetchOffsetsResponse.Builder out = FetchOffsetsResponse.newBuilder();
        for (TopicPartition tp : partitions(r.getPartitionsList())) {
            out.addOffsets(CommittedOffset.newBuilder().setTopic(tp.topic()).setPartition(tp.partition())
                    .setOffset(g.offsets.getOrDefault(tp, -1L)).setMetadata(g.metadata.getOrDefault(tp, "")));
        }
        return out.build();
    }

    private static Set<TopicPartition> partitions(List<TopicPartitions> list) {
        Set<TopicPartition> out = new LinkedHashSet<>();
        list.forEach(tps -> tps.getPartitionsList().forEach(p -> out.add(new TopicPartition(tps.getTopic(), p))));
        return out;
    }

    private static List<TopicPartitions> toProto(Set<TopicPartition> partitions) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
        List<TopicPartitions> out = new ArrayList<>();
        byTopic.forEach((t, ps) -> out.add(TopicPartitions.newBuilder().setTopic(t).addAllPartitions(ps).build()));
        return out;
    }
}
