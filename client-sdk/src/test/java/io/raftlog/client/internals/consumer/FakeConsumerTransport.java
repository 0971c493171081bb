package io.raftlog.client.internals.consumer;

import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Records every request with an uncompleted future; the test completes them. */
final class FakeConsumerTransport implements ConsumerTransport {
    record Call<Q, R>(String address, Q request, CompletableFuture<R> future) {
        boolean pending() {
            return !future.isDone();
        }
    }

    final List<Call<FetchRequest, FetchResponse>> fetches = new ArrayList<>();
    final List<Call<ListOffsetsRequest, ListOffsetsResponse>> listOffsets = new ArrayList<>();

    @Override
    public CompletableFuture<FetchResponse> fetch(String address, FetchRequest request, long timeoutMs) {
        CompletableFuture<FetchResponse> f = new CompletableFuture<>();
        fetches.add(new Call<>(address, request, f));
        return f;
    }

    @Override
    public CompletableFuture<ListOffsetsResponse> listOffsets(String address, ListOffsetsRequest request,
                                                              long timeoutMs) {
        CompletableFuture<ListOffsetsResponse> f = new CompletableFuture<>();
        listOffsets.add(new Call<>(address, request, f));
        return f;
    }

    List<Call<FetchRequest, FetchResponse>> pendingFetches() {
        return fetches.stream().filter(Call::pending).toList();
    }

    List<Call<ListOffsetsRequest, ListOffsetsResponse>> pendingListOffsets() {
        return listOffsets.stream().filter(Call::pending).toList();
    }

    Call<ListOffsetsRequest, ListOffsetsResponse> lastListOffsets() {
        return listOffsets.get(listOffsets.size() - 1);
    }

    Call<FetchRequest, FetchResponse> lastFetch() {
        return fetches.get(fetches.size() - 1);
    }
}
