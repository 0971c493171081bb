package io.raftlog.broker.metadata;

import io.raftlog.api.v1.ErrorCode;
import io.raftlog.broker.BrokerException;
import io.raftlog.log.v1.BrokerRecord;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.metadata.TopicRules;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * This broker's latest view of cluster metadata: the image last applied by the local metadata
 * replica (or polled from the metadata group by a broker that is not a voter), plus broker
 * liveness judged with the local clock.
 */
public final class MetadataView {

  private final Clock clock;
  private final long sessionTimeoutMs;
  private final List<Consumer<MetadataImage>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<MetadataImage>> caughtUpListeners = new CopyOnWriteArrayList<>();
  private volatile MetadataImage image = MetadataImage.getDefaultInstance();
  /** Metadata log index this broker's view must reach before it may say "no such topic". */
  private volatile long caughtUpAtIndex = Long.MAX_VALUE;
  private final int brokerId;

  public MetadataView(int brokerId, Clock clock, long sessionTimeoutMs) {
    this.brokerId = brokerId;
    this.clock = clock;
    this.sessionTimeoutMs = sessionTimeoutMs;
  }

  /**
   * Records a metadata log index known to be committed (this broker's registration): once the
   * local view has applied it, the view is at least as new as this broker's start.
   */
  public void markCommittedAt(long index) {
    caughtUpAtIndex = Math.min(caughtUpAtIndex, index);
    MetadataImage current = image;
    if (isCaughtUpAt(current)) {
      // Heard of at once, even if no newer image follows for a while.
      caughtUpListeners.forEach(l -> l.accept(current));
    }
  }

  /** Whether {@code image} is at least as new as the metadata log at this broker's registration. */
  public boolean isCaughtUpAt(MetadataImage image) {
    return image.getAppliedIndex() >= caughtUpAtIndex;
  }

  /**
   * True once the view has caught up with the metadata log as of this broker's registration. A
   * restarted broker replays (or polls) metadata for a moment; until then a missing topic may
   * simply not be applied yet.
   */
  public boolean isCaughtUp() {
    return isCaughtUpAt(image);
  }

  /**
   * Throws a retriable BROKER_NOT_AVAILABLE unless {@link #isCaughtUp()}: an answer built from a
   * lagging view (a topic list, "no such topic") would mislead the client.
   */
  public void requireCaughtUp() {
    if (!isCaughtUp()) {
      throw new BrokerException(ErrorCode.BROKER_NOT_AVAILABLE, "broker " + brokerId
          + " is starting and has not caught up with cluster metadata yet; retry or ask another broker");
    }
  }

  /**
   * The topic, or a clear error: INVALID_ARGUMENT for a name no topic can have (saying which rule
   * it breaks); UNKNOWN_TOPIC_OR_PARTITION when this view is caught up, else a retriable
   * BROKER_NOT_AVAILABLE (another broker, or this one a moment later, will know).
   */
  public TopicRecord requireTopic(String name) {
    Optional<TopicRecord> topic = topic(name);
    if (topic.isPresent()) {
      return topic.get();
    }
    requireValidName(name);
    requireCaughtUp();
    throw new BrokerException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + name + "' does not exist");
  }

  /** INVALID_ARGUMENT, saying which rule it breaks, for a name no topic can have. */
  public static void requireValidName(String name) {
    String problem = TopicRules.checkName(name);
    if (problem != null) {
      throw new BrokerException(ErrorCode.INVALID_ARGUMENT, problem);
    }
  }

  /**
   * UNKNOWN_TOPIC_OR_PARTITION unless {@code partition} is one of the topic's, with a message like
   * "partition 7 does not exist: topic 'orders' has 3 partitions (0-2)".
   */
  public static void requirePartition(TopicRecord topic, int partition) {
    int count = topic.getAssignmentsCount();
    if (partition < 0 || partition >= count) {
      throw new BrokerException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "partition " + partition
          + " does not exist: topic '" + topic.getName() + "' has " + count + (count == 1 ? " partition (0)"
          : " partitions (0-" + (count - 1) + ")"));
    }
  }

  /** Publishes a newer image; older ones (a poll racing an apply) are ignored. */
  public void update(MetadataImage next) {
    synchronized (this) {
      if (next.getAppliedIndex() < image.getAppliedIndex()) {
        return;
      }
      image = next;
    }
    for (Consumer<MetadataImage> l : listeners) {
      l.accept(next);
    }
    if (isCaughtUpAt(next)) {
      caughtUpListeners.forEach(l -> l.accept(next));
    }
  }

  public void addListener(Consumer<MetadataImage> listener) {
    listeners.add(listener);
  }

  /**
   * Listens to images of a caught-up view only ({@link #isCaughtUp}), and hears of the current
   * image when the view becomes caught up. For decisions an image replayed from before this
   * broker's start would get wrong: a restarted voter applies its whole metadata log again, and
   * an old image can name this broker as a full replica of a partition it has since left and is
   * now rejoining as a new one.
   */
  public void addCaughtUpListener(Consumer<MetadataImage> listener) {
    caughtUpListeners.add(listener);
  }

  public MetadataImage image() {
    return image;
  }

  public Optional<TopicRecord> topic(String name) {
    return image.getTopicsList().stream().filter(t -> t.getName().equals(name)).findFirst();
  }

  /** The topic with this id (a topic re-created under the same name has another id). */
  public Optional<TopicRecord> topicById(String topicId) {
    return image.getTopicsList().stream().filter(t -> t.getTopicId().equals(topicId)).findFirst();
  }

  public Optional<BrokerRecord> broker(int id) {
    return image.getBrokersList().stream().filter(b -> b.getBrokerId() == id).findFirst();
  }

  public boolean isAlive(BrokerRecord broker) {
    return clock.millis() - broker.getLastHeartbeatMs() <= sessionTimeoutMs;
  }

  /** Ids of live brokers, ascending. */
  public List<Integer> liveBrokerIds() {
    return image.getBrokersList().stream().filter(this::isAlive).map(BrokerRecord::getBrokerId).sorted().toList();
  }

  /**
   * Why each registered broker outside {@link #placementBrokerIds()} takes no new replicas, e.g.
   * "broker 3: no heartbeat for 3412 ms (broker.session.timeout.ms = 3000)"; empty if none.
   */
  public String notPlaceableReasons() {
    long now = clock.millis();
    return image.getBrokersList().stream()
        .sorted(java.util.Comparator.comparingInt(BrokerRecord::getBrokerId))
        .filter(b -> !isAlive(b) || b.getDecommissioned())
        .map(b -> "broker " + b.getBrokerId() + ": " + (!isAlive(b) ? "no heartbeat for "
            + (now - b.getLastHeartbeatMs()) + " ms (broker.session.timeout.ms = " + sessionTimeoutMs + ")"
            : "decommissioned"))
        .collect(java.util.stream.Collectors.joining("; "));
  }

  /** Ids of the brokers that may take new replicas: live and not decommissioned, ascending. */
  public List<Integer> placementBrokerIds() {
    return image.getBrokersList().stream().filter(b -> isAlive(b) && !b.getDecommissioned())
        .map(BrokerRecord::getBrokerId).sorted().toList();
  }
}
