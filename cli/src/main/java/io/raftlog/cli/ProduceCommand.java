package io.raftlog.cli;

import io.raftlog.client.Acks;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerRecord;
import io.raftlog.client.RecordMetadata;
import io.raftlog.client.StringSerializer;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.InvalidTopicException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code raftlog produce TOPIC}: one record per stdin line. A reporter thread waits for the
 * records' futures in input order, so {@code --print-offsets} lines come out in input order even
 * though sends are pipelined; failures go to stderr and make the exit code 1. A topic name no topic
 * can have fails the first send at once: the command then stops reading and reports that once.
 */
@Command(name = "produce", description = "Send one record per stdin line (UTF-8).")
final class ProduceCommand implements Callable<Integer> {
    /** Records sent but not yet reported; bounds memory when stdin is much faster than the cluster. */
    private static final int MAX_UNREPORTED = 10_000;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOPIC")
    String topic;

    @Option(names = "--acks", paramLabel = "0|1|all", defaultValue = "all",
            description = "Acknowledgement level (default: ${DEFAULT-VALUE}). all and 1 use the idempotent producer.")
    String acks;

    @Option(names = "--key-separator", paramLabel = "SEP",
            description = "Text before the first SEP is the key; lines without SEP are keyless.")
    String keySeparator;

    @Option(names = "--partition", paramLabel = "N", description = "Send every record to partition N.")
    Integer partition;

    @Option(names = "--print-offsets",
            description = "Print partition<TAB>offset per line, in input order, once acknowledged (-1 with acks=0).")
    boolean printOffsets;

    private record Sent(long lineNumber, CompletableFuture<RecordMetadata> future) {
    }

    private static final Sent END = new Sent(-1, null);

    @Override
    public Integer call() throws Exception {
        Acks level;
        try {
            level = Acks.parse(acks);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (keySeparator != null && keySeparator.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--key-separator must not be empty");
        }
        if (partition != null && partition < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--partition must be >= 0");
        }
        RaftlogCli root = RaftlogCli.root(spec);
        CliEnvironment env = root.environment();
        BlockingQueue<Sent> unreported = new ArrayBlockingQueue<>(MAX_UNREPORTED);
        AtomicInteger failures = new AtomicInteger();
        Thread reporter = new Thread(() -> report(unreported, env.out(), env.err(), failures), "raftlog-produce-report");
        reporter.start();
        try (Producer<String, String> producer = Producer.create(root.producerConfig().acks(level).build(),
                new StringSerializer(), new StringSerializer());
             BufferedReader in = new BufferedReader(new InputStreamReader(env.in(), StandardCharsets.UTF_8))) {
            long lineNumber = 0;
            String line;
            while ((line = in.readLine()) != null) {
                lineNumber++;
                KeyValueLine kv = KeyValueLine.parse(line, keySeparator);
                CompletableFuture<RecordMetadata> sent =
                        producer.send(new ProducerRecord<>(topic, partition, kv.key(), kv.value()));
                InvalidTopicException invalid = invalidTopic(sent);
                if (invalid != null) {
                    // Every line would fail the same way: one "error: ..." line, not one per line.
                    throw invalid;
                }
                unreported.put(new Sent(lineNumber, sent));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading stdin failed", e);
        } finally {
            unreported.put(END);
            reporter.join();
        }
        return failures.get() == 0 ? 0 : 1;
    }

    /** The InvalidTopicException {@code sent} already failed with (send fails those at once), else null. */
    static InvalidTopicException invalidTopic(CompletableFuture<?> sent) {
        if (!sent.isCompletedExceptionally()) {
            return null;
        }
        try {
            sent.join();
            return null;
        } catch (RuntimeException e) {
            return Errors.fromThrowable(e) instanceof InvalidTopicException invalid ? invalid : null;
        }
    }

    private void report(BlockingQueue<Sent> unreported, PrintWriter out, PrintWriter err, AtomicInteger failures) {
        try {
            while (true) {
                Sent sent = unreported.take();
                if (sent == END) {
                    return;
                }
                try {
                    RecordMetadata m = sent.future().join();
                    if (printOffsets) {
                        out.println(m.partition() + "\t" + m.offset());
                        out.flush();
                    }
                } catch (RuntimeException e) {
                    failures.incrementAndGet();
                    err.println("error: line " + sent.lineNumber() + " not produced: "
                            + Errors.fromThrowable(e).getMessage());
                    err.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
