package io.raftlog.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.CreateTopicRequest;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.InitProducerIdRequest;
import io.raftlog.api.v1.InitProducerIdResponse;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.Record;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs the leader of a partition in a 3-broker cluster of real processes while an idempotent
 * acks=all producer writes to it, then checks that no acknowledged record was lost or duplicated
 * and that all replicas, the restarted one included, hold the same log.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class SigkillLeaderFailoverTest {

  private static final String TOPIC = "failover";
  private static final int PARTITION = 0;
  private static final int RECORDS = 300;
  private static final int KILL_AFTER_ACKS = 50;
  /** Paces the producer so that most records are written after the kill, across the failover. */
  private static final Duration PRODUCE_PACING = Duration.ofMillis(5);
  /** How long one record may take to be acknowledged, retries included: bounds the failover. */
  private static final Duration RECORD_DEADLINE = Duration.ofSeconds(45);
  private static final Duration WAIT = Duration.ofSeconds(60);
  /**
   * Between attempts, as the SDK producer at its default retry.backoff.ms (a constant 100 ms): the
   * printed failover is what a client at default settings sees. (An exponential backoff up to
   * 500 ms, used before, measured up to 500 ms of the test's own waiting after the new leader was
   * ready.)
   */
  private static final Duration RETRY_BACKOFF = Duration.ofMillis(100);
  private static final Set<ErrorCode> RETRIABLE = EnumSet.of(ErrorCode.NOT_LEADER, ErrorCode.LEADER_NOT_AVAILABLE,
      ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.BROKER_NOT_AVAILABLE);

  // Kept on failure so the broker logs can be read.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  static Path tmp;

  private static ClusterScript cluster;
  private static BrokerClients clients;

  @BeforeAll
  static void startCluster() {
    ClusterScript.assumeBrokerBuilt();
    cluster = new ClusterScript(tmp.resolve("cluster"), tmp.resolve("home"));
    cluster.runOk("start", "--brokers", "3");
    clients = new BrokerClients(cluster.brokers());
  }

  @AfterAll
  static void stopCluster() {
    if (clients != null) {
      clients.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void acknowledgedRecordsSurviveSigkillOfTheLeaderExactlyOnce() throws Exception {
    createTopic();
    int firstLeader = Await.value("a leader of " + TOPIC + "-" + PARTITION, WAIT,
        () -> boxed(clients.partitionLeader(TOPIC, PARTITION)));

    IdempotentProducer producer = new IdempotentProducer(firstLeader);
    Thread producerThread = new Thread(producer, "failover-producer");
    producerThread.setDaemon(true);
    producerThread.start();

    Await.condition(KILL_AFTER_ACKS + " acknowledged records", WAIT,
        () -> producer.acks.size() >= KILL_AFTER_ACKS || producer.failure != null);
    assertNull(producer.failure, () -> "producer failed before the kill: " + producer.failure);
    // The producer's latest successful destination is the leader to kill: it is the one acking.
    int victim = producer.lastAckedBy;
    cluster.runOk("kill", String.valueOf(victim));
    // Taken once the script has seen the process gone: no ack can come from the victim after this,
    // and the true kill happened at most one poll (50 ms) earlier.
    long killedAt = System.nanoTime();

    producerThread.join(TimeUnit.SECONDS.toMillis(120));
    assertTrue(!producerThread.isAlive(), "the producer did not finish");
    assertNull(producer.failure, () -> "producer failed: " + producer.failure + cluster.brokerLogTails());
    assertEquals(RECORDS, producer.acks.size(), "every record must be acknowledged");

    // The first acknowledgement from another broker: an answer the victim wrote just before it died
    // can still be read after the kill was seen, but it is not a failover.
    Ack firstAfterKill = producer.acks.stream().filter(a -> a.ackedAtNanos() > killedAt && a.ackedBy() != victim)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no record was acknowledged by another broker after the kill; the "
            + "producer finished before the kill took effect, so failover was not exercised"));
    // An answer the victim wrote just before it died may still be read after the kill; a request
    // sent after the kill can only be answered by another broker.
    producer.acks.stream().filter(a -> a.sentAtNanos() > killedAt).forEach(a -> assertTrue(a.ackedBy() != victim,
        "a request sent after the kill was acknowledged by the killed broker " + victim + ": " + a));
    System.out.printf("failover: kill -> first acks=all write took %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(firstAfterKill.ackedAtNanos() - killedAt));
    // Where the time went: every attempt answered after the kill, up to the first success.
    System.out.println("failover attempts (sent at ms from the kill: broker, outcome, answered after ms): "
        + producer.attempts.stream()
        .filter(a -> a.endedAtNanos() > killedAt && a.sentAtNanos() <= firstAfterKill.sentAtNanos())
        .map(a -> String.format("%+d: broker %d %s %d", TimeUnit.NANOSECONDS.toMillis(a.sentAtNanos() - killedAt),
            a.broker(), a.outcome(), TimeUnit.NANOSECONDS.toMillis(a.endedAtNanos() - a.sentAtNanos())))
        .collect(Collectors.joining("; ")));

    cluster.runOk("restart", String.valueOf(victim));
    long expectedEnd = RECORDS;
    // Every replica, the restarted one included, must report the whole log as committed.
    for (int id : clients.brokerIds()) {
      Await.condition("broker " + id + " to serve " + TOPIC + "-" + PARTITION + " up to offset " + expectedEnd, WAIT,
          () -> {
            FetchPartitionResult r = clients.fetchOnce(id, TOPIC, PARTITION, 0);
            return r.getError().getCode() == ErrorCode.NONE && r.getHighWatermark() >= expectedEnd;
          });
    }

    Map<String, Long> acked = new HashMap<>();
    producer.acks.forEach(a -> acked.put(a.value(), a.offset()));
    List<String> reference = null;
    for (int id : clients.brokerIds()) {
      List<Record> log = clients.readAll(id, TOPIC, PARTITION, WAIT);
      List<String> values = log.stream().map(r -> r.getValue().toString(StandardCharsets.UTF_8)).toList();
      Map<String, Long> seen = new HashMap<>();
      for (Record r : log) {
        String v = r.getValue().toString(StandardCharsets.UTF_8);
        Long earlier = seen.putIfAbsent(v, r.getOffset());
        assertNull(earlier, "broker " + id + " holds " + v + " twice, at offsets " + earlier + " and " + r.getOffset());
      }
      for (Map.Entry<String, Long> a : acked.entrySet()) {
        assertEquals(a.getValue(), seen.get(a.getKey()),
            "broker " + id + ": acknowledged " + a.getKey() + " must be at its acknowledged offset " + a.getValue());
      }
      assertEquals(acked.size(), log.size(), "broker " + id + " holds records that were never acknowledged");
      if (reference == null) {
        reference = values;
      } else {
        assertEquals(reference, values, "broker " + id + " differs from broker " + clients.brokerIds().get(0));
      }
    }
    // One sequential producer: the log is exactly its records in send order.
    assertEquals(IntStream.range(0, RECORDS).mapToObj(i -> "v-" + i).toList(), reference);
  }

  private static void createTopic() {
    CreateTopicRequest request = CreateTopicRequest.newBuilder().setName(TOPIC).setPartitions(1)
        .setReplicationFactor(3).build();
    Await.value("topic " + TOPIC + " to be created", WAIT, () -> {
      try {
        clients.admin(clients.brokerIds().get(0)).createTopic(request);
        return Optional.of(true);
      } catch (StatusRuntimeException e) {
        // A retry after an answer lost on the way: the first attempt created it.
        if (e.getStatus().getCode() == Status.Code.ALREADY_EXISTS) {
          return Optional.of(true);
        }
        if (e.getStatus().getCode() == Status.Code.UNAVAILABLE
            || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
          throw e;
        }
        throw new AssertionError("CreateTopic failed: " + e.getStatus(), e);
      }
    });
  }

  private static Optional<Integer> boxed(OptionalInt v) {
    return v.isPresent() ? Optional.of(v.getAsInt()) : Optional.empty();
  }

  /** An acknowledged record: where it went, which broker acknowledged it and when. */
  record Ack(String value, long offset, int ackedBy, long sentAtNanos, long ackedAtNanos) {}

  /** One send attempt: to which broker, when, and how it ended ("ok" or the error). */
  record Attempt(int broker, long sentAtNanos, long endedAtNanos, String outcome) {}

  /**
   * Sends "v-0", "v-1", ... one record per request with acks=all and idempotence, like a client
   * library would: a failed or unanswered request is resent unchanged (same producer id, epoch and
   * sequence) to the current leader until it is acknowledged, so the broker must deduplicate.
   */
  private static final class IdempotentProducer implements Runnable {

    final List<Ack> acks = new CopyOnWriteArrayList<>();
    /** Every send attempt, for the failover timeline. */
    final List<Attempt> attempts = new CopyOnWriteArrayList<>();
    volatile Throwable failure;
    volatile int lastAckedBy;
    private int leader;

    IdempotentProducer(int leader) {
      this.leader = leader;
      this.lastAckedBy = leader;
    }

    @Override
    public void run() {
      try {
        InitProducerIdResponse producerId = Await.value("a producer id", WAIT,
            () -> Optional.of(clients.produce(leader).initProducerId(InitProducerIdRequest.getDefaultInstance())));
        for (int seq = 0; seq < RECORDS; seq++) {
          send(seq, producerId);
          BrokerClients.pause(PRODUCE_PACING);
        }
      } catch (Throwable t) {
        failure = t;
      }
    }

    private void send(int seq, InitProducerIdResponse producerId) {
      String value = "v-" + seq;
      ProduceRequest request = ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL)
          .setTimeoutMs((int) BrokerClients.CALL_DEADLINE.toMillis())
          .addPartitions(PartitionProduceData.newBuilder().setTopic(TOPIC).setPartition(PARTITION)
              .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8(value)))
              .setProducerId(producerId.getProducerId()).setProducerEpoch(producerId.getProducerEpoch())
              .setBaseSequence(seq))
          .build();
      long deadline = System.nanoTime() + RECORD_DEADLINE.toNanos();
      String lastError = "none";
      while (System.nanoTime() < deadline) {
        int target = leader;
        long sentAt = System.nanoTime();
        try {
          PartitionProduceResult r = clients.produce(target).produce(request).getResults(0);
          ErrorCode code = r.getError().getCode();
          attempts.add(new Attempt(target, sentAt, System.nanoTime(), code == ErrorCode.NONE ? "ok" : code.name()));
          if (code == ErrorCode.NONE) {
            acks.add(new Ack(value, r.getBaseOffset(), target, sentAt, System.nanoTime()));
            lastAckedBy = target;
            return;
          }
          lastError = code + " from broker " + target + ": " + r.getError().getMessage();
          if (!RETRIABLE.contains(code)) {
            throw new AssertionError("non-retriable produce error for " + value + ": " + lastError);
          }
          if (code == ErrorCode.NOT_LEADER && r.getError().hasLeaderId() && r.getError().getLeaderId() != target
              && clients.brokerIds().contains(r.getError().getLeaderId())) {
            leader = r.getError().getLeaderId();
            continue;
          }
        } catch (StatusRuntimeException e) {
          // Dead broker (UNAVAILABLE), lost answer (DEADLINE_EXCEEDED), ...: the outcome is unknown,
          // which is exactly what the sequence number is for.
          lastError = e.getStatus() + " from broker " + target;
          attempts.add(new Attempt(target, sentAt, System.nanoTime(), e.getStatus().getCode().name()));
        }
        BrokerClients.pause(RETRY_BACKOFF);
        OptionalInt fresh = clients.partitionLeader(TOPIC, PARTITION);
        if (fresh.isPresent()) {
          leader = fresh.getAsInt();
        }
      }
      throw new AssertionError(value + " (sequence " + seq + ") was not acknowledged within " + RECORD_DEADLINE
          + "; last error: " + lastError);
    }
  }
}
