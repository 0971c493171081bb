package io.raftlog.chaos;

import io.raftlog.chaos.Event.Read;
import io.raftlog.client.Admin;
import io.raftlog.client.AdminConfig;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.OffsetSpec;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reads every partition from its log start to its end offset, once the producers have stopped. */
final class FinalRead {

  /** What the final read saw: records per partition in offset order, and each partition's end offset. */
  record Result(Map<Integer, List<Read>> records, Map<Integer, Long> ends) {}

  private FinalRead() {}

  static Result read(List<String> bootstrap, String topic, int partitions, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<Integer, Long> ends = new TreeMap<>();
    try (Admin admin = Admin.create(AdminConfig.builder().bootstrapServers(bootstrap).requestTimeoutMs(5_000).build())) {
      for (int p = 0; p < partitions; p++) {
        ends.put(p, retry(deadline, "the end offset of partition " + p,
            tp -> admin.blocking().listOffsets(tp, OffsetSpec.LATEST), new TopicPartition(topic, p)));
      }
    }
    Map<Integer, List<Read>> records = new TreeMap<>();
    try (Consumer<String, String> consumer = Consumer.create(ConsumerConfig.builder().bootstrapServers(bootstrap)
        .autoOffsetReset(AutoOffsetReset.EARLIEST).requestTimeoutMs(5_000).build(), new StringDeserializer(),
        new StringDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
        records.put(p, new ArrayList<>());
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      while (!caughtUp(records, ends)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the final read did not reach the end offsets " + ends + " within "
              + timeout.toSeconds() + " s; read up to " + lastOffsets(records));
        }
        try {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            if (r.offset() < ends.get(r.partition())) {
              records.get(r.partition()).add(new Read(r.partition(), r.offset(), r.value()));
            }
          }
        } catch (RuntimeException e) {
          // A leader may still be settling after the last heal: retry until the deadline.
        }
      }
    }
    return new Result(records, ends);
  }

  private static boolean caughtUp(Map<Integer, List<Read>> records, Map<Integer, Long> ends) {
    for (Map.Entry<Integer, Long> e : ends.entrySet()) {
      List<Read> read = records.get(e.getKey());
      long next = read.isEmpty() ? 0 : read.get(read.size() - 1).offset() + 1;
      if (next < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static Map<Integer, Long> lastOffsets(Map<Integer, List<Read>> records) {
    Map<Integer, Long> last = new TreeMap<>();
    records.forEach((p, r) -> last.put(p, r.isEmpty() ? -1 : r.get(r.size() - 1).offset()));
    return last;
  }

  interface Call<A, R> {
    R apply(A argument);
  }

  static <A, R> R retry(long deadlineNanos, String what, Call<A, R> call, A argument) {
    RuntimeException last = null;
    while (System.nanoTime() < deadlineNanos) {
      try {
        return call.apply(argument);
      } catch (RuntimeException e) {
        last = e;
        java.util.concurrent.locks.LockSupport.parkNanos(200_000_000L); // backoff between attempts
      }
    }
    throw new IllegalStateException("cannot get " + what + " before the deadline", last);
  }
}
