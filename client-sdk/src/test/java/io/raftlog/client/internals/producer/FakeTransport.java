package io.raftlog.client.internals.producer;

import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.client.TopicPartition;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;

/** In-memory {@link ProducerTransport}: records what the sender sends; the test answers by hand. */
final class FakeTransport implements ProducerTransport {

    /** One decoded batch of a sent request. */
    record SentBatch(TopicPartition tp, long producerId, int baseSequence, List<String> values) {
    }

    /** One request as sent, with the future the test completes. */
    record Sent(String address, ProduceRequest request, CompletableFuture<ProduceResponse> answer) {
        List<SentBatch> batches() {
            List<SentBatch> out = new ArrayList<>();
            for (PartitionProduceData d : request.getPartitionsList()) {
                for (MutableRecordBatch b : MemoryRecords.readableRecords(d.getRecordBatch().asReadOnlyByteBuffer())
                        .batches()) {
                    List<String> values = new ArrayList<>();
                    for (Record r : b) {
                        values.add(StandardCharsets.UTF_8.decode(r.value()).toString());
                    }
                    out.add(new SentBatch(new TopicPartition(d.getTopic(), d.getPartition()), b.producerId(),
                            b.baseSequence(), values));
                }
            }
            return out;
        }

        SentBatch only() {
            List<SentBatch> all = batches();
            if (all.size() != 1) {
                throw new AssertionError("expected one batch, got " + all);
            }
            return all.get(0);
        }

        /** Answers every partition of the request with success at {@code baseOffset}. */
        void succeed(long baseOffset) {
            ProduceResponse.Builder r = ProduceResponse.newBuilder();
            for (PartitionProduceData d : request.getPartitionsList()) {
                r.addResults(PartitionProduceResult.newBuilder().setTopic(d.getTopic()).setPartition(d.getPartition())
                        .setBaseOffset(baseOffset));
            }
            answer.complete(r.build());
        }

        /** Answers every partition of the request with {@code code}. */
        void fail(ErrorCode code) {
            ProduceResponse.Builder r = ProduceResponse.newBuilder();
            for (PartitionProduceData d : request.getPartitionsList()) {
                r.addResults(PartitionProduceResult.newBuilder().setTopic(d.getTopic()).setPartition(d.getPartition())
                        .setBaseOffset(-1).setError(Error.newBuilder().setCode(code).setMessage("injected " + code)));
            }
            answer.complete(r.build());
        }
    }

    final List<Sent> sent = new ArrayList<>();
    final List<String> disconnects = new ArrayList<>();
    final List<CompletableFuture<InitProducerIdResponse>> producerIdRequests = new ArrayList<>();
    long nextProducerId = 100;
    /** Answer InitProducerId at once (otherwise the test completes {@link #producerIdRequests}). */
    boolean autoProducerId = true;
    boolean closed;

    @Override
    public CompletableFuture<ProduceResponse> send(String address, ProduceRequest request) {
        CompletableFuture<ProduceResponse> answer = new CompletableFuture<>();
        sent.add(new Sent(address, request, answer));
        return answer;
    }

    @Override
    public CompletableFuture<InitProducerIdResponse> initProducerId() {
        CompletableFuture<InitProducerIdResponse> f = new CompletableFuture<>();
        producerIdRequests.add(f);
        if (autoProducerId) {
            f.complete(InitProducerIdResponse.newBuilder().setProducerId(nextProducerId++).setProducerEpoch(0).build());
        }
        return f;
    }

    @Override
    public void disconnect(String address) {
        disconnects.add(address);
    }

    @Override
    public void close() {
        closed = true;
    }

    Sent last() {
        return sent.get(sent.size() - 1);
    }
}
