package io.raftlog.client.internals.consumer.group;

import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.CommitOffsetsResponse;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.FindCoordinatorRequest;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.api.v1.GroupHeartbeatResponse;
import java.util.concurrent.CompletableFuture;

/**
 * The GroupService RPCs a consumer sends, as futures, to a given broker address. Failures complete
 * the future exceptionally with the raw transport error (map it with
 * {@link io.raftlog.client.errors.Errors#fromThrowable}); the method itself never throws.
 * Thread-safe; futures may complete on any thread (gRPC callback threads in production).
 */
public interface GroupTransport {

    CompletableFuture<FindCoordinatorResponse> findCoordinator(String address, FindCoordinatorRequest request,
                                                               long timeoutMs);

    CompletableFuture<GroupHeartbeatResponse> heartbeat(String address, GroupHeartbeatRequest request, long timeoutMs);

    CompletableFuture<CommitOffsetsResponse> commitOffsets(String address, CommitOffsetsRequest request, long timeoutMs);

    CompletableFuture<FetchOffsetsResponse> fetchOffsets(String address, FetchOffsetsRequest request, long timeoutMs);
}
