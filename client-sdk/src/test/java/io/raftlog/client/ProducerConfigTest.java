package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.raftlog.client.errors.ConfigException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ProducerConfigTest {

    @Test
    void defaults() {
        ProducerConfig c = ProducerConfig.builder().bootstrapServers("h:1").build();
        assertEquals(Acks.ALL, c.acks());
        assertEquals(5, c.lingerMs());
        assertEquals(262_144, c.batchSizeBytes());
        assertEquals(32L << 20, c.bufferMemoryBytes());
        assertEquals(60_000, c.maxBlockMs());
        assertEquals(5, c.maxInFlightPerPartition());
        assertEquals(ProducerConfig.CompressionType.NONE, c.compression());
        assertEquals(120_000, c.deliveryTimeoutMs());
        assertEquals(30_000, c.requestTimeoutMs());
        assertEquals(100, c.retryBackoffMs());
    }

    @Test
    void fromKafkaStyleProperties() {
        Map<String, String> p = new HashMap<>();
        p.put("bootstrap.servers", "a:1,b:2");
        p.put("acks", "1");
        p.put("enable.idempotence", "false");
        p.put("linger.ms", "20");
        p.put("batch.size", "65536");
        p.put("buffer.memory", "1048576");
        p.put("max.block.ms", "500");
        p.put("max.in.flight.requests.per.partition", "10");
        p.put("compression.type", "lz4");
        p.put("delivery.timeout.ms", "9000");
        p.put("request.timeout.ms", "4000");
        p.put("retry.backoff.ms", "7");
        ProducerConfig c = ProducerConfig.fromProperties(p);
        assertEquals(java.util.List.of("a:1", "b:2"), c.bootstrapServers());
        assertEquals(Acks.LEADER, c.acks());
        assertFalse(c.idempotenceEffective());
        assertEquals(20, c.lingerMs());
        assertEquals(65_536, c.batchSizeBytes());
        assertEquals(1 << 20, c.bufferMemoryBytes());
        assertEquals(500, c.maxBlockMs());
        assertEquals(10, c.maxInFlightPerPartition());
        assertEquals(ProducerConfig.CompressionType.LZ4, c.compression());
        assertEquals(9000, c.deliveryTimeoutMs());
        assertEquals(4000, c.requestTimeoutMs());
        assertEquals(7, c.retryBackoffMs());
    }

    private static String badKey(Map<String, String> extra) {
        Map<String, String> p = new HashMap<>(Map.of("bootstrap.servers", "h:1"));
        p.putAll(extra);
        return assertThrows(ConfigException.class, () -> ProducerConfig.fromProperties(p)).key();
    }

    @Test
    void everyBadValueNamesItsKey() {
        assertEquals("linger.msx", badKey(Map.of("linger.msx", "1")));
        assertEquals("acks", badKey(Map.of("acks", "2")));
        assertEquals("enable.idempotence", badKey(Map.of("enable.idempotence", "yes")));
        assertEquals("linger.ms", badKey(Map.of("linger.ms", "-1")));
        assertEquals("batch.size", badKey(Map.of("batch.size", "0")));
        assertEquals("buffer.memory", badKey(Map.of("buffer.memory", "100")));
        assertEquals("max.block.ms", badKey(Map.of("max.block.ms", "x")));
        assertEquals("max.in.flight.requests.per.partition",
                badKey(Map.of("max.in.flight.requests.per.partition", "6")));
        assertEquals("compression.type", badKey(Map.of("compression.type", "zstd")));
        assertEquals("delivery.timeout.ms", badKey(Map.of("delivery.timeout.ms", "0")));
        assertEquals("request.timeout.ms", badKey(Map.of("request.timeout.ms", "0")));
        assertEquals("retry.backoff.ms", badKey(Map.of("retry.backoff.ms", "-5")));
        assertEquals("metadata.max.age.ms", badKey(Map.of("metadata.max.age.ms", "-1")));
        assertEquals("metadata.max.age.ms", badKey(Map.of("metadata.max.age.ms", "soon")));
        assertEquals("bootstrap.servers", badKey(Map.of("bootstrap.servers", "nohost")));
        assertEquals("bootstrap.servers", assertThrows(ConfigException.class,
                () -> ProducerConfig.fromProperties(Map.of("acks", "1"))).key());
    }

    @Test
    void moreInFlightIsAllowedWithoutIdempotence() {
        assertEquals(10, ProducerConfig.builder().bootstrapServers("h:1").idempotence(false)
                .maxInFlightPerPartition(10).build().maxInFlightPerPartition());
    }

    @Test
    void metadataMaxAgeDefaultsToKafkasAndIsSet() {
        assertEquals(300_000, ProducerConfig.builder().bootstrapServers("h:1").build().metadataMaxAgeMs());
        assertEquals(1234, ProducerConfig.fromProperties(Map.of("bootstrap.servers", "h:1",
                "metadata.max.age.ms", "1234")).metadataMaxAgeMs());
        assertEquals(50, ProducerConfig.builder().bootstrapServers("h:1").metadataMaxAgeMs(50).build()
                .metadataMaxAgeMs());
    }
}
