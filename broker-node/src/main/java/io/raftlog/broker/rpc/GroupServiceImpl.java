package io.raftlog.broker.rpc;

import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.BrokerInfo;
import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.CommitOffsetsResponse;
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
import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.api.v1.GroupHeartbeatResponse;
import io.raftlog.api.v1.GroupServiceGrpc;
import io.raftlog.api.v1.ListGroupsRequest;
import io.raftlog.api.v1.ListGroupsResponse;
import io.raftlog.api.v1.ResetOffsetsRequest;
import io.raftlog.api.v1.ResetOffsetsResponse;
import io.raftlog.broker.group.GroupCoordinator;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.log.v1.BrokerRecord;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** Consumer groups over gRPC: translates and maps errors; the logic is in {@link GroupCoordinator}. */
public final class GroupServiceImpl extends GroupServiceGrpc.GroupServiceImplBase {

  private final GroupCoordinator coordinator;
  private final MetadataView metadata;
  private final Supplier<Integer> coordinatorId;

  public GroupServiceImpl(GroupCoordinator coordinator, MetadataView metadata, Supplier<Integer> coordinatorId) {
    this.coordinator = coordinator;
    this.metadata = metadata;
    this.coordinatorId = coordinatorId;
  }

  @Override
  public void findCoordinator(FindCoordinatorRequest request, StreamObserver<FindCoordinatorResponse> response) {
    int id = coordinatorId.get();
    BrokerRecord broker = id < 0 ? null : metadata.broker(id).orElse(null);
    FindCoordinatorResponse.Builder b = FindCoordinatorResponse.newBuilder();
    if (broker == null) {
      b.setError(Error.newBuilder().setCode(ErrorCode.COORDINATOR_NOT_AVAILABLE)
          .setMessage("no group coordinator right now (metadata leader election in progress); retry"));
    } else {
      b.setError(GrpcErrors.NONE).setCoordinator(BrokerInfo.newBuilder().setBrokerId(broker.getBrokerId())
          .setHost(broker.getHost()).setPort(broker.getPort()).setRaftPort(broker.getRaftPort())
          .setAlive(metadata.isAlive(broker)));
    }
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public void heartbeat(GroupHeartbeatRequest request, StreamObserver<GroupHeartbeatResponse> response) {
    answer(() -> coordinator.heartbeat(request), response, "heartbeat of group '" + request.getGroupId() + "'");
  }

  @Override
  public void commitOffsets(CommitOffsetsRequest request, StreamObserver<CommitOffsetsResponse> response) {
    answer(() -> coordinator.commitOffsets(request).thenApply(v -> CommitOffsetsResponse.getDefaultInstance()),
        response, "offset commit of group '" + request.getGroupId() + "'");
  }

  @Override
  public void fetchOffsets(FetchOffsetsRequest request, StreamObserver<FetchOffsetsResponse> response) {
    answer(() -> CompletableFuture.completedFuture(coordinator.fetchOffsets(request)), response,
        "offset fetch of group '" + request.getGroupId() + "'");
  }

  @Override
  public void listGroups(ListGroupsRequest request, StreamObserver<ListGroupsResponse> response) {
    answer(() -> CompletableFuture.completedFuture(coordinator.listGroups()), response, "list groups");
  }

  @Override
  public void describeGroup(DescribeGroupRequest request, StreamObserver<DescribeGroupResponse> response) {
    answer(() -> CompletableFuture.completedFuture(coordinator.describeGroup(request.getGroupId())), response,
        "describe group '" + request.getGroupId() + "'");
  }

  @Override
  public void deleteGroup(DeleteGroupRequest request, StreamObserver<DeleteGroupResponse> response) {
    answer(() -> coordinator.deleteGroup(request.getGroupId()).thenApply(v -> DeleteGroupResponse.getDefaultInstance()),
        response, "delete group '" + request.getGroupId() + "'");
  }

  @Override
  public void resetOffsets(ResetOffsetsRequest request, StreamObserver<ResetOffsetsResponse> response) {
    answer(() -> coordinator.resetOffsets(request), response, "offset reset of group '" + request.getGroupId() + "'");
  }

  /** Runs a call; a synchronous throw and a failed future both become a gRPC status with an Error trailer. */
  private static <T> void answer(Supplier<CompletableFuture<T>> call, StreamObserver<T> response, String what) {
    CompletableFuture<T> future;
    try {
      future = call.get();
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    future.whenComplete((value, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, what));
      } else {
        response.onNext(value);
        response.onCompleted();
      }
    });
  }
}
