package io.raftlog.statemachine.group;

import java.util.Map;
import java.util.Set;
import java.util.SortedSet;

/**
 * Computes a consumer group's target assignment on the server, inside the metadata state machine.
 * Implementations must be pure and deterministic: every replica applies the same command and must
 * arrive at the same assignment, so the result may depend only on the contents of the inputs.
 */
public interface PartitionAssignor {

  /** "range", "roundrobin" or "sticky". */
  String name();

  /**
   * @param subscriptions member id -> subscribed topic names, for every member of the group (a
   *     member may subscribe to nothing)
   * @param partitionCounts topic -> partition count of existing topics; a subscribed topic that is
   *     absent does not exist (nothing to assign)
   * @param previousTarget member id -> its previous target assignment; may name members that left,
   *     topics no longer subscribed, partitions that no longer exist. Only the sticky assignor uses
   *     it.
   * @return member id -> assigned partitions (a SortedSet), with an entry (possibly empty) for every
   *     member in subscriptions; every existing partition of every subscribed topic is assigned to
   *     exactly one member that subscribes to its topic; nothing else is assigned.
   */
  Map<String, SortedSet<GroupPartition>> assign(Map<String, Set<String>> subscriptions,
      Map<String, Integer> partitionCounts, Map<String, Set<GroupPartition>> previousTarget);
}
