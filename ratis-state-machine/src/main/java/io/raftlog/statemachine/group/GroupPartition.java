package io.raftlog.statemachine.group;

/** A topic partition as consumer-group logic sees it; ordered by topic, then partition. */
public record GroupPartition(String topic, int partition) implements Comparable<GroupPartition> {

  @Override
  public int compareTo(GroupPartition other) {
    // by hand rather than a Comparator chain: assignors sort tens of thousands of these
    int byTopic = topic.compareTo(other.topic);
    return byTopic != 0 ? byTopic : Integer.compare(partition, other.partition);
  }

  @Override
  public String toString() {
    return topic + "-" + partition;
  }
}
