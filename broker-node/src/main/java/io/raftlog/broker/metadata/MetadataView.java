package io.raftlog.broker.metadata;

import io.raftlog.log.v1.BrokerRecord;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.TopicRecord;
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
  private volatile MetadataImage image = MetadataImage.getDefaultInstance();

  public MetadataView(Clock clock, long sessionTimeoutMs) {
    this.clock = clock;
    this.sessionTimeoutMs = sessionTimeoutMs;
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
  }

  public void addListener(Consumer<MetadataImage> listener) {
    listeners.add(listener);
  }

  public MetadataImage image() {
    return image;
  }

  public Optional<TopicRecord> topic(String name) {
    return image.getTopicsList().stream().filter(t -> t.getName().equals(name)).findFirst();
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
}
