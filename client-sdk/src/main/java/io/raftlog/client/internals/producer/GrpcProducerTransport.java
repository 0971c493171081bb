package io.raftlog.client.internals.producer;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.InitProducerIdRequest;
import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.client.errors.BrokerNotAvailableException;
import io.raftlog.client.internals.Futures;
import io.raftlog.client.transport.ChannelPool;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ProducerTransport} over gRPC: one {@code ProduceStream} per broker, opened on first use
 * and re-opened after it fails. Requests of a stream reach each partition's Raft group in the
 * order sent, which lets several batches per partition be in flight without reordering. Answers
 * are matched to requests by {@code correlation_id}, which this class assigns.
 *
 * <p>Thread-safety: {@link #send} and {@link #disconnect} are called by the sender thread; stream
 * callbacks arrive on gRPC threads. Each stream guards its writes with its own monitor.
 */
public final class GrpcProducerTransport implements ProducerTransport {
    private static final Logger log = LoggerFactory.getLogger(GrpcProducerTransport.class);

    private final ChannelPool channels;
    private final Supplier<List<String>> brokerAddresses;
    private final int requestTimeoutMs;
    private final Map<String, BrokerStream> streams = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param brokerAddresses where to ask for producer ids, most promising first
     * @param requestTimeoutMs deadline of InitProducerId calls
     */
    public GrpcProducerTransport(ChannelPool channels, Supplier<List<String>> brokerAddresses, int requestTimeoutMs) {
        this.channels = channels;
        this.brokerAddresses = brokerAddresses;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    @Override
    public CompletableFuture<ProduceResponse> send(String address, ProduceRequest request) {
        if (closed) {
            return CompletableFuture.failedFuture(new BrokerNotAvailableException("producer transport is closed"));
        }
        BrokerStream stream;
        try {
            stream = streams.compute(address, (a, current) -> current == null || current.broken ? open(a) : current);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return stream.send(request);
    }

    private BrokerStream open(String address) {
        BrokerStream stream = new BrokerStream(address);
        stream.requests = ProduceServiceGrpc.newStub(channels.channel(address)).produceStream(stream);
        log.debug("opened produce stream to {}", address);
        return stream;
    }

    @Override
    public CompletableFuture<InitProducerIdResponse> initProducerId() {
        return initProducerId(brokerAddresses.get(), 0, null);
    }

    private CompletableFuture<InitProducerIdResponse> initProducerId(List<String> addresses, int index,
                                                                   Throwable lastFailure) {
        if (index >= addresses.size()) {
            return CompletableFuture.failedFuture(lastFailure != null ? lastFailure
                    : new BrokerNotAvailableException("no broker known to ask for a producer id"));
        }
        CompletableFuture<InitProducerIdResponse> attempt;
        try {
            attempt = Futures.unary(o -> ProduceServiceGrpc.newStub(channels.channel(addresses.get(index)))
                    .withDeadlineAfter(requestTimeoutMs, TimeUnit.MILLISECONDS)
                    .initProducerId(InitProducerIdRequest.getDefaultInstance(), o));
        } catch (RuntimeException e) {
            attempt = CompletableFuture.failedFuture(e);
        }
        return attempt.handle((response, failure) -> failure == null ? CompletableFuture.completedFuture(response)
                : initProducerId(addresses, index + 1, failure)).thenCompose(f -> f);
    }

    @Override
    public void disconnect(String address) {
        BrokerStream stream = streams.remove(address);
        if (stream != null) {
            stream.cancel("request timed out; reconnecting");
        }
    }

    @Override
    public void close() {
        closed = true;
        for (BrokerStream stream : List.copyOf(streams.values())) {
            stream.halfCloseAndFail();
        }
        streams.clear();
    }

    /** One ordered produce stream and its unanswered requests. */
    private final class BrokerStream implements StreamObserver<ProduceResponse> {
        final String address;
        final Map<Long, CompletableFuture<ProduceResponse>> pending = new ConcurrentHashMap<>();
        StreamObserver<ProduceRequest> requests;
        volatile boolean broken;
        private long nextCorrelationId;

        BrokerStream(String address) {
            this.address = address;
        }

        synchronized CompletableFuture<ProduceResponse> send(ProduceRequest request) {
            CompletableFuture<ProduceResponse> answer = new CompletableFuture<>();
            if (broken) {
                answer.completeExceptionally(new BrokerNotAvailableException("produce stream to " + address
                        + " is broken"));
                return answer;
            }
            long id = nextCorrelationId++;
            pending.put(id, answer);
            try {
                requests.onNext(request.toBuilder().setCorrelationId(id).build());
            } catch (RuntimeException e) {
                fail(e);
            }
            return answer;
        }

        @Override
        public void onNext(ProduceResponse response) {
            CompletableFuture<ProduceResponse> answer = pending.remove(response.getCorrelationId());
            if (answer != null) {
                answer.complete(response);
            }
        }

        @Override
        public void onError(Throwable t) {
            log.debug("produce stream to {} failed: {}", address, t.toString());
            fail(t);
        }

        @Override
        public void onCompleted() {
            fail(Status.UNAVAILABLE.withDescription("broker " + address + " closed the produce stream")
                    .asRuntimeException());
        }

        /** Marks the stream unusable and fails its unanswered requests (they will be retried). */
        void fail(Throwable cause) {
            broken = true;
            streams.remove(address, this);
            for (Long id : List.copyOf(pending.keySet())) {
                CompletableFuture<ProduceResponse> answer = pending.remove(id);
                if (answer != null) {
                    answer.completeExceptionally(cause);
                }
            }
        }

        synchronized void cancel(String reason) {
            Status status = Status.UNAVAILABLE.withDescription(reason);
            try {
                requests.onError(status.asRuntimeException());
            } catch (RuntimeException e) {
                log.debug("cancelling produce stream to {} failed", address, e);
            }
            fail(status.asRuntimeException());
        }

        synchronized void halfCloseAndFail() {
            try {
                requests.onCompleted();
            } catch (RuntimeException e) {
                log.debug("closing produce stream to {} failed", address, e);
            }
            fail(Status.UNAVAILABLE.withDescription("producer closed").asRuntimeException());
        }
    }
}
