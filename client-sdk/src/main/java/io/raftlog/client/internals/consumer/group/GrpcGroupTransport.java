package io.raftlog.client.internals.consumer.group;

import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.CommitOffsetsResponse;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.FindCoordinatorRequest;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.api.v1.GroupHeartbeatResponse;
import io.raftlog.api.v1.GroupServiceGrpc;
import io.raftlog.client.internals.Futures;
import io.raftlog.client.transport.ChannelPool;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** {@link GroupTransport} over the client's shared gRPC channels. Thread-safe. */
public final class GrpcGroupTransport implements GroupTransport {
    private final ChannelPool channels;

    public GrpcGroupTransport(ChannelPool channels) {
        this.channels = channels;
    }

    @Override
    public CompletableFuture<FindCoordinatorResponse> findCoordinator(String address, FindCoordinatorRequest request,
                                                                      long timeoutMs) {
        return call(address, timeoutMs, stub -> Futures.unary(o -> stub.findCoordinator(request, o)));
    }

    @Override
    public CompletableFuture<GroupHeartbeatResponse> heartbeat(String address, GroupHeartbeatRequest request,
                                                               long timeoutMs) {
        return call(address, timeoutMs, stub -> Futures.unary(o -> stub.heartbeat(request, o)));
    }

    @Override
    public CompletableFuture<CommitOffsetsResponse> commitOffsets(String address, CommitOffsetsRequest request,
                                                                  long timeoutMs) {
        return call(address, timeoutMs, stub -> Futures.unary(o -> stub.commitOffsets(request, o)));
    }

    @Override
    public CompletableFuture<FetchOffsetsResponse> fetchOffsets(String address, FetchOffsetsRequest request,
                                                                long timeoutMs) {
        return call(address, timeoutMs, stub -> Futures.unary(o -> stub.fetchOffsets(request, o)));
    }

    private <T> CompletableFuture<T> call(String address, long timeoutMs,
                                          Function<GroupServiceGrpc.GroupServiceStub, CompletableFuture<T>> call) {
        try {
            GroupServiceGrpc.GroupServiceStub stub = GroupServiceGrpc.newStub(channels.channel(address))
                    .withDeadlineAfter(Math.max(1, timeoutMs), TimeUnit.MILLISECONDS);
            return call.apply(stub);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
