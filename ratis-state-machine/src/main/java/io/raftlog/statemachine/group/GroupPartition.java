package io.raftlog.statemachine.group;

import java.util.Comparator;

/** A topic partition as consumer-group logic sees it; ordered by topic, then partition. */
public record GroupPartition(String topic, int partition) implements Comparable<GroupPartition> {

  private static final Comparator<GroupPartition> ORDER =
      Comparator.comparing(GroupPartition::topic).thenComparingInt(GroupPartition::partition);

  @Override
  public int compareTo(GroupPartition other) {
    return ORDER.compare(this, other);
  }

  @Override
  public String toString() {
    return topic + "-" + partition;
  }
}
