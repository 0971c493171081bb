package io.raftlog.client;

import java.util.Objects;

/**
 * What a preferred leader election did for one partition ({@link Admin#electPreferredLeaders}).
 *
 * @param topic topic name
 * @param partition partition id
 * @param preferredLeader broker id of the preferred replica: the first of the partition's assigned replicas
 * @param leader broker id of the leader after the attempt, -1 when unknown
 * @param outcome whether leadership moved, was already there, or could not be moved
 * @param message why the election failed, for {@link Outcome#FAILED}; {@code ""} otherwise
 */
public record PreferredLeaderElection(String topic, int partition, int preferredLeader, int leader,
        Outcome outcome, String message) {

    /** The result of electing the preferred replica of one partition. */
    public enum Outcome {
        /** Leadership was moved to the preferred replica, which leads now. */
        ELECTED,
        /** The preferred replica already led the partition: nothing was done. */
        ALREADY_PREFERRED,
        /** Leadership could not be moved (preferred replica down, not in sync, timeout): see {@code message}. */
        FAILED
    }

    public PreferredLeaderElection {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(message, "message");
    }

    /** The partition this result is about. */
    public TopicPartition topicPartition() {
        return new TopicPartition(topic, partition);
    }
}
