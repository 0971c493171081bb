package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.TopicPartition;
import io.raftlog.client.fake.FakeCluster;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class PerfConsumeCommandTest {
    @TempDir
    Path home;

    private FakeCluster cluster;
    private CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cli = new CliHarness(cluster, home);
        cluster.createTopic("t", 2, 1);
        cluster.append(new TopicPartition("t", 0), "aaaa", "bbbb", "cccc");
        cluster.append(new TopicPartition("t", 1), "dddd", "eeee", "ffff");
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void readsAllPartitionsFromTheBeginningAndPrintsAKafkaStyleSummary() {
        CliHarness.Result r = cli.run("perf", "consume", "--topic", "t", "--messages", "6",
                "--consumer-property", "max.poll.records=2");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.outLines();
        assertEquals(2, lines.size(), r.out());
        assertEquals(PerfConsumeCommand.HEADER, lines.get(0));
        String[] fields = lines.get(1).split(", ");
        assertEquals(6, fields.length, lines.get(1));
        assertEquals(String.format(java.util.Locale.ROOT, "%.4f", 24 / 1048576.0), fields[2], "MB consumed");
        assertEquals("6", fields[4], "records");
        assertTrue(Double.parseDouble(fields[5]) > 0, lines.get(1));
    }

    @Test
    void tooFewRecordsPrintsTheSummaryThenFails() {
        CliHarness.Result r = cli.run("perf", "consume", "--topic", "t", "--messages", "10", "--timeout-ms", "300");
        assertEquals(1, r.exitCode());
        assertEquals("6", r.outLines().get(1).split(", ")[4]);
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("error: only 6 of 10 records"), r.err());
    }

    @Test
    void badUsageIsAUsageError() {
        assertEquals(2, cli.run("perf", "consume", "--topic", "t").exitCode(), "--messages is required");
        assertEquals(2, cli.run("perf", "consume", "--topic", "t", "--messages", "1",
                "--consumer-property", "isolation.level=read_committed").exitCode(), "unknown consumer property");
        assertEquals(2, cli.run("perf").exitCode());
    }
}
