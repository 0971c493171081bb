package io.raftlog.cli;

import io.raftlog.client.Acks;
import io.raftlog.client.ByteArraySerializer;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.errors.InvalidTopicException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code perf produce}: a load generator like {@code kafka-producer-perf-test}. Sends
 * {@code --num-records} random values of {@code --record-size} bytes, optionally throttled, prints
 * a progress line about every 5 s and a final summary with HdrHistogram latency percentiles
 * (latency = {@code send} to acknowledgement).
 *
 * <p>As in Kafka's tool, the rate is paced from the moment the producer exists (its first
 * {@code send} still waits for the topic's metadata, and the records due meanwhile go out at once),
 * and {@code --warmup-records N} leaves the first N records out of a second summary line, "N steady
 * state records sent, ...", so a client's own start (a cold JVM, connections, metadata) can be told
 * apart from the cluster's steady latency.
 *
 * <p>The bootstrap servers come from the root command's global {@code --bootstrap} when this runs
 * under {@code raftlog}, otherwise from {@code RAFTLOG_BOOTSTRAP} / the config file (see
 * {@link BootstrapResolver}); {@code --producer-prop bootstrap.servers=...} overrides both.
 */
@Command(name = "produce", description = "Producer throughput and latency test (like kafka-producer-perf-test).")
public final class PerfProduceCommand implements Callable<Integer> {
    private static final long REPORT_INTERVAL_MS = 5000;

    /** Null when created by picocli under {@code raftlog perf}: then the root command's is used. */
    private final CliEnvironment givenEnvironment;
    private CliEnvironment environment;

    @Spec
    CommandSpec spec;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC")
    String topic;

    @Option(names = "--num-records", required = true, paramLabel = "N")
    long numRecords;

    @Option(names = "--record-size", required = true, paramLabel = "BYTES")
    int recordSize;

    @Option(names = "--throughput", required = true, paramLabel = "R",
            description = "Records per second to aim for; -1 = as fast as possible.")
    double throughput;

    @Option(names = "--warmup-records", paramLabel = "N", defaultValue = "0",
            description = "Leave the first N records out of the steady-state statistics, printed as an extra summary"
                    + " line after the total (as kafka-producer-perf-test's option of that name); 0: none.")
    long warmupRecords;

    @Option(names = "--acks", paramLabel = "0|1|all", defaultValue = "all")
    String acks;

    @Option(names = "--keys", paramLabel = "N", defaultValue = "0",
            description = "Give record i the key i mod N (decimal text), e.g. for a compacted topic, whose records"
                    + " need keys; 0 (default): no keys, round-robin over the partitions.")
    long keys;

    @Option(names = "--producer-prop", paramLabel = "KEY=VALUE",
            description = "Producer setting, Kafka-style (e.g. linger.ms=10); repeatable.")
    List<String> producerProps = List.of();

    /** Used by picocli when nested under {@code raftlog perf}. */
    public PerfProduceCommand() {
        this(null);
    }

    /** Stand-alone use (tests): all I/O goes through {@code environment}. */
    public PerfProduceCommand(CliEnvironment environment) {
        this.givenEnvironment = environment;
    }

