package io.raftlog.client;

/**
 * A consumer's place in its group, as of its last {@link Consumer#poll} (so it matches
 * {@link Consumer#assignment()}).
 *
 * @param groupId the consumer's {@code group.id}
 * @param memberId the member id the consumer chose for its life; empty for a consumer that does
 *        not subscribe (it commits as a non-member)
 * @param memberEpoch the member epoch of the assignment the consumer reconciled to: 0 while
 *        joining, -1 when not a member. A partition is owned by at most one member at a given
 *        member epoch of that member's assignment.
 * @param groupEpoch the group epoch (generation) in that same heartbeat answer, -1 when not a member
 */
public record ConsumerGroupMetadata(String groupId, String memberId, int memberEpoch, int groupEpoch) {
}
