package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.TopicPartition;
import io.raftlog.client.fake.FakeCluster;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

@Timeout(30)
class PerfProduceCommandTest {
    private FakeCluster cluster;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("perf", 3, 1);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private int run(String... args) {
        CliEnvironment env = new CliEnvironment(new ByteArrayInputStream(new byte[0]), new PrintWriter(out, true),
                new PrintWriter(err, true), Map.of(BootstrapResolver.ENV_VAR, cluster.bootstrap()), Path.of("/nonexistent"),
                cluster.channelFactory());
        CommandLine cmd = new CommandLine(new PerfProduceCommand(env));
        cmd.setOut(env.out());
        cmd.setErr(env.err());
        return cmd.execute(args);
    }

    @Test
    void sendsEveryRecordAndPrintsTheKafkaStyleSummary() {
        int code = run("--topic", "perf", "--num-records", "3000", "--record-size", "100", "--throughput", "-1",
                "--acks", "1", "--producer-prop", "linger.ms=2", "--producer-prop", "compression.type=lz4");
        assertEquals(0, code, err.toString());
        String summary = out.toString().strip();
        assertTrue(summary.matches("(?s).*3000 records sent, [0-9.]+ records/sec \\([0-9.]+ MB/sec\\), [0-9.]+ ms avg "
                + "latency, [0-9.]+ ms max latency, \\d+ ms 50th, \\d+ ms 95th, \\d+ ms 99th, \\d+ ms 99\\.9th\\."), summary);
        int stored = 0;
        for (int p = 0; p < 3; p++) {
            stored += cluster.log(new TopicPartition("perf", p)).size();
        }
        assertEquals(3000, stored);
    }

    @Test
    void warmupRecordsAreLeftOutOfASecondSteadyStateSummary() {
        assertEquals(0, run("--topic", "perf", "--num-records", "500", "--warmup-records", "200", "--record-size", "10",
                "--throughput", "-1"), err.toString());
        String output = out.toString();
        assertTrue(output.startsWith("Warmup first 200 records."), output);
        String[] lines = output.strip().split("\\R");
        assertTrue(lines[lines.length - 2].startsWith("500 records sent, "), output);
        assertTrue(lines[lines.length - 1].matches("300 steady state records sent, [0-9.]+ records/sec .* \\d+ ms 99\\.9th\\."),
                output);
    }

    @Test
    void warmupRecordsMustLeaveRecordsToMeasure() {
        assertEquals(2, run("--topic", "perf", "--num-records", "10", "--warmup-records", "10", "--record-size", "1",
                "--throughput", "-1"));
        assertTrue(err.toString().contains("--warmup-records must be >= 0 and less than --num-records"), err.toString());
        assertEquals(2, run("--topic", "perf", "--num-records", "10", "--warmup-records", "-1", "--record-size", "1",
                "--throughput", "-1"));
    }

    @Test
    void keysCycleOverTheGivenKeySpace() {
        assertEquals(0, run("--topic", "perf", "--num-records", "30", "--record-size", "10", "--throughput", "-1",
                "--keys", "4"), err.toString());
        java.util.Set<String> keys = new java.util.TreeSet<>();
        for (int p = 0; p < 3; p++) {
            for (var r : cluster.log(new TopicPartition("perf", p))) {
                assertTrue(r.hasKey(), "every record has a key");
                keys.add(r.getKey().toStringUtf8());
            }
        }
        assertEquals(java.util.Set.of("0", "1", "2", "3"), keys);
        assertEquals(2, run("--topic", "perf", "--num-records", "1", "--record-size", "1", "--throughput", "-1",
                "--keys", "-1"));
    }

    @Test
    void throttlesToTheRequestedRate() {
        long start = System.nanoTime();
        assertEquals(0, run("--topic", "perf", "--num-records", "50", "--record-size", "10", "--throughput", "100"));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(elapsedMs >= 450, "50 records at 100/s take about 0.5 s, took " + elapsedMs);
    }

    @Test
    void rejectsUnknownProducerProperties() {
        assertEquals(2, run("--topic", "perf", "--num-records", "1", "--record-size", "1", "--throughput", "-1",
                "--producer-prop", "lingerms=1"));
        assertTrue(err.toString().contains("lingerms"), err.toString());
    }
}
