package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.client.Acks;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.CommittedOffset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRebalanceListener;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.errors.CommitFailedException;
import io.raftlog.client.transport.ChannelFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three SDK consumers in one group on a 6-partition topic of an in-process cluster, under load:
 * each gets two partitions; one crashes (its network is cut, it never closes) and the other two
 * take over its partitions after the session timeout; the coordinator's broker is killed and the
 * committed offsets survive it; one member leaves cleanly. Every acknowledged record is processed
 * at least once, and no partition is owned by two members at the same time or in the same epoch.
 * Prints the measured rebalance times (a benchmark figure, not asserted).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ConsumerGroupAgainstClusterTest {

  private static final String TOPIC = "events";
  private static final int SESSION_TIMEOUT_MS = 4_000;

  @TempDir
  Path dir;

  /** An ownership change seen by a member's rebalance listener. */
  record Change(String member, String kind, int memberEpoch, List<TopicPartition> partitions, long nanos) {}

  private final ConcurrentLinkedQueue<Change> changes = new ConcurrentLinkedQueue<>();
  private final Map<String, Set<TopicPartition>> owned = new ConcurrentHashMap<>();
  private final Set<String> processed = ConcurrentHashMap.newKeySet();
  private final Set<String> acked = ConcurrentHashMap.newKeySet();

  /** Channels that fail every new call once the member "crashes", as if its process had died. */
  private static final class CrashableChannels implements ChannelFactory {
    final AtomicBoolean crashed = new AtomicBoolean();

    @Override
    public io.grpc.ManagedChannel create(String address) {
      return ManagedChannelBuilder.forTarget(address).usePlaintext()
          .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES).intercept(new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
              return crashed.get() ? new DeadCall<>() : next.newCall(method, options);
            }
          }).build();
    }
  }

  private static final class DeadCall<Q, R> extends ClientCall<Q, R> {
    @Override
    public void start(Listener<R> listener, Metadata headers) {
      listener.onClose(Status.UNAVAILABLE.withDescription("member crashed (test)"), new Metadata());
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void cancel(String message, Throwable cause) {}

    @Override
    public void halfClose() {}

    @Override
    public void sendMessage(Q message) {}
  }

  /** One group member: poll, process, commitSync, on its own thread. */
  private final class Member {
    final String name;
    final CrashableChannels channels = new CrashableChannels();
    final Consumer<String, String> consumer;
    final AtomicBoolean running = new AtomicBoolean(true);
    final Thread thread;

    Member(String name, String bootstrap) {
      this.name = name;
      owned.put(name, ConcurrentHashMap.newKeySet());
      consumer = Consumer.create(ConsumerConfig.builder().bootstrapServers(bootstrap).channelFactory(channels)
          .groupId("g").clientId(name).sessionTimeoutMs(SESSION_TIMEOUT_MS).enableAutoCommit(false)
          .autoOffsetReset(AutoOffsetReset.EARLIEST).build(), new StringDeserializer(), new StringDeserializer());
      thread = new Thread(this::run, "member-" + name);
      thread.start();
    }

    private void record(String kind, Collection<TopicPartition> partitions) {
      changes.add(new Change(name, kind, consumer.groupMetadata().memberEpoch(), List.copyOf(partitions), System.nanoTime()));
    }

    private void run() {
      consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          record("revoked", partitions);
          owned.get(name).removeAll(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          record("assigned", partitions);
          owned.get(name).addAll(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
          record("lost", partitions);
          owned.get(name).removeAll(partitions);
        }
      });
      while (running.get()) {
        List<ConsumerRecord<String, String>> records = consumer.poll(Duration.ofMillis(200));
        if (!running.get()) {
          return; // crashed mid-batch: these records are neither processed nor committed
        }
        records.forEach(r -> processed.add(r.value()));
        if (!records.isEmpty()) {
          try {
            consumer.commitSync();
          } catch (CommitFailedException e) {
            // a rebalance took a partition: its new owner processes these records again
          }
        }
      }
    }

    /** Dies without closing: no leave, no commit; the coordinator must expel it. */
    void crash() throws InterruptedException {
      channels.crashed.set(true);
      running.set(false);
      thread.join(30_000);
      changes.add(new Change(name, "crashed", -1, List.copyOf(owned.get(name)), System.nanoTime()));
      owned.get(name).clear();
    }

    void closeCleanly() throws InterruptedException {
      running.set(false);
      thread.join(30_000);
      consumer.close(); // revokes (listener), leaves the group
    }
  }

  private Set<TopicPartition> ownedBy(String... members) {
    Set<TopicPartition> all = new HashSet<>();
    for (String m : members) {
      all.addAll(owned.get(m));
    }
    return all;
  }

  @Test
  void membersShareRebalanceAndSurviveTheCoordinator() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(3, dir);
         Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(cluster.bootstrap()).build());
         Producer<String, String> producer = Producer.create(ProducerConfig.builder()
             .bootstrapServers(cluster.bootstrap()).acks(Acks.ALL).build(), new StringSerializer(), new StringSerializer())) {
      cluster.createTopic(TOPIC, 6, 3);
      // A steady ~1,000 records/s: enough to keep every member busy, little enough that a 2-core
      // machine running three brokers in one JVM does not starve Raft of CPU.
      ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
      AtomicInteger next = new AtomicInteger();
      load.scheduleAtFixedRate(() -> {
        for (int n = 0; n < 100; n++) {
          String value = "v-" + next.getAndIncrement();
          producer.send(new ProducerRecord<>(TOPIC, "k-" + value, value)).whenComplete((md, e) -> {
            if (e == null) {
              acked.add(value);
            }
          });
        }
      }, 0, 100, TimeUnit.MILLISECONDS);

      Member a = new Member("a", cluster.bootstrap());
      Member b = new Member("b", cluster.bootstrap());
      Member c = new Member("c", cluster.bootstrap());
      Wait.until("each member owns 2 of the 6 partitions", Duration.ofSeconds(60), () ->
          owned.get("a").size() == 2 && owned.get("b").size() == 2 && owned.get("c").size() == 2
              && ownedBy("a", "b", "c").size() == 6);

      long crashAt = System.nanoTime();
      c.crash();
      Wait.until("a and b own all 6 partitions after c crashed", Duration.ofSeconds(60),
          () -> ownedBy("a", "b").size() == 6);
      long afterCrashMs = (System.nanoTime() - crashAt) / 1_000_000;

      int coordinator = cluster.broker(cluster.runningIds().get(0)).metadataLeaderId();
      // The new owners commit after their first poll with records of the partitions they took over.
      Map<TopicPartition, CommittedOffset> before = Wait.forValue("a committed offset for every partition",
          Duration.ofSeconds(60), () -> {
            try {
              Map<TopicPartition, CommittedOffset> offsets = admin.listGroupOffsets("g").get(10, TimeUnit.SECONDS);
              return offsets.size() == 6 ? offsets : null;
            } catch (Exception e) {
              return null;
            }
          });
      cluster.kill(coordinator);
      Map<TopicPartition, CommittedOffset> after = Wait.forValue("committed offsets from the new coordinator",
          Duration.ofSeconds(60), () -> {
            try {
              return admin.listGroupOffsets("g").get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
              return null;
            }
          });
      before.forEach((tp, o) -> assertTrue(after.get(tp).offset() >= o.offset(),
          tp + ": committed " + o.offset() + " before the coordinator died, " + after.get(tp).offset() + " after"));

      long leaveAt = System.nanoTime();
      b.closeCleanly();
      Wait.until("a owns all 6 partitions after b left", Duration.ofSeconds(60), () -> ownedBy("a").size() == 6);
      long afterLeaveMs = (System.nanoTime() - leaveAt) / 1_000_000;

      load.shutdown();
      assertTrue(load.awaitTermination(30, TimeUnit.SECONDS));
      producer.flush();
      Wait.until("every acknowledged record is processed", Duration.ofSeconds(90), () -> processed.containsAll(acked));
      a.closeCleanly();
      c.consumer.close(Duration.ZERO);

      assertTrue(acked.size() > 1000, "load ran: " + acked.size() + " records acknowledged");
      assertNoPartitionHadTwoOwners();
      System.out.printf("consumer groups: %d records acknowledged and processed; rebalance after a member crash:"
          + " %d ms (session timeout %d ms); after a clean leave: %d ms%n", acked.size(), afterCrashMs,
          SESSION_TIMEOUT_MS, afterLeaveMs);
    }
  }

  /**
   * Replays the listener history: per partition, ownership intervals (assigned until revoked, lost
   * or crashed) of different members never overlap, and no two members were assigned it at the
   * same member epoch.
   */
  private void assertNoPartitionHadTwoOwners() {
    Map<TopicPartition, String> holder = new HashMap<>();
    Map<String, String> epochOwner = new HashMap<>();
    List<String> problems = new ArrayList<>();
    List<Change> ordered = new ArrayList<>(changes);
    ordered.sort((x, y) -> Long.compare(x.nanos(), y.nanos()));
    for (Change ch : ordered) {
      for (TopicPartition tp : ch.partitions()) {
        switch (ch.kind()) {
          case "assigned" -> {
            String previous = holder.putIfAbsent(tp, ch.member());
            if (previous != null && !previous.equals(ch.member())) {
              problems.add(tp + " assigned to " + ch.member() + " while " + previous + " still owned it");
            }
            String key = tp + "@" + ch.memberEpoch();
            String other = epochOwner.putIfAbsent(key, ch.member());
            if (other != null && !other.equals(ch.member())) {
              problems.add(tp + " assigned to " + other + " and " + ch.member() + " at member epoch " + ch.memberEpoch());
            }
          }
          default -> holder.remove(tp, ch.member());
        }
      }
    }
    assertEquals(List.of(), problems, "ownership history: " + ordered);
  }
}
