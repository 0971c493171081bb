package io.raftlog.client.internals.consumer;

import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResponse;
import java.util.concurrent.CompletableFuture;

/**
 * The RPCs the consumer sends, as futures. Failures complete the future exceptionally with the raw
 * transport error (map it with {@link io.raftlog.client.errors.Errors#fromThrowable}).
 * {@link CompletableFuture#cancel cancelling} a returned future cancels the call. Thread-safe.
 */
public interface ConsumerTransport {

    /** Sends a fetch to the broker at {@code address}; the call fails after {@code timeoutMs}. */
    CompletableFuture<FetchResponse> fetch(String address, FetchRequest request, long timeoutMs);

    /** Sends a ListOffsets to the broker at {@code address}; the call fails after {@code timeoutMs}. */
    CompletableFuture<ListOffsetsResponse> listOffsets(String address, ListOffsetsRequest request, long timeoutMs);
}
