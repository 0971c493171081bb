package io.raftlog.client;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A consumer group as described by {@link Admin#describeGroup(String)}. Immutable.
 *
 * @param groupId the group id
 * @param state the group's state
 * @param groupEpoch the group epoch (generation): bumped on every membership, subscription or topic change
 * @param assignor the server-side assignor the group uses ({@code ""} when it has no members)
 * @param members the members, in the coordinator's order
 * @param offsets the committed offsets, ordered by topic and partition; partitions without a
 *        committed offset are absent
 */
public record GroupDescription(String groupId, GroupState state, int groupEpoch, String assignor,
                               List<MemberDescription> members, Map<TopicPartition, CommittedOffset> offsets) {
    public GroupDescription {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(assignor, "assignor");
        members = List.copyOf(members);
        offsets = Collections.unmodifiableMap(new LinkedHashMap<>(offsets));
    }
}
