package io.raftlog.chaos;

import io.raftlog.chaos.Event.Read;
import io.raftlog.client.Acks;
import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The load during a run: idempotent acks=all producers writing unique values round-robin over the
 * partitions, and consumers following every partition from the start. Everything goes to the
 * {@link History}.
 *
 * <p>Each producer bounds its unacknowledged records per partition, and skips a partition whose
 * bound is reached: a partition without a leader then stalls only itself, so the acknowledgment
 * times of the others measure their own availability.
 */
final class Workload {

  /** Settings of the load. */
  record Settings(int producers, int consumers, int recordsPerSecondPerProducer, int maxInFlightPerPartition,
      int deliveryTimeoutMs) {}

  private final String topic;
  private final int partitions;
  private final List<String> bootstrap;
  private final Settings settings;
  private final History history;
  private final List<Thread> threads = new ArrayList<>();
  private final List<Producer<String, String>> producers = new ArrayList<>();
  private final AtomicLong outstanding = new AtomicLong();
  private volatile boolean stopProducing;
  private volatile boolean stopConsuming;

  Workload(String topic, int partitions, List<String> bootstrap, Settings settings, History history) {
    this.topic = topic;
    this.partitions = partitions;
    this.bootstrap = bootstrap;
    this.settings = settings;
    this.history = history;
  }

  void start() {
    for (int p = 0; p < settings.producers(); p++) {
      int id = p;
      Producer<String, String> producer = Producer.create(ProducerConfig.builder().bootstrapServers(bootstrap)
          .acks(Acks.ALL).idempotence(true).lingerMs(2).requestTimeoutMs(2_000).retryBackoffMs(50)
          .deliveryTimeoutMs(settings.deliveryTimeoutMs()).build(), new StringSerializer(), new StringSerializer());
      producers.add(producer);
      threads.add(startDaemon("chaos-producer-" + id, () -> produce(id, producer)));
    }
    for (int c = 0; c < settings.consumers(); c++) {
      int id = c;
      threads.add(startDaemon("chaos-consumer-" + id, () -> follow(id)));
    }
  }

  private static Thread startDaemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void produce(int id, Producer<String, String> producer) {
    Semaphore[] inFlight = new Semaphore[partitions];
    for (int p = 0; p < partitions; p++) {
      inFlight[p] = new Semaphore(settings.maxInFlightPerPartition());
    }
    long intervalNanos = 1_000_000_000L / Math.max(1, settings.recordsPerSecondPerProducer());
    long next = System.nanoTime();
    long seq = 0;
    int partition = id % partitions;
    while (!stopProducing) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait); // pacing the load, not synchronization
        continue;
      }
      next += intervalNanos;
      // The next partition with room; none means every partition is stalled: wait for the pace.
      int chosen = -1;
      for (int i = 0; i < partitions && chosen < 0; i++) {
        int candidate = (partition + i) % partitions;
        if (inFlight[candidate].tryAcquire()) {
          chosen = candidate;
        }
      }
      if (chosen < 0) {
        continue;
      }
      partition = (chosen + 1) % partitions;
      long s = seq++;
      int target = chosen;
      String value = "p" + id + "-" + s;
      history.add(new Event.Send(history.now(), id, s, target, value));
      outstanding.incrementAndGet();
      producer.send(new ProducerRecord<>(topic, target, null, value)).whenComplete((md, e) -> {
        if (e == null) {
          history.add(new Event.Ack(history.now(), id, s, md.partition(), md.offset(), value));
        } else {
          history.add(new Event.Fail(history.now(), id, s, target, value, String.valueOf(e.getMessage())));
        }
        inFlight[target].release();
        outstanding.decrementAndGet();
      });
    }
  }

  private void follow(int id) {
    try (Consumer<String, String> consumer = Consumer.create(ConsumerConfig.builder().bootstrapServers(bootstrap)
        .autoOffsetReset(AutoOffsetReset.EARLIEST).requestTimeoutMs(5_000).retryBackoffMs(100).build(),
        new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      while (!stopConsuming) {
        try {
          List<ConsumerRecord<String, String>> records = consumer.poll(Duration.ofMillis(200));
          if (!records.isEmpty()) {
            List<Read> reads = new ArrayList<>(records.size());
            for (ConsumerRecord<String, String> r : records) {
              reads.add(new Read(r.partition(), r.offset(), r.value()));
            }
            history.add(new Event.Poll(history.now(), id, reads));
          }
        } catch (RuntimeException e) {
          history.add(new Event.PollError(history.now(), id, String.valueOf(e.getMessage())));
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // back off before polling again
        }
      }
    }
  }

  /**
   * Stops sending and waits until every send has been acknowledged or has failed (bounded by the
   * delivery timeout); returns false if some were still outstanding at the deadline.
   */
  boolean stopProducers() throws InterruptedException {
    stopProducing = true;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.deliveryTimeoutMs() + 30_000L);
    for (Thread t : threads) {
      if (t.getName().startsWith("chaos-producer-")) {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
    }
    while (outstanding.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20); // polling a counter the producers' callbacks decrement, with a deadline
    }
    boolean drained = outstanding.get() == 0;
    for (Producer<String, String> p : producers) {
      p.close(Duration.ofSeconds(5));
    }
    return drained;
  }

  long outstanding() {
    return outstanding.get();
  }

  void stopConsumers() throws InterruptedException {
    stopConsuming = true;
    for (Thread t : threads) {
      t.join(30_000);
    }
  }
}
