package io.raftlog.client.internals.producer;

import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import java.util.concurrent.CompletableFuture;

/**
 * How the {@link Sender} talks to brokers. The production implementation is
 * {@link GrpcProducerTransport}; tests use an in-memory fake whose futures they complete by hand.
 *
 * <p>Contract: methods are called from the sender thread only and never throw (failures complete
 * the returned future exceptionally, with a gRPC status or a {@code RaftlogException}). Requests
 * sent to one address reach each partition's Raft group in call order (one ordered stream per
 * broker); their answers may complete in any order and on any thread.
 */
public interface ProducerTransport extends AutoCloseable {

    /** Sends {@code request} to the broker at {@code address} ({@code host:port}). */
    CompletableFuture<ProduceResponse> send(String address, ProduceRequest request);

    /** Allocates a fresh producer id (epoch 0) from any reachable broker. */
    CompletableFuture<InitProducerIdResponse> initProducerId();

    /**
     * Drops the connection (stream) to {@code address}, failing its unanswered requests; the next
     * {@link #send} opens a new one. Used after a request timed out, as the stream may be stuck.
     */
    void disconnect(String address);

    /** Closes every connection, failing unanswered requests. */
    @Override
    void close();
}
