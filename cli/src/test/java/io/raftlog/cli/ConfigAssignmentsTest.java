package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigAssignmentsTest {

    @Test
    void parsesKeyValuePairsInOrder() {
        Map<String, String> configs = ConfigAssignments.parse("--config",
                List.of("segment.bytes=1048576", "retention.ms=86400000", "cleanup.policy=a=b", "retention.bytes="));
        assertEquals(List.of("segment.bytes", "retention.ms", "cleanup.policy", "retention.bytes"),
                List.copyOf(configs.keySet()));
        assertEquals("a=b", configs.get("cleanup.policy"), "the value is everything after the first '='");
        assertEquals("", configs.get("retention.bytes"), "an empty value is for the broker to judge");
        assertEquals(Map.of(), ConfigAssignments.parse("--config", List.of()));
    }

    @Test
    void refusesWhatIsNotKeyEqualsValue() {
        assertEquals("--config must be KEY=VALUE, e.g. --config retention.ms=86400000; got 'retention.ms'",
                assertThrows(IllegalArgumentException.class,
                        () -> ConfigAssignments.parse("--config", List.of("retention.ms"))).getMessage());
        assertEquals("--config needs a key before '=', got ' =5'", assertThrows(IllegalArgumentException.class,
                () -> ConfigAssignments.parse("--config", List.of(" =5"))).getMessage());
        assertEquals("--config retention.ms is given more than once", assertThrows(IllegalArgumentException.class,
                () -> ConfigAssignments.parse("--config", List.of("retention.ms=1", "retention.ms=2"))).getMessage());
    }

    @Test
    void formatsLikeKafkaTopicsDescribe() {
        Map<String, String> configs = new LinkedHashMap<>();
        assertEquals("", ConfigAssignments.format(configs));
        configs.put("retention.ms", "86400000");
        configs.put("segment.bytes", "1048576");
        assertEquals("retention.ms=86400000,segment.bytes=1048576", ConfigAssignments.format(configs));
    }
}
