package io.raftlog.cluster;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.DescribeClusterRequest;
import io.raftlog.api.v1.DescribeClusterResponse;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.GetMetadataRequest;
import io.raftlog.api.v1.GetMetadataResponse;
import io.raftlog.api.v1.MetadataServiceGrpc;
import io.raftlog.api.v1.PartitionMetadata;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.api.v1.TopicMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * gRPC channels to every broker of a cluster started by {@link ClusterScript}, by broker id, with
 * per-call deadlines so that a dead or paused broker can never hang a test.
 */
final class BrokerClients implements AutoCloseable {

  /** Deadline of one RPC; retries are the caller's business. */
  static final Duration CALL_DEADLINE = Duration.ofSeconds(5);

  private final Map<Integer, ManagedChannel> channels = new LinkedHashMap<>();

  BrokerClients(Map<Integer, ClusterScript.BrokerAddress> brokers) {
    brokers.forEach((id, address) -> channels.put(id,
        NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build()));
  }

  List<Integer> brokerIds() {
    return List.copyOf(channels.keySet());
  }

  AdminServiceGrpc.AdminServiceBlockingStub admin(int brokerId) {
    return AdminServiceGrpc.newBlockingStub(channel(brokerId)).withDeadlineAfter(CALL_DEADLINE.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  MetadataServiceGrpc.MetadataServiceBlockingStub metadata(int brokerId) {
    return MetadataServiceGrpc.newBlockingStub(channel(brokerId)).withDeadlineAfter(CALL_DEADLINE.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  ProduceServiceGrpc.ProduceServiceBlockingStub produce(int brokerId) {
    return ProduceServiceGrpc.newBlockingStub(channel(brokerId)).withDeadlineAfter(CALL_DEADLINE.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  FetchServiceGrpc.FetchServiceBlockingStub fetch(int brokerId) {
    return FetchServiceGrpc.newBlockingStub(channel(brokerId)).withDeadlineAfter(CALL_DEADLINE.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * The leader of a partition as the first answering broker (in id order) that knows one reports
   * it; empty when no broker answers or none knows a leader.
   */
  OptionalInt partitionLeader(String topic, int partition) {
    for (int id : channels.keySet()) {
      try {
        GetMetadataResponse md = metadata(id).getMetadata(GetMetadataRequest.newBuilder().addTopics(topic).build());
        for (TopicMetadata t : md.getTopicsList()) {
          if (t.getName().equals(topic) && t.getError().getCode() == ErrorCode.NONE) {
            for (PartitionMetadata p : t.getPartitionsList()) {
              if (p.getPartition() == partition && p.getLeaderId() >= 0 && channels.containsKey(p.getLeaderId())) {
                return OptionalInt.of(p.getLeaderId());
              }
            }
          }
        }
      } catch (StatusRuntimeException e) {
        // This broker is down or busy; ask the next one.
      }
    }
    return OptionalInt.empty();
  }

  DescribeClusterResponse describeCluster(int brokerId) {
    return admin(brokerId).describeCluster(DescribeClusterRequest.getDefaultInstance());
  }

  /** One Fetch (no waiting) of a partition from a broker, starting at offset. */
  FetchPartitionResult fetchOnce(int brokerId, String topic, int partition, long offset) {
    return fetch(brokerId).fetch(FetchRequest.newBuilder().setMaxWaitMs(0)
        .addPartitions(FetchPartition.newBuilder().setTopic(topic).setPartition(partition).setOffset(offset))
        .build()).getResults(0);
  }

  /**
   * Every committed record of a partition as one broker's replica serves it: Fetch from offset 0,
   * following the returned offsets, until the high watermark of the last response.
   *
   * @throws AssertionError on a fetch error, a gap or reordering, or when the deadline passes
   */
  List<Record> readAll(int brokerId, String topic, int partition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Record> records = new ArrayList<>();
    long next = 0;
    while (true) {
      FetchPartitionResult r = fetchOnce(brokerId, topic, partition, next);
      if (r.getError().getCode() != ErrorCode.NONE) {
        throw new AssertionError("fetch of " + topic + "-" + partition + " at offset " + next + " from broker "
            + brokerId + " failed: " + r.getError().getCode() + " " + r.getError().getMessage());
      }
      for (Record rec : r.getRecordsList()) {
        if (rec.getOffset() != next) {
          throw new AssertionError("broker " + brokerId + " returned offset " + rec.getOffset() + " where " + next
              + " was expected (offsets must be contiguous from 0)");
        }
        records.add(rec);
        next++;
      }
      if (next >= r.getHighWatermark()) {
        return records;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("broker " + brokerId + " did not serve " + topic + "-" + partition
            + " up to its high watermark " + r.getHighWatermark() + " within " + timeout + "; stuck at offset " + next);
      }
      if (r.getRecordsCount() == 0) {
        pause(Duration.ofMillis(20));
      }
    }
  }

  /** Pause between polls of a condition (never used to wait for an event without checking it). */
  static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private ManagedChannel channel(int brokerId) {
    ManagedChannel c = channels.get(brokerId);
    if (c == null) {
      throw new IllegalArgumentException("no broker " + brokerId + "; brokers: " + channels.keySet());
    }
    return c;
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel c : channels.values()) {
      try {
        c.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
