package io.raftlog.client;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A topic and all of its partitions, in partition order, with its configuration.
 *
 * @param config every topic config key with the value in force (the topic's override, else the
 *     broker default), sorted by key; empty from a broker that does not report configs
 * @param configOverrides only the keys set for this topic, sorted by key
 */
public record TopicDescription(String name, String topicId, int replicationFactor,
                               List<PartitionInfo> partitions, Map<String, String> config,
                               Map<String, String> configOverrides) {
    public TopicDescription {
        partitions = List.copyOf(partitions);
        config = sorted(config);
        configOverrides = sorted(configOverrides);
    }

    /** A description without configuration (both maps empty). */
    public TopicDescription(String name, String topicId, int replicationFactor, List<PartitionInfo> partitions) {
        this(name, topicId, replicationFactor, partitions, Map.of(), Map.of());
    }

    private static Map<String, String> sorted(Map<String, String> map) {
        return Collections.unmodifiableMap(new TreeMap<>(map));
    }
}
