package io.raftlog.chaos;

import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerGroupMetadata;
import io.raftlog.client.ConsumerRebalanceListener;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.OffsetAndMetadata;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.TopicPartition;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One consumer-group member of a chaos run, as its own JVM (so it can be SIGKILLed like a real
 * application): subscribes to the topic in the group, and for every poll writes one line per
 * record it processed, then commits the offsets after them with {@code commitSync} and writes a
 * "committed" line once that returned. Rebalance callbacks write "assigned", "revoked" and "lost"
 * lines. Lines are {@link MemberEvent}s, each written with one {@code write} call straight to the
 * file (no user-space buffer), so a SIGKILL leaves only complete lines, except perhaps a torn last
 * one, which the reader ignores.
 *
 * <p>Processing a batch takes a while ({@code PROCESSING_MS}, spent after the batch's lines are
 * written and before the commit), as in a real application: a member killed "mid-batch" then has
 * processed records whose offsets it has not committed, which the next owner must process again.
 *
 * <p>Arguments: {@code BOOTSTRAP(host:port,...) TOPIC GROUP LABEL SESSION_TIMEOUT_MS OUTPUT_FILE
 * PROCESSING_MS}. SIGTERM stops it: it finishes the poll in progress and closes the consumer
 * (leaving the group).
 */
public final class GroupMemberMain {

  private final String topic;
  private final String label;
  private final FileOutputStream out;
  private final long processingMs;
  private Consumer<String, String> consumer;
  /** Offsets processed and not committed yet (a commit failed): committed with the next batch. */
  private final Map<Integer, Long> pending = new TreeMap<>();
  private volatile boolean stop;

  private GroupMemberMain(String topic, String label, Path file, long processingMs) throws IOException {
    this.topic = topic;
    this.label = label;
    this.processingMs = processingMs;
    this.out = new FileOutputStream(file.toFile(), true);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 7) {
      System.err.println("usage: GroupMemberMain BOOTSTRAP TOPIC GROUP LABEL SESSION_TIMEOUT_MS OUTPUT_FILE"
          + " PROCESSING_MS");
      System.exit(2);
    }
    List<String> bootstrap = Arrays.asList(args[0].split(","));
    GroupMemberMain member = new GroupMemberMain(args[1], args[3], Path.of(args[5]), Long.parseLong(args[6]));
    Map<String, String> group = new LinkedHashMap<>();
    group.put("group.id", args[2]);
    group.put("enable.auto.commit", "false");
    group.put("session.timeout.ms", args[4]);
    group.put("client.id", args[3]);
    ConsumerConfig config = ConsumerConfig.builder().bootstrapServers(bootstrap).properties(group)
        .autoOffsetReset(io.raftlog.client.AutoOffsetReset.EARLIEST).requestTimeoutMs(5_000).retryBackoffMs(100)
        .maxPollRecords(200).build();
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      member.stop = true;
      try {
        done.await(8, TimeUnit.SECONDS); // let the poll loop finish and close the consumer
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "member-stop"));
    try {
      member.run(config);
    } finally {
      done.countDown();
    }
  }

  private void run(ConsumerConfig config) {
    write(new MemberEvent.Started(now(), label, "", 0, ProcessHandle.current().pid()));
    try (Consumer<String, String> c = Consumer.create(config, new StringDeserializer(), new StringDeserializer())) {
      consumer = c;
      c.subscribe(List.of(topic), new Listener());
      while (!stop) {
        List<ConsumerRecord<String, String>> records;
        try {
          records = c.poll(Duration.ofMillis(500));
        } catch (RuntimeException e) {
          write(new MemberEvent.PollFailed(now(), label, memberId(), memberEpoch(), e.toString()));
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // back off before polling again
          continue;
        }
        for (ConsumerRecord<String, String> r : records) {
          // "Processing" a record is writing its line: the line is the proof it was processed.
          write(new MemberEvent.Processed(now(), label, memberId(), memberEpoch(), r.topic(), r.partition(),
              r.offset(), r.value()));
          pending.put(r.partition(), r.offset() + 1);
        }
        if (!records.isEmpty()) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(processingMs)); // simulated work on the batch
        }
        commitPending(pending.keySet());
      }
    }
  }

  /** commitSync of the pending offsets of these partitions; written as committed or commit-failed. */
  private void commitPending(Collection<Integer> partitions) {
    Map<Integer, Long> offsets = new TreeMap<>();
    for (int p : partitions) {
      Long o = pending.get(p);
      if (o != null) {
        offsets.put(p, o);
      }
    }
    if (offsets.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> commit = new LinkedHashMap<>();
    offsets.forEach((p, o) -> commit.put(new TopicPartition(topic, p), new OffsetAndMetadata(o)));
    String memberId = memberId();
    int epoch = memberEpoch();
    try {
      consumer.commitSync(commit);
    } catch (RuntimeException e) {
      write(new MemberEvent.CommitFailed(now(), label, memberId, epoch, offsets, e.toString()));
      return;
    }
    write(new MemberEvent.Committed(now(), label, memberId, epoch, offsets));
    offsets.forEach((p, o) -> pending.remove(p, o));
  }

  private final class Listener implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      List<Integer> ps = partitions(partitions);
      commitPending(ps); // still ours: commit what a failed commit left behind
      write(new MemberEvent.Revoked(now(), label, memberId(), memberEpoch(), ps));
      ps.forEach(pending::remove);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      write(new MemberEvent.Assigned(now(), label, memberId(), memberEpoch(), partitions(partitions)));
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      List<Integer> ps = partitions(partitions);
      write(new MemberEvent.Lost(now(), label, memberId(), memberEpoch(), ps));
      ps.forEach(pending::remove); // another member owns them now: its commits count
    }
  }

  private List<Integer> partitions(Collection<TopicPartition> partitions) {
    List<Integer> ps = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      if (!tp.topic().equals(topic)) {
        throw new IllegalStateException("assigned a partition of another topic: " + tp);
      }
      ps.add(tp.partition());
    }
    ps.sort(null);
    return ps;
  }

  private String memberId() {
    ConsumerGroupMetadata m = consumer == null ? null : consumer.groupMetadata();
    return m == null ? "" : m.memberId();
  }

  private int memberEpoch() {
    ConsumerGroupMetadata m = consumer == null ? null : consumer.groupMetadata();
    return m == null ? 0 : m.memberEpoch();
  }

  private static long now() {
    return System.currentTimeMillis(); // shared by every process on the machine: orders lines across members
  }

  private synchronized void write(MemberEvent e) {
    try {
      out.write((e.toJson() + "\n").getBytes(StandardCharsets.UTF_8)); // one write call: whole lines only
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write the member output", ex);
    }
  }
}
