package io.raftlog.client;

import java.util.Objects;

/**
 * One consumer group as listed by {@link Admin#listGroups()}. Immutable.
 *
 * @param groupId the group id
 * @param state the group's state
 * @param members number of members
 */
public record GroupListing(String groupId, GroupState state, int members) {
    public GroupListing {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(state, "state");
    }
}
