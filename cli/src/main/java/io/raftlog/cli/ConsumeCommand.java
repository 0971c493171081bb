package io.raftlog.cli;

import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.OffsetAndMetadata;
import io.raftlog.client.StringDeserializer;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.CommitFailedException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code raftlog consume TOPIC}: prints records as they arrive. Without {@code --max-messages}
 * and {@code --timeout-ms} it runs until killed, like kafka-console-consumer. Exit code 0 when
 * it stops because of either limit.
 *
 * <p>With {@code --group G} it subscribes to the topic as a member of consumer group G and, after
 * printing each poll's records, commits the offsets past the printed ones (auto-commit is off), so
 * a killed consumer re-delivers at most the records of one poll; the next member resumes at the
 * committed offsets. Partitions without a committed offset start at the log end, or at the log
 * start with {@code --from-beginning}.
 */
@Command(name = "consume", description = "Print records of a topic, one per line.")
final class ConsumeCommand implements Callable<Integer> {
    /** How long a SIGTERM waits for the last poll's commit and the leave before the JVM exits. */
    private static final long SHUTDOWN_WAIT_SECONDS = 10;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOPIC")
    String topic;

    @Option(names = "--partition", paramLabel = "N", description = "Read only partition N (default: all).")
    Integer partition;

    @Option(names = "--from-beginning", description = "Start at the log start offset (default: the log end).")
    boolean fromBeginning;

    @Option(names = "--offset", paramLabel = "N", description = "Start at offset N (in every selected partition).")
    Long offset;

    @Option(names = "--max-messages", paramLabel = "N", description = "Exit after N records.")
    Long maxMessages;

    @Option(names = "--timeout-ms", paramLabel = "T", description = "Exit after T ms without new records.")
    Long timeoutMs;

    @Option(names = "--print-offsets", description = "Print partition<TAB>offset<TAB>key<TAB>value.")
    boolean printOffsets;

    @Option(names = "--group", paramLabel = "G", description = "Consume as a member of consumer group G, "
            + "committing after each batch printed (partitions without a committed offset start at the log end, "
            + "or at the log start with --from-beginning).")
    String group;

    @Override
    public Integer call() {
        if (fromBeginning && offset != null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--from-beginning and --offset are mutually exclusive");
        }
        if (group != null && (partition != null || offset != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--group cannot be combined with --partition or --offset (the group assigns partitions and "
                            + "stores the offsets)");
        }
        if (group != null && group.isBlank()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--group needs a non-blank group id");
        }
        if ((offset != null && offset < 0) || (maxMessages != null && maxMessages < 0)
                || (timeoutMs != null && timeoutMs < 0) || (partition != null && partition < 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "numeric options must be >= 0");
        }
        RaftlogCli root = RaftlogCli.root(spec);
        PrintWriter out = root.environment().out();
        // An explicit start position never resets silently: out-of-range --offset is an error.
        AutoOffsetReset reset = offset != null ? AutoOffsetReset.NONE
                : fromBeginning ? AutoOffsetReset.EARLIEST : AutoOffsetReset.LATEST;
        ConsumerConfig.Builder config = root.consumerConfig().autoOffsetReset(reset);
        if (group != null) {
            config.groupId(group).enableAutoCommit(false);
        }
        // SIGTERM/SIGINT: finish the current poll, commit, and leave the group cleanly (its partitions
        // move at once instead of after the session timeout), like kafka-console-consumer.
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch closed = new CountDownLatch(1);
        Thread shutdownHook = new Thread(() -> {
            stop.set(true);
            try {
                closed.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "raftlog-consume-shutdown");
        if (group != null) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        try {
            return consume(config, out, root, stop);
        } finally {
            closed.countDown();
            if (group != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running: it returns now that the consumer is closed
                }
            }
        }
    }

    private int consume(ConsumerConfig.Builder config, PrintWriter out, RaftlogCli root, AtomicBoolean stop) {
        try (Consumer<String, String> consumer = Consumer.create(config.build(),
                new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic);
            if (group != null) {
                consumer.subscribe(List.of(topic));
            } else {
                assignAndPosition(consumer, partitions);
            }
            long printed = 0;
            long lastDataNanos = System.nanoTime();
            while ((maxMessages == null || printed < maxMessages) && !stop.get()) {
                long pollMs = 1000;
                if (timeoutMs != null) {
                    long idleMs = (System.nanoTime() - lastDataNanos) / 1_000_000;
                    if (idleMs >= timeoutMs) {
                        break;
                    }
                    pollMs = Math.min(pollMs, timeoutMs - idleMs);
                }
                List<ConsumerRecord<String, String>> records = consumer.poll(Duration.ofMillis(pollMs));
                Map<TopicPartition, OffsetAndMetadata> next = new LinkedHashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    if (maxMessages != null && printed >= maxMessages) {
                        break;
                    }
                    out.println(format(r, printOffsets));
                    printed++;
                    next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                out.flush();
                if (group != null && !next.isEmpty()) {
                    commit(consumer, next, root);
                }
                if (!records.isEmpty()) {
                    lastDataNanos = System.nanoTime();
                }
            }
        }
        return 0;
    }

    /** Commits what was printed; a rebalance only means those records are delivered again to the new owner. */
    private static void commit(Consumer<String, String> consumer, Map<TopicPartition, OffsetAndMetadata> next,
                               RaftlogCli root) {
        try {
            consumer.commitSync(next);
        } catch (CommitFailedException e) {
            root.environment().err().println("warning: offsets not committed, these records may be delivered again: "
                    + e.getMessage());
            root.environment().err().flush();
        }
    }

    /** Without a group: assigns the selected partitions and resolves their start positions. */
    private void assignAndPosition(Consumer<String, String> consumer, List<TopicPartition> all) {
        List<TopicPartition> partitions = all;
        if (partition != null) {
            if (partition >= all.size()) {
                throw new UnknownTopicOrPartitionException("topic '" + topic + "' has no partition " + partition
                        + " (it has " + all.size() + ")");
            }
            partitions = List.of(new TopicPartition(topic, partition));
        }
        consumer.assign(partitions);
        if (offset != null) {
            partitions.forEach(tp -> consumer.seek(tp, offset));
        } else if (fromBeginning) {
            consumer.seekToBeginning(partitions);
        } else {
            consumer.seekToEnd(partitions);
        }
        // Resolve start positions now, so records produced after this point are seen.
        partitions.forEach(consumer::position);
    }

    /** A value (null as empty), or {@code partition\toffset\tkey\tvalue} with an empty key field for keyless records. */
    static String format(ConsumerRecord<String, String> r, boolean withOffsets) {
        String value = r.value() == null ? "" : r.value();
        if (!withOffsets) {
            return value;
        }
        return r.partition() + "\t" + r.offset() + "\t" + (r.key() == null ? "" : r.key()) + "\t" + value;
    }
}
