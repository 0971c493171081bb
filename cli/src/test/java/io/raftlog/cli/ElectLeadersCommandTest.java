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

/** {@code raftlog cluster elect-leaders} against the fake cluster, which elects against its own state. */
@Timeout(30)
class ElectLeadersCommandTest {
    @TempDir
    Path home;

    private FakeCluster cluster;
    private CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cli = new CliHarness(cluster, home);
        cluster.createTopic("orders", 3, 3); // replicas [1,2,3], [2,3,1], [3,1,2]
        cluster.createTopic("audit", 1, 2);  // replicas [1,2]
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    /** The words of a table line; MESSAGE, the last column, may hold spaces and is kept whole. */
    private static List<String> columns(String line) {
        return List.of(line.split("\\s+", 6));
    }

    @Test
    void textTableThenSummary() {
        cluster.moveLeaderSilently(new TopicPartition("orders", 1), 3);
        cluster.moveLeaderSilently(new TopicPartition("audit", 0), 2);

        CliHarness.Result r = cli.run("cluster", "elect-leaders");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.outLines();
        assertEquals(6, lines.size(), r.out());
        assertEquals(List.of("TOPIC", "PARTITION", "PREFERRED", "LEADER", "OUTCOME", "MESSAGE"), columns(lines.get(0)));
        assertEquals(List.of("audit", "0", "1", "1", "ELECTED", "-"), columns(lines.get(1)));
        assertEquals(List.of("orders", "0", "1", "1", "ALREADY_PREFERRED", "-"), columns(lines.get(2)));
        assertEquals(List.of("orders", "1", "2", "2", "ELECTED", "-"), columns(lines.get(3)));
        assertEquals(List.of("orders", "2", "3", "3", "ALREADY_PREFERRED", "-"), columns(lines.get(4)));
        assertEquals("Elected: 2, already preferred: 2, failed: 0", lines.get(5));
        assertEquals(2, cluster.leader(new TopicPartition("orders", 1)), "the leader was moved");
        assertEquals(1, cluster.leader(new TopicPartition("audit", 0)));

        List<String> again = cli.run("cluster", "elect-leaders").outLines();
        assertEquals("Elected: 0, already preferred: 4, failed: 0", again.get(again.size() - 1));
    }

    @Test
    void jsonDocument() {
        cluster.moveLeaderSilently(new TopicPartition("orders", 2), 1);

        CliHarness.Result r = cli.run("cluster", "elect-leaders", "--topic", "orders", "--json");
        assertEquals(0, r.exitCode(), r.err());
        String row = "{\"topic\":\"orders\",\"partition\":%d,\"preferredLeader\":%d,\"leader\":%d,\"outcome\":\"%s\","
                + "\"message\":\"\"}";
        assertEquals("{\"results\":["
                + String.format(row, 0, 1, 1, "ALREADY_PREFERRED") + ","
                + String.format(row, 1, 2, 2, "ALREADY_PREFERRED") + ","
                + String.format(row, 2, 3, 3, "ELECTED") + "],"
                + "\"elected\":1,\"alreadyPreferred\":2,\"failed\":0}\n", r.out());
    }

    @Test
    void topicAndRepeatedPartitionSelectWhatIsElected() {
        for (int p = 0; p < 3; p++) {
            cluster.moveLeaderSilently(new TopicPartition("orders", p), (p + 1) % 3 + 1); // the second replica
        }
        cluster.moveLeaderSilently(new TopicPartition("audit", 0), 2);

        CliHarness.Result r = cli.run("cluster", "elect-leaders", "--topic", "orders", "--partition", "2",
                "--partition", "0");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.outLines();
        assertEquals(List.of("orders", "0", "1", "1", "ELECTED", "-"), columns(lines.get(1)));
        assertEquals(List.of("orders", "2", "3", "3", "ELECTED", "-"), columns(lines.get(2)));
        assertEquals("Elected: 2, already preferred: 0, failed: 0", lines.get(3));
        assertEquals(3, cluster.leader(new TopicPartition("orders", 1)), "partition 1 was not asked for");
        assertEquals(2, cluster.leader(new TopicPartition("audit", 0)), "another topic was not asked for");

        CliHarness.Result topic = cli.run("cluster", "elect-leaders", "--topic", "audit");
        assertEquals(List.of("audit", "0", "1", "1", "ELECTED", "-"), columns(topic.outLines().get(1)));
        assertEquals(3, topic.outLines().size(), topic.out());
    }

