package io.raftlog.client;

/** How much durability the producer waits for before a send completes. */
public enum Acks {
    /** {@code acks=0}: complete once the broker accepted the request; offsets are reported as -1. */
    NONE("0"),
    /** {@code acks=1}: complete once the leader appended the batch to its local log. */
    LEADER("1"),
    /** {@code acks=all}: complete once the partition's Raft group committed the batch. */
    ALL("all");

    private final String cliName;

    Acks(String cliName) {
        this.cliName = cliName;
    }

    /** Parses {@code 0}, {@code 1}, {@code all} (also {@code -1}, as Kafka accepts it). */
    public static Acks parse(String text) {
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "0" -> NONE;
            case "1" -> LEADER;
            case "all", "-1" -> ALL;
            default -> throw new IllegalArgumentException("acks must be 0, 1 or all: " + text);
        };
    }

    @Override
    public String toString() {
        return cliName;
    }
}
