package io.raftlog.client;

import java.util.List;
import java.util.Objects;

/**
 * One member of a consumer group as described by {@link Admin#describeGroup(String)}. Immutable.
 *
 * @param memberId the member id (chosen by the consumer, kept across rejoins)
 * @param clientId the consumer's free-form client id ({@code ""} when none)
 * @param memberEpoch the member's epoch
 * @param subscribedTopics the topic names the member subscribes to
 * @param assignment the partitions the member owns (or may still own while it revokes some)
 * @param pendingRevocation partitions the member has been asked to give up and has not confirmed yet
 * @param targetAssignment the partitions the assignor wants the member to own at the group epoch
 * @param sessionTimeoutMs the member is expelled after this long without a heartbeat
 */
public record MemberDescription(String memberId, String clientId, int memberEpoch, List<String> subscribedTopics,
                                List<TopicPartition> assignment, List<TopicPartition> pendingRevocation,
                                List<TopicPartition> targetAssignment, int sessionTimeoutMs) {
    public MemberDescription {
        Objects.requireNonNull(memberId, "memberId");
        Objects.requireNonNull(clientId, "clientId");
        subscribedTopics = List.copyOf(subscribedTopics);
        assignment = List.copyOf(assignment);
        pendingRevocation = List.copyOf(pendingRevocation);
        targetAssignment = List.copyOf(targetAssignment);
    }
}
