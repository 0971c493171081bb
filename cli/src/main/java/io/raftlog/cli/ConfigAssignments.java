package io.raftlog.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Topic configs given on the command line as repeated {@code --config KEY=VALUE} options, and
 * their display as {@code key=value,key=value} (the form of Kafka's {@code kafka-topics
 * --describe}). Keys and values are not judged here: the broker does that and says what is wrong.
 */
final class ConfigAssignments {

    private ConfigAssignments() {
    }

    /**
     * Parses {@code KEY=VALUE} arguments in order; the value is everything after the first '='.
     *
     * @throws IllegalArgumentException for an argument without '=' or without a key, or a key given twice
     */
    static Map<String, String> parse(String option, List<String> arguments) {
        Map<String, String> configs = new LinkedHashMap<>();
        for (String argument : arguments) {
            int eq = argument.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException(option + " must be KEY=VALUE, e.g. " + option
                        + " retention.ms=86400000; got '" + argument + "'");
            }
            String key = argument.substring(0, eq).trim();
            if (key.isEmpty()) {
                throw new IllegalArgumentException(option + " needs a key before '=', got '" + argument + "'");
            }
            if (configs.put(key, argument.substring(eq + 1)) != null) {
                throw new IllegalArgumentException(option + " " + key + " is given more than once");
            }
        }
        return configs;
    }

    /** {@code key=value} pairs joined by commas, in the map's order; empty for no entries. */
    static String format(Map<String, String> configs) {
        return configs.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }
}