    @Override
    public Integer call() throws Exception {
        environment = givenEnvironment != null ? givenEnvironment
                : ((RaftlogCli) spec.root().userObject()).environment();
        if (numRecords <= 0 || recordSize < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--num-records must be > 0 and --record-size >= 0");
        }
        if (warmupRecords < 0 || warmupRecords >= numRecords) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--warmup-records must be >= 0 and less than --num-records, got " + warmupRecords);
        }
        if (keys < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--keys must be >= 0, got " + keys);
        }
        Map<String, String> props = new LinkedHashMap<>();
        for (String kv : producerProps) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--producer-prop must be KEY=VALUE: " + kv);
            }
            props.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        ProducerConfig.Builder builder = ProducerConfig.builder().channelFactory(environment.channelFactory());
        try {
            builder.acks(Acks.parse(acks));
            if (!props.containsKey(ProducerConfig.BOOTSTRAP_SERVERS)) {
                builder.bootstrapServers(bootstrapServers());
            }
            builder.properties(props);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        ProducerConfig config = builder.build();
        PrintWriter out = environment.out();
        byte[] payload = new byte[recordSize];
        Random random = new Random(42);
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) ('A' + random.nextInt(26));
        }
        Stats stats = new Stats(out, "");
        Stats steady = null;
        if (warmupRecords > 0) {
            out.printf("Warmup first %d records. Steady state results will print after the complete test summary.%n",
                    warmupRecords);
        }
        long start;
        long steadyStart = 0;
        try (Producer<byte[], byte[]> producer = Producer.create(config, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            start = System.nanoTime();
            for (long i = 0; i < numRecords; i++) {
                if (throughput > 0) {
                    throttle(start, i);
                }
                if (i == warmupRecords && warmupRecords > 0) {
                    steady = new Stats(out, " steady state");
                    steadyStart = System.nanoTime();
                }
                Stats steadyOrNull = steady;
                long sentNanos = System.nanoTime();
                byte[] key = keys > 0 ? Long.toString(i % keys).getBytes(StandardCharsets.US_ASCII) : null;
                CompletableFuture<RecordMetadata> sent = producer.send(new ProducerRecord<>(topic, key, payload),
                        (m, e) -> {
                            if (e != null) {
                                stats.failed(e.getMessage());
                            } else {
                                long latency = System.nanoTime() - sentNanos;
                                stats.record(latency, recordSize);
                                if (steadyOrNull != null) {
                                    steadyOrNull.record(latency, recordSize);
                                }
                            }
                        });
                InvalidTopicException invalid = ProduceCommand.invalidTopic(sent);
                if (invalid != null) {
                    throw invalid; // every record would fail the same way
                }
                stats.maybeReport();
            }
            producer.flush();
        }
        long end = System.nanoTime();
        stats.printTotal(end - start);
        if (steady != null) {
            steady.printTotal(end - steadyStart);
        }
        return stats.errors.get() == 0 ? 0 : 1;
    }

    private List<String> bootstrapServers() {
        Object root = spec.root().userObject();
        if (root instanceof RaftlogCli cli) {
            return cli.bootstrapServers();
        }
        return BootstrapResolver.resolve(null, environment.env(), environment.home());
    }

    /** Waits until record {@code index} is due at the target rate (a pacing wait, not synchronization). */
    private void throttle(long startNanos, long index) throws InterruptedException {
        long dueNanos = startNanos + (long) (index * 1e9 / throughput);
        long waitNanos = dueNanos - System.nanoTime();
        if (waitNanos > 0) {
            TimeUnit.NANOSECONDS.sleep(waitNanos);
        }
    }

    /** Latency histogram and counters; callbacks run on the producer's sender thread. */
    private static final class Stats {
        private final PrintWriter out;
        /** Inserted after the count in the summary line: "" or " steady state" (Kafka's wording). */
        private final String label;
        private final Histogram total = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        private final Histogram window = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        private final AtomicLong errors = new AtomicLong();
        private long count;
        private long bytes;
        private long windowCount;
        private long windowBytes;
        private long windowStart = System.nanoTime();
        private String firstError;

        Stats(PrintWriter out, String label) {
            this.out = out;
            this.label = label;
        }

        synchronized void record(long latencyNanos, int size) {
            long micros = Math.max(1, Math.min(total.getHighestTrackableValue(), latencyNanos / 1000));
            total.recordValue(micros);
            window.recordValue(micros);
            count++;
            bytes += size;
            windowCount++;
            windowBytes += size;
        }

        void failed(String message) {
            if (errors.getAndIncrement() == 0) {
                synchronized (this) {
                    firstError = message;
                }
            }
        }

        synchronized void maybeReport() {
            long now = System.nanoTime();
            if (now - windowStart < TimeUnit.MILLISECONDS.toNanos(REPORT_INTERVAL_MS)) {
                return;
            }
            double secs = (now - windowStart) / 1e9;
            out.printf("%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.%n",
                    windowCount, windowCount / secs, windowBytes / secs / (1024 * 1024), window.getMean() / 1000,
                    window.getMaxValue() / 1000.0);
            out.flush();
            window.reset();
            windowCount = 0;
            windowBytes = 0;
            windowStart = now;
        }

        synchronized void printTotal(long elapsedNanos) {
            double secs = Math.max(elapsedNanos, 1) / 1e9;
            out.printf("%d%s records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, "
                            + "%d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.%n",
                    count, label, count / secs, bytes / secs / (1024 * 1024), total.getMean() / 1000,
                    total.getMaxValue() / 1000.0, ms(50), ms(95), ms(99), ms(99.9));
            if (errors.get() > 0) {
                out.printf("%d records failed; first error: %s%n", errors.get(), firstError);
            }
            out.flush();
        }

        private long ms(double percentile) {
            return total.getValueAtPercentile(percentile) / 1000;
        }
    }
}
