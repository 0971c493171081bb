package io.raftlog.client.internals.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.fake.FakeCluster.ProduceCall;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The real producer against the fake cluster when the broker forgets the producer id. */
@Timeout(20)
class ProducerIdExpiryTest {
    private FakeCluster cluster;
    private Producer<String, String> producer;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("t", 3, 2);
        producer = Producer.create(ProducerConfig.builder().bootstrapServers(cluster.address(1))
                .channelFactory(cluster.channelFactory()).retryBackoffMs(10).requestTimeoutMs(3000).build(),
                new StringSerializer(), new StringSerializer());
    }

    @AfterEach
    void tearDown() {
        producer.close();
        cluster.close();
    }

    @Test
    void unknownProducerIdAfterExpiryIsResentOnceUnderANewProducerIdFromSequenceZero() throws Exception {
        TopicPartition tp = new TopicPartition("t", 1);
        assertEquals(0, producer.send(new ProducerRecord<>("t", 1, null, "a")).get(10, TimeUnit.SECONDS).offset());
        cluster.expireProducerIds(tp);
        assertEquals(1, producer.send(new ProducerRecord<>("t", 1, null, "b")).get(10, TimeUnit.SECONDS).offset());

        assertEquals(List.of("a", "b"), cluster.log(tp).stream().map(r -> r.getValue().toStringUtf8()).toList());
        List<ProduceCall> calls = cluster.produceCalls();
        assertEquals(3, calls.size(), "" + calls);
        assertEquals(calls.get(0).producerId(), calls.get(1).producerId());
        assertEquals(1, calls.get(1).baseSequence(), "rejected: the broker no longer knows the id");
        assertNotEquals(calls.get(1).producerId(), calls.get(2).producerId());
        assertEquals(0, calls.get(2).baseSequence());
    }
}
