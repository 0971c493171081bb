package io.raftlog.client.internals.consumer;

import io.grpc.Context;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResponse;
import io.raftlog.client.internals.Futures;
import io.raftlog.client.transport.ChannelPool;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** {@link ConsumerTransport} over the client's shared gRPC channels. Thread-safe. */
public final class GrpcConsumerTransport implements ConsumerTransport {
    private final ChannelPool channels;

    public GrpcConsumerTransport(ChannelPool channels) {
        this.channels = channels;
    }

    @Override
    public CompletableFuture<FetchResponse> fetch(String address, FetchRequest request, long timeoutMs) {
        return cancellable(address, timeoutMs, stub -> Futures.unary(o -> stub.fetch(request, o)));
    }

    @Override
    public CompletableFuture<ListOffsetsResponse> listOffsets(String address, ListOffsetsRequest request,
                                                              long timeoutMs) {
        return cancellable(address, timeoutMs, stub -> Futures.unary(o -> stub.listOffsets(request, o)));
    }

    /**
     * Starts the call in its own cancellable gRPC context, so cancelling the returned future (a
     * seek discarding a long-poll) also cancels the call on the wire instead of leaving it parked.
     */
    private <T> CompletableFuture<T> cancellable(String address, long timeoutMs,
                                                 Function<FetchServiceGrpc.FetchServiceStub, CompletableFuture<T>> call) {
        FetchServiceGrpc.FetchServiceStub stub = FetchServiceGrpc.newStub(channels.channel(address))
                .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
        Context.CancellableContext context = Context.current().withCancellation();
        CompletableFuture<T> result = new CompletableFuture<>();
        CompletableFuture<T> rpc;
        try {
            rpc = context.call(() -> call.apply(stub));
        } catch (Exception e) {
            context.cancel(e);
            result.completeExceptionally(e);
            return result;
        }
        rpc.whenComplete((value, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(value);
            }
            context.cancel(null);
        });
        result.whenComplete((value, error) -> {
            if (result.isCancelled()) {
                context.cancel(null);
            }
        });
        return result;
    }
}