    @Test
    void aFailedPartitionIsReportedAndExitsOne() {
        cluster.moveLeaderSilently(new TopicPartition("orders", 1), 3);
        cluster.stopBroker(2); // the preferred replica of orders-1

        CliHarness.Result r = cli.run("cluster", "elect-leaders", "--topic", "orders");
        assertEquals(1, r.exitCode());
        List<String> lines = r.outLines();
        assertEquals(List.of("orders", "1", "2", "3", "FAILED", "preferred replica 2 is not alive"),
                columns(lines.get(2)));
        assertEquals("Elected: 0, already preferred: 2, failed: 1", lines.get(4));
        assertEquals("error: preferred leader election failed for 1 of 3 partitions\n", r.err());

        CliHarness.Result json = cli.run("cluster", "elect-leaders", "--topic", "orders", "--partition", "1", "--json");
        assertEquals(1, json.exitCode());
        assertEquals("{\"results\":[{\"topic\":\"orders\",\"partition\":1,\"preferredLeader\":2,\"leader\":3,"
                + "\"outcome\":\"FAILED\",\"message\":\"preferred replica 2 is not alive\"}],"
                + "\"elected\":0,\"alreadyPreferred\":0,\"failed\":1}\n", json.out());
        assertEquals("error: preferred leader election failed for 1 of 1 partitions\n", json.err());
    }

    @Test
    void noTopicsIsAnEmptyTableAndSuccess() throws Exception {
        try (FakeCluster empty = new FakeCluster(1)) {
            CliHarness.Result r = new CliHarness(empty, home).run("cluster", "elect-leaders");
            assertEquals(0, r.exitCode(), r.err());
            assertEquals(List.of("TOPIC  PARTITION  PREFERRED  LEADER  OUTCOME  MESSAGE",
                    "Elected: 0, already preferred: 0, failed: 0"), r.outLines());
        }
    }

    @Test
    void usageErrorsExitTwoWithoutARequest() {
        int calls = cluster.adminCalls();
        CliHarness.Result noTopic = cli.run("cluster", "elect-leaders", "--partition", "0");
        assertEquals(2, noTopic.exitCode());
        assertEquals("", noTopic.out());
        assertTrue(noTopic.err().startsWith("--partition needs --topic"), noTopic.err());
        CliHarness.Result negative = cli.run("cluster", "elect-leaders", "--topic", "orders", "--partition", "-1");
        assertEquals(2, negative.exitCode());
        assertTrue(negative.err().startsWith("partitions must be >= 0"), negative.err());
        assertEquals(2, cli.run("cluster", "elect-leaders", "--topic", "orders", "--partition", "x").exitCode());
        assertEquals(2, cli.run("cluster", "elect-leaders", "--topic").exitCode());
        assertEquals(calls, cluster.adminCalls());
    }

    @Test
    void refusedRequestsAreOneErrorLineWithExitOne() {
        CliHarness.Result unknown = cli.run("cluster", "elect-leaders", "--topic", "nope");
        assertEquals(1, unknown.exitCode());
        assertEquals("", unknown.out());
        assertEquals("error: unknown topic 'nope'\n", unknown.err());

        CliHarness.Result outOfRange = cli.run("cluster", "elect-leaders", "--topic", "audit", "--partition", "1");
        assertEquals(1, outOfRange.exitCode());
        assertEquals("error: partition 1 does not exist: topic 'audit' has partitions 0..0\n", outOfRange.err());

        CliHarness.Result badName = cli.run("cluster", "elect-leaders", "--topic", "bad name!");
        assertEquals(1, badName.exitCode());
        assertTrue(badName.err().startsWith("error: topic name 'bad name!' is illegal"), badName.err());
        assertEquals(1, badName.err().lines().count(), badName.err());
    }
}
