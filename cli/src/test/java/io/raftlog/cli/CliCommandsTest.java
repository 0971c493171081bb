package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.api.v1.Record;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.internals.Partitioner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class CliCommandsTest {
    @TempDir
    Path home;

    private FakeCluster cluster;
    private CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cli = new CliHarness(cluster, home);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void topicCommands() {
        CliHarness.Result created = cli.run("topic", "create", "orders", "--partitions", "3", "--replication-factor", "2");
        assertEquals(0, created.exitCode(), created.err());
        assertEquals("Created topic orders.\n", created.out());
        cli.run("topic", "create", "audit", "--partitions", "1", "--replication-factor", "1");

        assertEquals(List.of("audit", "orders"), cli.run("topic", "list").outLines());

        cluster.append(new TopicPartition("orders", 1), "a", "b");
        CliHarness.Result json = cli.run("topic", "describe", "orders", "--json");
        assertEquals(0, json.exitCode());
        assertEquals("{\"topic\":\"orders\",\"partitions\":["
                + "{\"partition\":0,\"leader\":1,\"replicas\":[1,2],\"isr\":[1,2],\"logStartOffset\":0,\"logEndOffset\":0,\"targetReplicas\":[]},"
                + "{\"partition\":1,\"leader\":2,\"replicas\":[2,3],\"isr\":[2,3],\"logStartOffset\":0,\"logEndOffset\":2,\"targetReplicas\":[]},"
                + "{\"partition\":2,\"leader\":3,\"replicas\":[3,1],\"isr\":[3,1],\"logStartOffset\":0,\"logEndOffset\":0,\"targetReplicas\":[]}"
                + "]," + DEFAULT_CONFIG_JSON + ",\"configOverrides\":{}}\n", json.out());

        List<String> table = cli.run("topic", "describe", "orders").outLines();
        assertEquals("Topic: orders  Partitions: 3  ReplicationFactor: 2", table.get(0));
        assertEquals(List.of("PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "LOG-END-OFFSET"),
                List.of(table.get(1).split("\\s+")));
        assertEquals(List.of("1", "2", "2,3", "2,3", "0", "2"), List.of(table.get(3).split("\\s+")));
        assertEquals(List.of("Configs:"), table.subList(5, table.size()), "no overrides: an empty Configs line last");

        CliHarness.Result deleted = cli.run("topic", "delete", "audit");
        assertEquals("Deleted topic audit.\n", deleted.out());
        assertEquals(List.of("orders"), cli.run("topic", "list").outLines());
    }

    /** The JSON "config" member of a topic without overrides on the fake cluster. */
    private static final String DEFAULT_CONFIG_JSON = "\"config\":{\"cleanup.policy\":\"delete\","
            + "\"delete.retention.ms\":\"86400000\","
            + "\"max.message.bytes\":\"1048576\",\"min.cleanable.dirty.ratio\":\"0.5\","
            + "\"min.compaction.lag.ms\":\"0\",\"retention.bytes\":\"-1\",\"retention.ms\":\"604800000\","
            + "\"segment.bytes\":\"67108864\",\"segment.ms\":\"604800000\"}";

    @Test
    void topicConfigsAreSetShownAndAltered() {
        CliHarness.Result created = cli.run("topic", "create", "orders", "--partitions", "1", "--replication-factor",
                "1", "--config", "segment.bytes=1048576", "--config", "retention.ms=86400000");
        assertEquals(0, created.exitCode(), created.err());
        assertEquals("Created topic orders.\n", created.out());
        assertEquals(Map.of("retention.ms", "86400000", "segment.bytes", "1048576"), cluster.topicConfig("orders"));

        List<String> table = cli.run("topic", "describe", "orders").outLines();
        assertEquals("Topic: orders  Partitions: 1  ReplicationFactor: 1", table.get(0));
        assertEquals("Configs: retention.ms=86400000,segment.bytes=1048576", table.get(table.size() - 1));
        CliHarness.Result json = cli.run("topic", "describe", "orders", "--json");
        assertTrue(json.out().endsWith("],\"config\":{\"cleanup.policy\":\"delete\",\"delete.retention.ms\":\"86400000\","
                + "\"max.message.bytes\":\"1048576\",\"min.cleanable.dirty.ratio\":\"0.5\",\"min.compaction.lag.ms\":\"0\","
                + "\"retention.bytes\":\"-1\",\"retention.ms\":\"86400000\",\"segment.bytes\":\"1048576\","
                + "\"segment.ms\":\"604800000\"},"
                + "\"configOverrides\":{\"retention.ms\":\"86400000\",\"segment.bytes\":\"1048576\"}}\n"), json.out());

        CliHarness.Result altered = cli.run("topic", "alter-config", "orders", "--config", "max.message.bytes=4096",
                "--config", "retention.ms=3600000", "--delete-config", "segment.bytes");
        assertEquals(0, altered.exitCode(), altered.err());
        assertEquals("Altered config of topic orders. Configs: max.message.bytes=4096,retention.ms=3600000\n",
                altered.out());
        assertEquals(Map.of("max.message.bytes", "4096", "retention.ms", "3600000"), cluster.topicConfig("orders"));
        List<String> after = cli.run("topic", "describe", "orders").outLines();
        assertEquals("Configs: max.message.bytes=4096,retention.ms=3600000", after.get(after.size() - 1));

        CliHarness.Result cleared = cli.run("topic", "alter-config", "orders", "--delete-config", "max.message.bytes",
                "--delete-config", "retention.ms");
        assertEquals("Altered config of topic orders. Configs:\n", cleared.out());
        assertEquals(Map.of(), cluster.topicConfig("orders"));
    }

    @Test
    void topicAddPartitions() {
        cluster.createTopic("orders", 3, 2);
        CliHarness.Result added = cli.run("topic", "add-partitions", "orders", "--partitions", "6");
        assertEquals(0, added.exitCode(), added.err());
        assertEquals("", added.err());
        assertEquals("Topic orders now has 6 partitions (was 3).\n", added.out());
        assertEquals(6, cluster.partitionCount("orders"));
        assertEquals("Topic: orders  Partitions: 6  ReplicationFactor: 2",
                cli.run("topic", "describe", "orders").outLines().get(0));

        CliHarness.Result json = cli.run("topic", "add-partitions", "orders", "--partitions", "8", "--json");
        assertEquals(0, json.exitCode(), json.err());
        assertEquals("{\"topic\":\"orders\",\"previousPartitions\":6,\"partitions\":8}\n", json.out());

        // Refused by the broker: one error line, exit 1, nothing changed.
        CliHarness.Result shrink = cli.run("topic", "add-partitions", "orders", "--partitions", "4");
        assertEquals(1, shrink.exitCode());
        assertEquals("", shrink.out());
        assertEquals("error: topic 'orders' has 8 partitions; the count can only grow: give a new total above 8, "
                + "got 4\n", shrink.err());
        CliHarness.Result missing = cli.run("topic", "add-partitions", "nope", "--partitions", "4", "--json");
        assertEquals(1, missing.exitCode());
        assertEquals("", missing.out());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().startsWith("error: ") && missing.err().contains("does not exist"), missing.err());
        CliHarness.Result badName = cli.run("topic", "add-partitions", "bad name!", "--partitions", "4");
        assertEquals(1, badName.exitCode());
        assertTrue(badName.err().startsWith("error: topic name 'bad name!' is illegal"), badName.err());
        assertEquals(8, cluster.partitionCount("orders"));

        // Usage errors (exit 2) before anything is sent.
        assertEquals(2, cli.run("topic", "add-partitions", "orders").exitCode(), "--partitions is required");
        assertEquals(2, cli.run("topic", "add-partitions", "--partitions", "9").exitCode(), "NAME is required");
        assertEquals(2, cli.run("topic", "add-partitions", "orders", "--partitions", "many").exitCode());
        assertEquals(8, cluster.partitionCount("orders"));
    }

    @Test
    void badConfigArgumentsAreClearErrors() {
        cluster.createTopic("t", 1, 1);
        // Syntax: usage errors (exit 2) before anything is sent.
        CliHarness.Result noEquals = cli.run("topic", "create", "x", "--partitions", "1", "--replication-factor", "1",
                "--config", "retention.ms");
        assertEquals(2, noEquals.exitCode());
        assertTrue(noEquals.err().contains("--config must be KEY=VALUE, e.g. --config retention.ms=86400000; got "
                + "'retention.ms'"), noEquals.err());
        CliHarness.Result noKey = cli.run("topic", "alter-config", "t", "--config", "=5");
        assertEquals(2, noKey.exitCode());
        assertTrue(noKey.err().contains("--config needs a key before '='"), noKey.err());
        CliHarness.Result nothing = cli.run("topic", "alter-config", "t");
        assertEquals(2, nothing.exitCode());
        assertTrue(nothing.err().contains("nothing to change"), nothing.err());
        assertEquals(List.of("t"), cli.run("topic", "list").outLines(), "nothing was created");

        // Refused by the broker: one error line, exit 1.
        CliHarness.Result unknownKey = cli.run("topic", "alter-config", "t", "--config", "retention=5");
        assertEquals(1, unknownKey.exitCode());
        assertTrue(unknownKey.err().startsWith("error: unknown topic config 'retention'"), unknownKey.err());
        assertEquals(1, unknownKey.err().lines().count(), unknownKey.err());
        CliHarness.Result missing = cli.run("topic", "alter-config", "nope", "--config", "retention.ms=5");
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().startsWith("error: "), missing.err());
        assertTrue(missing.err().contains("does not exist"), missing.err());
        assertEquals(Map.of(), cluster.topicConfig("t"), "nothing was changed");
    }

    @Test
    void clusterDescribeJson() {
        cluster.createTopic("orders", 3, 3);
        cluster.stopBroker(3);
        CliHarness.Result r = cli.run("cluster", "describe", "--json");
        assertEquals(0, r.exitCode(), r.err());
        String b = "{\"id\":%d,\"host\":\"%s\",\"port\":%d,\"alive\":%s,\"decommissioned\":false,\"leaders\":%d,"
                + "\"replicas\":3}";
        assertEquals("{\"clusterId\":\"fake-cluster\",\"metadataLeader\":1,\"brokers\":["
                + String.format(b, 1, cluster.host(1), cluster.port(1), true, 1) + ","
                + String.format(b, 2, cluster.host(2), cluster.port(2), true, 1) + ","
                + String.format(b, 3, cluster.host(3), cluster.port(3), false, 0) + "],"
                + "\"underReplicatedPartitions\":["
                + "{\"topic\":\"orders\",\"partition\":0,\"leader\":1,\"replicas\":[1,2,3],\"isr\":[1,2]},"
                + "{\"topic\":\"orders\",\"partition\":1,\"leader\":2,\"replicas\":[2,3,1],\"isr\":[2,1]},"
                + "{\"topic\":\"orders\",\"partition\":2,\"leader\":-1,\"replicas\":[3,1,2],\"isr\":[]}]}\n",
                r.out());
    }

    @Test
    void clusterDescribeText() {
        cluster.createTopic("orders", 2, 3);
        List<String> healthy = cli.run("cluster", "describe").outLines();
        assertEquals("Cluster: fake-cluster", healthy.get(0));
        assertEquals("Metadata leader: 1", healthy.get(1));
        assertEquals(List.of("ID", "HOST", "PORT", "ALIVE", "LEADERS", "REPLICAS"), List.of(healthy.get(2).split("\\s+")));
        assertEquals(List.of("1", cluster.host(1), String.valueOf(cluster.port(1)), "yes", "1", "2"),
                List.of(healthy.get(3).split("\\s+")));
        assertEquals("Under-replicated partitions: none", healthy.get(healthy.size() - 1));

        cluster.stopBroker(2);
        List<String> text = cli.run("cluster", "describe").outLines();
        int at = text.indexOf("Under-replicated partitions: 2");
        assertTrue(at > 0, String.join("\n", text));
        assertEquals(List.of("TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"), List.of(text.get(at + 1).split("\\s+")));
        assertEquals(List.of("orders", "0", "1", "1,2,3", "1,3"), List.of(text.get(at + 2).split("\\s+")));
        assertEquals(List.of("orders", "1", "none", "2,3,1", "-"), List.of(text.get(at + 3).split("\\s+")));
    }

    @Test
    void produceWithKeysPrintsOffsetsInInputOrder() {
        cluster.createTopic("t", 3, 1);
        CliHarness.Result r = cli.runWithInput("k1:v1\nnokey\nk1:v2\n:emptykey\n",
                "produce", "t", "--key-separator", ":", "--print-offsets");
        assertEquals(0, r.exitCode(), r.err());
        int keyed = Partitioner.toPositive(Partitioner.murmur2("k1".getBytes(StandardCharsets.UTF_8))) % 3;
        int empty = Partitioner.toPositive(Partitioner.murmur2(new byte[0])) % 3;
        List<String> lines = r.outLines();
        assertEquals(4, lines.size());
        assertEquals(keyed + "\t0", lines.get(0));
        // The first keyless record goes to partition 0 (round-robin starts at 0).
        assertEquals("0\t" + (keyed == 0 ? 1 : 0), lines.get(1));
        assertEquals(keyed + "\t" + (keyed == 0 ? 2 : 1), lines.get(2));
        assertTrue(lines.get(3).startsWith(empty + "\t"));

        List<Record> log = cluster.log(new TopicPartition("t", keyed));
        Record first = log.get(0);
        assertEquals("k1", first.getKey().toStringUtf8());
        assertEquals("v1", first.getValue().toStringUtf8());
        Record keyless = cluster.log(new TopicPartition("t", 0)).stream()
                .filter(rec -> rec.getValue().toStringUtf8().equals("nokey")).findFirst().orElseThrow();
        assertFalse(keyless.hasKey(), "a line without the separator is keyless");
    }

    @Test
    void produceWithoutPrintOffsetsIsSilentAndAcksZeroPrintsMinusOne() {
        cluster.createTopic("t", 2, 1);
        CliHarness.Result silent = cli.runWithInput("a\nb\n", "produce", "t");
        assertEquals(0, silent.exitCode(), silent.err());
        assertEquals("", silent.out());
        assertEquals(2, cluster.log(new TopicPartition("t", 0)).size() + cluster.log(new TopicPartition("t", 1)).size());

        CliHarness.Result acks0 = cli.runWithInput("x\ny\n", "produce", "t", "--acks", "0", "--partition", "1", "--print-offsets");
        assertEquals(0, acks0.exitCode(), acks0.err());
        assertEquals(List.of("1\t-1", "1\t-1"), acks0.outLines());
    }

    @Test
    void produceFailuresGoToStderrWithExitCodeOne() {
        CliHarness.Result r = cli.runWithInput("a\nb\n", "produce", "missing", "--print-offsets");
        assertEquals(1, r.exitCode());
        assertEquals("", r.out());
        List<String> err = List.of(r.err().split("\\R"));
        assertEquals(2, err.size(), r.err());
        assertTrue(err.get(0).startsWith("error: line 1 not produced: "), err.get(0));
        assertTrue(err.get(0).contains("missing"), err.get(0));
    }

    @Test
    void consumeFromBeginningWithOffsetsAndLimits() {
        cluster.createTopic("t", 2, 1);
        cli.runWithInput("k:v0\nk:v1\nk:v2\n", "produce", "t", "--key-separator", ":", "--partition", "1");
        cli.runWithInput("plain\n", "produce", "t", "--partition", "0");

        CliHarness.Result r = cli.run("consume", "t", "--from-beginning", "--max-messages", "4", "--print-offsets");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.outLines();
        assertEquals(4, lines.size());
        assertEquals(List.of("1\t0\tk\tv0", "1\t1\tk\tv1", "1\t2\tk\tv2"),
                lines.stream().filter(l -> l.startsWith("1\t")).toList());
        assertTrue(lines.contains("0\t0\t\tplain"), lines.toString());

        CliHarness.Result values = cli.run("consume", "t", "--partition", "1", "--offset", "1", "--timeout-ms", "300");
        assertEquals(0, values.exitCode(), values.err());
        assertEquals(List.of("v1", "v2"), values.outLines());

        CliHarness.Result limited = cli.run("consume", "t", "--partition", "1", "--from-beginning", "--max-messages", "2");
        assertEquals(List.of("v0", "v1"), limited.outLines());
    }

    @Test
    void consumeInAGroupCommitsWhatItPrintedAndTheNextRunResumes() {
        cluster.membership(); // the membership fake answers FindCoordinator
        cluster.createTopic("t", 2, 1);
        cluster.append(new TopicPartition("t", 0), "a0", "a1", "a2");
        cluster.append(new TopicPartition("t", 1), "b0");

        CliHarness.Result first = cli.run("consume", "t", "--group", "g", "--from-beginning", "--max-messages", "2",
                "--print-offsets");
        assertEquals(0, first.exitCode(), first.err());
        assertEquals(2, first.outLines().size(), first.out());
        long committed = cluster.membership().committed("g").values().stream().mapToLong(Long::longValue).sum();
        assertEquals(2, committed, "exactly the printed records are committed: " + cluster.membership().committed("g"));
        assertEquals(java.util.Set.of(), cluster.membership().members("g"), "left the group on exit");

        // Partition 0 resumes at its committed offset; partition 1 has none, so --from-beginning applies.
        CliHarness.Result second = cli.run("consume", "t", "--group", "g", "--from-beginning", "--timeout-ms", "1500",
                "--print-offsets");
        assertEquals(0, second.exitCode(), second.err());
        java.util.Set<String> all = new java.util.HashSet<>(first.outLines());
        all.addAll(second.outLines());
        assertEquals(4, first.outLines().size() + second.outLines().size(), "nothing twice: " + first.out() + second.out());
        assertEquals(java.util.Set.of("0\t0\t\ta0", "0\t1\t\ta1", "0\t2\t\ta2", "1\t0\t\tb0"), all);
        assertEquals(Map.of(new TopicPartition("t", 0), 3L, new TopicPartition("t", 1), 1L),
                cluster.membership().committed("g"));

        CliHarness.Result fresh = cli.run("consume", "t", "--group", "other", "--timeout-ms", "1000");
        assertEquals(0, fresh.exitCode(), fresh.err());
        assertEquals("", fresh.out(), "a new group without --from-beginning starts at the log end");

        assertEquals(2, cli.run("consume", "t", "--group", "g", "--partition", "0").exitCode());
        assertEquals(2, cli.run("consume", "t", "--group", "g", "--offset", "1").exitCode());
    }

    @Test
    void consumeDefaultsToLatest() {
        cluster.createTopic("t", 1, 1);
        cluster.append(new TopicPartition("t", 0), "old");
        CliHarness.Result r = cli.run("consume", "t", "--timeout-ms", "200");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.out());
    }

    @Test
    void errorsAreOneLineWithExitCodes() {
        CliHarness.Result unknown = cli.run("topic", "describe", "nope");
        assertEquals(1, unknown.exitCode());
        assertEquals("", unknown.out());
        assertEquals(1, unknown.err().lines().count(), unknown.err());
        assertTrue(unknown.err().startsWith("error: "), unknown.err());

        CliHarness.Result exists = cli.run("topic", "create", "x", "--partitions", "1", "--replication-factor", "1");
        assertEquals(0, exists.exitCode());
        CliHarness.Result again = cli.run("topic", "create", "x", "--partitions", "1", "--replication-factor", "1");
        assertEquals(1, again.exitCode());
        assertTrue(again.err().contains("already exists"), again.err());

        CliHarness.Result verbose = cli.run("--verbose", "topic", "describe", "nope");
        assertTrue(verbose.err().lines().count() > 1, "stack trace with --verbose");

        assertEquals(2, cli.run("topic", "create", "y").exitCode(), "usage error");
        assertEquals(2, cli.run("consume", "t", "--from-beginning", "--offset", "3").exitCode());
        assertEquals(2, cli.run("produce", "t", "--acks", "2").exitCode());
    }

    @Test
    void invalidTopicNamesAreOneErrorLineWithExitCodeOne() {
        cluster.createTopic("t", 1, 1);
        String bad = "bad name!";
        String expected = "error: topic name 'bad name!' is illegal: character ' ' (U+0020) at index 3; "
                + "use only ASCII letters, digits, '.', '_' and '-'";
        List<CliHarness.Result> results = List.of(
                cli.runWithInput("a\nb\nc\n", "produce", bad),
                cli.runWithInput("a\nb\nc\n", "produce", bad, "--print-offsets", "--acks", "0"),
                cli.run("consume", bad, "--from-beginning", "--timeout-ms", "200"),
                cli.run("topic", "create", bad, "--partitions", "1", "--replication-factor", "1"),
                cli.run("topic", "describe", bad),
                cli.run("topic", "delete", bad),
                cli.run("perf", "produce", "--topic", bad, "--num-records", "100", "--record-size", "10",
                        "--throughput", "-1"),
                cli.run("perf", "consume", "--topic", bad, "--messages", "1", "--timeout-ms", "200"));
        for (CliHarness.Result r : results) {
            assertEquals(1, r.exitCode(), r.err());
            assertEquals("", r.out());
            assertEquals(expected + "\n", r.err());
        }
        // Control characters are escaped by the message, so it stays one line.
        CliHarness.Result newline = cli.runWithInput("a\n", "produce", "two\nlines");
        assertEquals(1, newline.exitCode());
        assertEquals(1, newline.err().lines().count(), newline.err());
        assertTrue(newline.err().startsWith("error: topic name 'two\\u000alines' is illegal"), newline.err());
        assertEquals(List.of("t"), cli.run("topic", "list").outLines(), "nothing was created");
        assertTrue(cluster.produceCalls().isEmpty());
    }

    @Test
    void missingBootstrapIsAClearError() {
        java.io.StringWriter err = new java.io.StringWriter();
        CliEnvironment env = new CliEnvironment(java.io.InputStream.nullInputStream(),
                new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err), Map.of(), home,
                cluster.channelFactory());
        assertEquals(1, RaftlogCli.execute(new String[] {"topic", "list"}, env));
        assertTrue(err.toString().startsWith("error: no bootstrap servers"), err.toString());
    }
}
