package io.raftlog.client;

/** State of a consumer group as reported by its coordinator. */
public enum GroupState {
    /** No members (the group may still have committed offsets). */
    EMPTY,
    /** Every member owns exactly its target assignment at the group epoch. */
    STABLE,
    /** Partitions are moving between members. */
    RECONCILING,
    /** A state this client does not know (reported by a newer broker). */
    UNKNOWN;

    /** The state named {@code name} (case-insensitive), or {@link #UNKNOWN}. */
    public static GroupState parse(String name) {
        for (GroupState s : values()) {
            if (s != UNKNOWN && s.name().equalsIgnoreCase(name)) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
