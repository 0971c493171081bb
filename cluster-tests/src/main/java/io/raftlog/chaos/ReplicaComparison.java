package io.raftlog.chaos;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.PartitionInfo;
import io.raftlog.client.TopicDescription;
import io.raftlog.internal.v1.BrokerInternalServiceGrpc;
import io.raftlog.internal.v1.ReadReplicaLogRequest;
import io.raftlog.internal.v1.ReadReplicaLogResponse;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Compares the replicas of every partition byte for byte, through each broker's ReadReplicaLog
 * (committed batches exactly as stored in that broker's segment files). After a heal the replicas
 * must converge to the same end offset and identical bytes; the final read's end offset is the
 * target, so a replica that is short of it after the deadline is reported too.
 */
final class ReplicaComparison {

  private static final int CHUNK_BYTES = 1 << 20;

  private ReplicaComparison() {}

  /** Problems found, one line each; empty when every partition's replicas agree. */
  static List<String> compare(Map<Integer, LocalCluster.Broker> brokers, List<String> bootstrap, String topic,
      Map<Integer, Long> ends, Duration convergeTimeout) {
    List<String> problems = new ArrayList<>();
    Map<Integer, ManagedChannel> channels = new LinkedHashMap<>();
    brokers.forEach((id, b) -> channels.put(id, NettyChannelBuilder.forAddress(b.host(), b.port()).usePlaintext()
        .build()));
    long deadline = System.nanoTime() + convergeTimeout.toNanos();
    try (Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(bootstrap).requestTimeoutMs(5_000).build())) {
      TopicDescription description = FinalRead.retry(deadline, "the description of topic " + topic,
          t -> admin.blocking().describeTopic(t), topic);
      for (PartitionInfo p : description.partitions()) {
        long end = ends.getOrDefault(p.partition(), 0L);
        Map<Integer, byte[]> copies = new LinkedHashMap<>();
        Map<Integer, String> failures = new LinkedHashMap<>();
        // Followers apply a little after the leader: wait until each replica has the whole log.
        for (int replica : p.replicas()) {
          while (true) {
            try {
              ReplicaLog log = readAll(channels.get(replica), topic, p.partition());
              copies.put(replica, log.bytes());
              if (log.highWatermark() >= end || System.nanoTime() > deadline) {
                if (log.highWatermark() < end) {
                  failures.put(replica, "has the log only up to offset " + log.highWatermark() + " of " + end);
                }
                break;
              }
            } catch (StatusRuntimeException e) {
              if (System.nanoTime() > deadline) {
                failures.put(replica, "cannot be read: " + e.getStatus());
                break;
              }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // retry until converged or the deadline
          }
        }
        failures.forEach((replica, why) -> problems.add("partition " + p.partition() + ": the replica on broker "
            + replica + " " + why + " " + convergeTimeout.toSeconds() + " s after the end of the run"));
        compareCopies(p.partition(), copies, problems);
      }
    } finally {
      channels.values().forEach(ManagedChannel::shutdownNow);
    }
    return problems;
  }

  /** Every pair of copies must agree on their common prefix (equal when fully converged). */
  static void compareCopies(int partition, Map<Integer, byte[]> copies, List<String> problems) {
    List<Map.Entry<Integer, byte[]>> list = new ArrayList<>(copies.entrySet());
    for (int i = 1; i < list.size(); i++) {
      byte[] a = list.get(0).getValue();
      byte[] b = list.get(i).getValue();
      int common = Math.min(a.length, b.length);
      int diff = java.util.Arrays.mismatch(a, 0, common, b, 0, common);
      if (diff >= 0) {
        problems.add("partition " + partition + ": replicas on brokers " + list.get(0).getKey() + " and "
            + list.get(i).getKey() + " differ at byte " + diff + " of their committed logs");
      }
    }
  }

  private record ReplicaLog(byte[] bytes, long highWatermark) {}

  private static ReplicaLog readAll(ManagedChannel channel, String topic, int partition) {
    BrokerInternalServiceGrpc.BrokerInternalServiceBlockingStub stub = BrokerInternalServiceGrpc.newBlockingStub(channel);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long offset = 0;
    long highWatermark;
    while (true) {
      ReadReplicaLogResponse r = stub.withDeadlineAfter(10, TimeUnit.SECONDS).readReplicaLog(ReadReplicaLogRequest
          .newBuilder().setTopic(topic).setPartition(partition).setOffset(offset).setMaxBytes(CHUNK_BYTES).build());
      highWatermark = r.getHighWatermark();
      ByteString batches = r.getRecordBatches();
      if (batches.isEmpty()) {
        break;
      }
      out.writeBytes(batches.toByteArray());
      offset = nextOffsetAfter(batches);
      if (offset >= highWatermark) {
        break;
      }
    }
    return new ReplicaLog(out.toByteArray(), highWatermark);
  }

  /** The offset after the last batch: Kafka v2 batch header = baseOffset(8) length(4) ... lastOffsetDelta at 23. */
  static long nextOffsetAfter(ByteString batches) {
    java.nio.ByteBuffer buf = batches.asReadOnlyByteBuffer();
    long next = -1;
    int pos = 0;
    while (pos + 12 <= buf.limit()) {
      long base = buf.getLong(pos);
      int length = buf.getInt(pos + 8);
      int lastOffsetDelta = buf.getInt(pos + 23);
      next = base + lastOffsetDelta + 1;
      pos += 12 + length;
    }
    if (next < 0) {
      throw new IllegalStateException("ReadReplicaLog returned bytes without a whole record batch");
    }
    return next;
  }
}
