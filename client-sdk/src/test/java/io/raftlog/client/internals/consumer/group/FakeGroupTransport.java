package io.raftlog.client.internals.consumer.group;

import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
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
import io.raftlog.api.v1.TopicPartitions;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.Errors;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A scripted GroupService. Every request is recorded (and logged to {@link #events}); it is
 * answered at once from the method's queue of answers (a response or a Throwable) or, when the
 * queue is empty, by the default: FindCoordinator names {@link #coordinatorId}, commits succeed
 * and are stored, FetchOffsets answers from {@link #committed}, heartbeats stay pending until the
 * test completes them.
 */
final class FakeGroupTransport implements GroupTransport {
    record Call(String method, String address, Message request, CompletableFuture<Object> future) {
    }

    final List<Call> calls = new ArrayList<>();
    final List<String> events;
    final Deque<Object> findAnswers = new ArrayDeque<>();
    final Deque<Object> heartbeatAnswers = new ArrayDeque<>();
    final Deque<Object> commitAnswers = new ArrayDeque<>();
    final Deque<Object> fetchOffsetsAnswers = new ArrayDeque<>();
    final Map<TopicPartition, Long> committed = new HashMap<>();
    int coordinatorId = 1;
    /** Put in an answer queue to leave that request pending. */
    static final Object PENDING = new Object();
    /** When set, heartbeats without a queued answer get this answer (leaves get epoch -1) instead of staying pending. */
    GroupHeartbeatResponse steadyHeartbeat;

    FakeGroupTransport(List<String> events) {
        this.events = events;
    }

    static String address(int brokerId) {
        return "b" + brokerId + ":1";
    }

    /** A GroupService error as the broker sends it: a status plus the Error trailer. */
    static StatusRuntimeException error(ErrorCode code, String message, Integer leaderId) {
        Error.Builder e = Error.newBuilder().setCode(code).setMessage(message);
        if (leaderId != null) {
            e.setLeaderId(leaderId);
        }
        Metadata trailers = new Metadata();
        trailers.put(Errors.ERROR_TRAILER_KEY, e.build());
        return Status.FAILED_PRECONDITION.withDescription(message).asRuntimeException(trailers);
    }

    static StatusRuntimeException unavailable() {
        return Status.UNAVAILABLE.withDescription("connection refused").asRuntimeException();
    }

    static GroupHeartbeatResponse heartbeatOk(String memberId, int memberEpoch, int groupEpoch,
                                              Collection<TopicPartition> assignment) {
        return GroupHeartbeatResponse.newBuilder().setMemberId(memberId).setMemberEpoch(memberEpoch)
                .setGroupEpoch(groupEpoch).setHeartbeatIntervalMs(1000)
                .addAllAssignment(MembershipManager.toProto(java.util.Set.copyOf(assignment))).build();
    }

    @Override
    public CompletableFuture<FindCoordinatorResponse> findCoordinator(String address, FindCoordinatorRequest request,
                                                                      long timeoutMs) {
        return call("findCoordinator", address, request, findAnswers, () -> FindCoordinatorResponse.newBuilder()
                .setCoordinator(BrokerInfo.newBuilder().setBrokerId(coordinatorId).setHost("b" + coordinatorId)
                        .setPort(1).setAlive(true)).build());
    }

    @Override
    public CompletableFuture<GroupHeartbeatResponse> heartbeat(String address, GroupHeartbeatRequest request,
                                                               long timeoutMs) {
        events.add("heartbeat epoch=" + request.getMemberEpoch() + " owned=" + owned(request.getOwnedPartitionsList()));
        GroupHeartbeatResponse steady = steadyHeartbeat;
        return call("heartbeat", address, request, heartbeatAnswers, steady == null ? null
                : () -> request.getMemberEpoch() == -1 ? steady.toBuilder().setMemberEpoch(-1).clearAssignment().build()
                : steady);
    }

    @Override
    public CompletableFuture<CommitOffsetsResponse> commitOffsets(String address, CommitOffsetsRequest request,
                                                                  long timeoutMs) {
        StringBuilder offsets = new StringBuilder();
        request.getOffsetsList().forEach(o -> offsets.append(offsets.length() == 0 ? "" : ",")
                .append(o.getTopic()).append('-').append(o.getPartition()).append('=').append(o.getOffset()));
        events.add("commit " + offsets + " epoch=" + request.getMemberEpoch());
        return call("commitOffsets", address, request, commitAnswers, () -> {
            request.getOffsetsList().forEach(o -> committed.put(new TopicPartition(o.getTopic(), o.getPartition()),
                    o.getOffset()));
            return CommitOffsetsResponse.getDefaultInstance();
        });
    }

    @Override
    public CompletableFuture<FetchOffsetsResponse> fetchOffsets(String address, FetchOffsetsRequest request,
                                                                long timeoutMs) {
        return call("fetchOffsets", address, request, fetchOffsetsAnswers, () -> {
            FetchOffsetsResponse.Builder r = FetchOffsetsResponse.newBuilder();
            for (TopicPartitions tps : request.getPartitionsList()) {
                for (int p : tps.getPartitionsList()) {
                    r.addOffsets(CommittedOffset.newBuilder().setTopic(tps.getTopic()).setPartition(p)
                            .setOffset(committed.getOrDefault(new TopicPartition(tps.getTopic(), p), -1L)));
                }
            }
            return r.build();
        });
    }

    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> call(String method, String address, Message request, Deque<Object> answers,
                                          java.util.function.Supplier<Object> defaultAnswer) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        calls.add(new Call(method, address, request, f));
        Object answer = answers.poll();
        if (answer == null && defaultAnswer != null) {
            answer = defaultAnswer.get();
        }
        if (answer instanceof Throwable t) {
            f.completeExceptionally(t);
        } else if (answer != null && answer != PENDING) {
            f.complete(answer);
        }
        return (CompletableFuture<T>) f;
    }

    List<Call> calls(String method) {
        return calls.stream().filter(c -> c.method().equals(method)).toList();
    }

    List<GroupHeartbeatRequest> heartbeats() {
        return calls("heartbeat").stream().map(c -> (GroupHeartbeatRequest) c.request()).toList();
    }

    GroupHeartbeatRequest lastHeartbeat() {
        List<GroupHeartbeatRequest> all = heartbeats();
        return all.get(all.size() - 1);
    }

    /** Completes the most recent heartbeat, which must still be pending. */
    void answerHeartbeat(Object answer) {
        List<Call> all = calls("heartbeat");
        Call last = all.get(all.size() - 1);
        if (last.future().isDone()) {
            throw new AssertionError("the last heartbeat was already answered");
        }
        if (answer instanceof Throwable t) {
            last.future().completeExceptionally(t);
        } else {
            last.future().complete(answer);
        }
    }

    boolean heartbeatPending() {
        List<Call> all = calls("heartbeat");
        return !all.isEmpty() && !all.get(all.size() - 1).future().isDone();
    }

    static List<TopicPartition> owned(List<TopicPartitions> list) {
        return MembershipManager.sorted(MembershipManager.fromProto(list));
    }
}
