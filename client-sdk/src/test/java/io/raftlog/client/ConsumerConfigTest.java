package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ConsumerConfigTest {

    @Test
    void defaults() {
        ConsumerConfig c = ConsumerConfig.fromProperties(Map.of("bootstrap.servers", "h:1"));
        assertEquals(List.of("h:1"), c.bootstrapServers());
        assertEquals(AutoOffsetReset.LATEST, c.autoOffsetReset());
        assertEquals(1, c.fetchMinBytes());
        assertEquals(500, c.fetchMaxWaitMs());
        assertEquals(1 << 20, c.maxPartitionFetchBytes());
        assertEquals(500, c.maxPollRecords());
        assertEquals(30_000, c.requestTimeoutMs());
        assertEquals(100, c.retryBackoffMs());
    }

    @Test
    void everyKeyIsApplied() {
        ConsumerConfig c = ConsumerConfig.fromProperties(Map.of(
                "bootstrap.servers", "h:1, h:2", "auto.offset.reset", "Earliest", "fetch.min.bytes", "1024",
                "fetch.max.wait.ms", "30000", "max.partition.fetch.bytes", "65536", "max.poll.records", "7",
                "request.timeout.ms", "1234", "retry.backoff.ms", "0"));
        assertEquals(List.of("h:1", "h:2"), c.bootstrapServers());
        assertEquals(AutoOffsetReset.EARLIEST, c.autoOffsetReset());
        assertEquals(1024, c.fetchMinBytes());
        assertEquals(30_000, c.fetchMaxWaitMs());
        assertEquals(65536, c.maxPartitionFetchBytes());
        assertEquals(7, c.maxPollRecords());
        assertEquals(1234, c.requestTimeoutMs());
        assertEquals(0, c.retryBackoffMs());
        assertEquals(AutoOffsetReset.NONE,
                ConsumerConfig.fromProperties(Map.of("bootstrap.servers", "h:1", "auto.offset.reset", "none"))
                        .autoOffsetReset());
    }

    @Test
    void unknownKeysAreRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConsumerConfig.fromProperties(
                Map.of("bootstrap.servers", "h:1", "group.id", "g", "enable.auto.commit", "true")));
        assertTrue(e.getMessage().contains("[enable.auto.commit, group.id]"), e.getMessage());
        assertTrue(e.getMessage().contains("fetch.max.wait.ms"), "lists the known keys: " + e.getMessage());
    }

    @Test
    void invalidValuesNameTheirKey() {
        Map<String, String> bad = Map.of(
                "auto.offset.reset", "smallest",
                "fetch.min.bytes", "-1",
                "fetch.max.wait.ms", "30001",
                "max.partition.fetch.bytes", "0",
                "max.poll.records", "0",
                "request.timeout.ms", "0",
                "retry.backoff.ms", "-5");
        bad.forEach((key, value) -> {
            Map<String, String> props = new HashMap<>(Map.of("bootstrap.servers", "h:1"));
            props.put(key, value);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ConsumerConfig.fromProperties(props), key + "=" + value);
            assertTrue(e.getMessage().contains(key), e.getMessage());
        });
        IllegalArgumentException notNumber = assertThrows(IllegalArgumentException.class, () ->
                ConsumerConfig.fromProperties(Map.of("bootstrap.servers", "h:1", "max.poll.records", "lots")));
        assertTrue(notNumber.getMessage().contains("max.poll.records must be an integer"), notNumber.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConsumerConfig.fromProperties(Map.of()),
                "bootstrap.servers is required");
        assertThrows(IllegalArgumentException.class,
                () -> ConsumerConfig.fromProperties(Map.of("bootstrap.servers", "nohostport")));
    }

    @Test
    void builderValidatesToo() {
        assertThrows(IllegalArgumentException.class,
                () -> ConsumerConfig.builder().bootstrapServers("h:1").maxPollRecords(0).build());
        assertThrows(IllegalArgumentException.class,
                () -> ConsumerConfig.builder().bootstrapServers("h:1").fetchMaxWaitMs(-1).build());
    }
}
