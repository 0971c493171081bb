package io.raftlog.client.internals;

import io.grpc.stub.StreamObserver;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.RaftlogException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/** Bridges gRPC async stubs to {@link CompletableFuture} and blocks on futures with typed errors. */
public final class Futures {
    private Futures() {
    }

    /** Starts a unary call and returns its result as a future; gRPC errors stay raw (map with {@link Errors}). */
    public static <T> CompletableFuture<T> unary(Consumer<StreamObserver<T>> call) {
        CompletableFuture<T> future = new CompletableFuture<>();
        call.accept(new StreamObserver<>() {
            private T value;

            @Override
            public void onNext(T v) {
                value = v;
            }

            @Override
            public void onError(Throwable t) {
                future.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                future.complete(value);
            }
        });
        return future;
    }

    /**
     * Waits for {@code future} and returns its value, or throws the failure mapped to a
     * {@link RaftlogException}. Interruption restores the flag and throws.
     */
    public static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw Errors.fromThrowable(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RaftlogException("interrupted while waiting", e);
        }
    }
}
