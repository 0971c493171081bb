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
        assertEquals("", c.clientId());
        assertEquals(java.util.Optional.empty(), c.groupId());
        assertEquals(10_000, c.sessionTimeoutMs());
        assertEquals(1_000, c.heartbeatIntervalMs());
        assertTrue(c.enableAutoCommit());
        assertEquals(5_000, c.autoCommitIntervalMs());
        assertEquals("sticky", c.groupRemoteAssignor());
    }

    @Test
    void groupKeysAreApplied() {
        ConsumerConfig c = ConsumerConfig.fromProperties(Map.of("bootstrap.servers", "h:1", "client.id", "billing-1",
                "group.id", "billing", "session.timeout.ms", "30000", "heartbeat.interval.ms", "3000",
                "enable.auto.commit", "FALSE", "auto.commit.interval.ms", "0", "group.remote.assignor", "RoundRobin"));
        assertEquals("billing-1", c.clientId());
        assertEquals(java.util.Optional.of("billing"), c.groupId());
        assertEquals(30_000, c.sessionTimeoutMs());
        assertEquals(3_000, c.heartbeatIntervalMs());
        assertEquals(false, c.enableAutoCommit());
        assertEquals(0, c.autoCommitIntervalMs());
        assertEquals("roundrobin", c.groupRemoteAssignor());
        assertEquals(java.util.Optional.empty(),
                ConsumerConfig.fromProperties(Map.of("bootstrap.servers", "h:1", "group.id", "")).groupId(),
                "an empty group.id is no group, as in Kafka");
    }

    @Test
    void invalidGroupValuesNameTheirKey() {
        assertThrows(IllegalArgumentException.class,
                () -> ConsumerConfig.builder().bootstrapServers("h:1").groupId("  ").build());
        Map<String, String> bad = Map.of(
                "session.timeout.ms", "0",
                "heartbeat.interval.ms", "10000",
                "enable.auto.commit", "yes",
                "auto.commit.interval.ms", "-1",
                "group.remote.assignor", "uniform");
        bad.forEach((key, value) -> {
            Map<String, String> props = new HashMap<>(Map.of("bootstrap.servers", "h:1"));
            props.put(key, value);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ConsumerConfig.fromProperties(props), key + "=" + value);
            assertTrue(e.getMessage().contains(key), e.getMessage());
        });
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
                Map.of("bootstrap.servers", "h:1", "isolation.level", "read_committed", "max.poll.interval.ms", "1")));
        assertTrue(e.getMessage().contains("[isolation.level, max.poll.interval.ms]"), e.getMessage());
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
                "retry.backoff.ms", "-5",
                "metadata.max.age.ms", "-1");
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

    @Test
    void metadataMaxAgeDefaultsToKafkasAndIsSet() {
        assertEquals(300_000, ConsumerConfig.fromProperties(Map.of("bootstrap.servers", "h:1")).metadataMaxAgeMs());
        assertEquals(1000, ConsumerConfig.fromProperties(Map.of("bootstrap.servers", "h:1",
                "metadata.max.age.ms", "1000")).metadataMaxAgeMs());
        assertEquals(20, AdminConfig.builder().bootstrapServers("h:1").metadataMaxAgeMs(20).build().metadataMaxAgeMs());
    }
}
