package io.raftlog.cli;

import io.raftlog.client.AutoOffsetReset;
import io.raftlog.client.ByteArrayDeserializer;
import io.raftlog.client.Consumer;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ConsumerRecord;
import io.raftlog.client.TopicPartition;
import java.io.PrintWriter;
import java.text.SimpleDateFormat;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code raftlog perf consume --topic T --messages N}: reads every partition of a topic from the
 * beginning with the SDK consumer until N records arrived, then prints one summary line like
 * kafka-consumer-perf-test ({@code start.time, end.time, data.consumed.in.MB, MB.sec,
 * data.consumed.in.nMsg, nMsg.sec}). MB counts key and value bytes (1 MB = 2^20 bytes); the clock
 * starts when the partitions are assigned, so metadata lookup is excluded. Exits 1 (after the
 * summary) when fewer than N records arrived before {@code --timeout-ms} passed without new data.
 */
@Command(name = "consume", description = "Consumer throughput: read N records from the beginning of a topic.")
final class PerfConsumeCommand implements Callable<Integer> {
    static final String HEADER = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec";

    @Spec
    CommandSpec spec;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC", description = "Topic to read (all partitions).")
    String topic;

    @Option(names = "--messages", required = true, paramLabel = "N", description = "Records to read.")
    long messages;

    @Option(names = "--timeout-ms", paramLabel = "T", defaultValue = "10000",
            description = "Give up after T ms without new records (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--consumer-property", paramLabel = "KEY=VALUE",
            description = "Consumer setting, e.g. max.poll.records=2000 (repeatable; see docs/client.md).")
    Map<String, String> consumerProperties = new LinkedHashMap<>();

    @Override
    public Integer call() {
        if (messages <= 0 || timeoutMs <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--messages and --timeout-ms must be > 0");
        }
        RaftlogCli root = RaftlogCli.root(spec);
        PrintWriter out = root.environment().out();
        ConsumerConfig config;
        try {
            config = root.consumerConfig().properties(consumerProperties).autoOffsetReset(AutoOffsetReset.EARLIEST)
                    .build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        long records = 0;
        long bytes = 0;
        long startMs;
        long startNanos;
        long lastDataNanos;
        try (Consumer<byte[], byte[]> consumer = Consumer.create(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            startMs = System.currentTimeMillis();
            startNanos = System.nanoTime();
            lastDataNanos = startNanos;
            while (records < messages) {
                long idleMs = (System.nanoTime() - lastDataNanos) / 1_000_000;
                if (idleMs >= timeoutMs) {
                    break;
                }
                List<ConsumerRecord<byte[], byte[]>> polled = consumer.poll(Duration.ofMillis(
                        Math.min(1000, timeoutMs - idleMs)));
                for (ConsumerRecord<byte[], byte[]> r : polled) {
                    records++;
                    bytes += (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
                }
                if (!polled.isEmpty()) {
                    lastDataNanos = System.nanoTime();
                }
            }
        }
        // Rates over the time until the last record arrived (not the final idle timeout).
        double seconds = Math.max(1e-9, (lastDataNanos - startNanos) / 1e9);
        long endMs = startMs + (lastDataNanos - startNanos) / 1_000_000;
        out.println(HEADER);
        out.println(summary(startMs, endMs, bytes, records, seconds));
        out.flush();
        if (records < messages) {
            throw new CliException("only " + records + " of " + messages + " records arrived; no new record for "
                    + timeoutMs + " ms");
        }
        return 0;
    }

    static String summary(long startMs, long endMs, long bytes, long records, double seconds) {
        SimpleDateFormat format = new SimpleDateFormat("yyyy-MM-dd HH:mm:ss:SSS", Locale.ROOT);
        double mb = bytes / (1024.0 * 1024.0);
        return String.format(Locale.ROOT, "%s, %s, %.4f, %.4f, %d, %.4f", format.format(new Date(startMs)),
                format.format(new Date(endMs)), mb, mb / seconds, records, records / seconds);
    }
}
