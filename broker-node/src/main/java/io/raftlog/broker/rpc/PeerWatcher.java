package io.raftlog.broker.rpc;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.broker.raft.ElectionSuccessor;
import io.raftlog.internal.v1.BrokerInternalServiceGrpc;
import io.raftlog.internal.v1.GroupLastEntry;
import io.raftlog.internal.v1.LastLogEntriesRequest;
import io.raftlog.internal.v1.LastLogEntriesResponse;
import io.raftlog.internal.v1.WatchPeerEvent;
import io.raftlog.internal.v1.WatchPeerRequest;
import io.raftlog.log.v1.BrokerRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices at once when another broker's process is gone, so that its partitions fail over without
 * waiting for Raft's election timeouts. Holds a {@code WatchPeer} stream open to every other
 * registered broker (one per pair of brokers, whatever the number of partitions; nothing flows on
 * it). When an established stream ends, the peer shut down or died, or only the connection broke:
 * a second stream tells them apart. If that one fails (connection refused), does not answer within
 * {@link #CONFIRM_MS}, or reaches a new process of that broker, the peer is reported gone.
 *
 * <p>A broker that is paused or cut off by the network keeps its streams open and is not
 * reported; Raft's election timeouts cover those cases, as they did before.
 */
public final class PeerWatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PeerWatcher.class);
  /** How long the check after a stream ended waits for the peer to answer. */
  static final long CONFIRM_MS = 500;

  private final int brokerId;
  private final MetadataView metadata;
  private final ScheduledExecutorService timers;
  private final IntConsumer onGone;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Map<Integer, Watch> watches = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * @param onGone called, on {@code timers}, with the id of a broker whose process is gone
   */
  public PeerWatcher(int brokerId, MetadataView metadata, ScheduledExecutorService timers, IntConsumer onGone) {
    this.brokerId = brokerId;
    this.metadata = metadata;
    this.timers = timers;
    this.onGone = onGone;
  }

  /** Opens a watch on each registered broker not watched yet; call periodically. */
  public void refresh() {
    for (BrokerRecord b : metadata.image().getBrokersList()) {
      if (closed || b.getBrokerId() == brokerId || watches.containsKey(b.getBrokerId())) {
        continue;
      }
      Watch w = new Watch(b, null);
      if (watches.putIfAbsent(b.getBrokerId(), w) == null) {
        w.start();
      }
    }
  }

  /** Brokers with an established watch (for tests). */
  public boolean watching(int peer) {
    Watch w = watches.get(peer);
    return w != null && w.instanceId != null;
  }

  @Override
  public void close() {
    closed = true;
    watches.values().forEach(Watch::cancel);
    watches.clear();
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }

  /**
   * Asks {@code peer} for the last entries of its Raft logs of {@code groups} (internal
   * {@code LastLogEntries}), over the channel of its watch.
   */
  public CompletableFuture<Map<UUID, ElectionSuccessor.LastEntry>> lastLogEntries(int peer, List<UUID> groups,
      long timeoutMs) {
    CompletableFuture<Map<UUID, ElectionSuccessor.LastEntry>> result = new CompletableFuture<>();
    BrokerRecord b = metadata.broker(peer).orElse(null);
    if (b == null) {
      result.completeExceptionally(new IllegalStateException("broker " + peer + " is not registered"));
      return result;
    }
    LastLogEntriesRequest request = LastLogEntriesRequest.newBuilder()
        .addAllGroupIds(groups.stream().map(UUID::toString).toList()).build();
    BrokerInternalServiceGrpc.newStub(channel(b)).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
        .lastLogEntries(request, new StreamObserver<>() {
          @Override
          public void onNext(LastLogEntriesResponse response) {
            Map<UUID, ElectionSuccessor.LastEntry> entries = new HashMap<>();
            try {
              for (GroupLastEntry e : response.getEntriesList()) {
                entries.put(UUID.fromString(e.getGroupId()), new ElectionSuccessor.LastEntry(e.getTerm(), e.getIndex()));
              }
            } catch (IllegalArgumentException e) {
              result.completeExceptionally(e); // not a group id: ignore the whole answer
              return;
            }
            result.complete(entries);
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            result.completeExceptionally(new IllegalStateException("LastLogEntries ended without an answer"));
          }
        });
    return result;
  }

  private ManagedChannel channel(BrokerRecord b) {
    return channels.computeIfAbsent(b.getHost() + ":" + b.getPort(),
        addr -> NettyChannelBuilder.forAddress(b.getHost(), b.getPort()).usePlaintext().build());
  }

  private void reportGone(int peer, String why) {
    LOG.info("[broker-{}] broker {} is gone ({}): starting elections for the groups it led", brokerId, peer, why);
    try {
      timers.execute(() -> onGone.accept(peer));
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  /** One WatchPeer stream. */
  private final class Watch implements ClientResponseObserver<WatchPeerRequest, WatchPeerEvent> {
    private final BrokerRecord broker;
    /** For the check after a stream ended: the instance that stream reached; null otherwise. */
    private final String checking;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile ClientCallStreamObserver<WatchPeerRequest> call;
    private volatile String instanceId;

    Watch(BrokerRecord broker, String checking) {
      this.broker = broker;
      this.checking = checking;
    }

    void start() {
      BrokerInternalServiceGrpc.newStub(channel(broker))
          .watchPeer(WatchPeerRequest.newBuilder().setWatcherBrokerId(brokerId).build(), this);
      if (checking != null) {
        try {
          timers.schedule(() -> {
            if (instanceId == null) {
              cancel(); // no answer in time: onError(CANCELLED) ends this watch as failed
            }
          }, CONFIRM_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
          cancel();
        }
      }
    }

    void cancel() {
      ClientCallStreamObserver<WatchPeerRequest> c = call;
      if (c != null) {
        c.cancel("watch ended", null);
      }
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchPeerRequest> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(WatchPeerEvent event) {
      if (event.getBrokerId() != broker.getBrokerId()) {
        LOG.warn("[broker-{}] {}:{} answers as broker {}, not {}; not watching it", brokerId, broker.getHost(),
            broker.getPort(), event.getBrokerId(), broker.getBrokerId());
        cancel();
        return;
      }
      instanceId = event.getInstanceId();
      if (checking != null && !checking.equals(instanceId)) {
        reportGone(broker.getBrokerId(), "it restarted");
      }
    }

    @Override
    public void onError(Throwable t) {
      end(t.toString());
    }

    @Override
    public void onCompleted() {
      end("it shut down");
    }

    private void end(String why) {
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      watches.remove(broker.getBrokerId(), this);
      if (closed) {
        return;
      }
      if (instanceId != null) {
        // Was this the process, or only the connection? Ask again (refresh() must not race it).
        Watch check = new Watch(broker, instanceId);
        if (watches.putIfAbsent(broker.getBrokerId(), check) == null) {
          check.start();
        }
      } else if (checking != null) {
        reportGone(broker.getBrokerId(), "its stream ended and it does not answer: " + why);
      }
      // Never reached: refresh() tries again later.
    }
  }
}
