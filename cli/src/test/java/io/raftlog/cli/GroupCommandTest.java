package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.TopicPartition;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.fake.FakeGroupCoordinator;
import io.raftlog.client.fake.FakeGroupCoordinator.Member;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class GroupCommandTest {
    @TempDir
    Path home;

    private FakeCluster cluster;
    private FakeGroupCoordinator groups;
    private CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        groups = cluster.groups();
        cli = new CliHarness(cluster, home);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private static TopicPartition tp(String topic, int partition) {
        return new TopicPartition(topic, partition);
    }

    private static List<String> columns(String line) {
        return List.of(line.trim().split("\\s+"));
    }

    /** Group "g": member m-1 owns t-0, m-2 owns nothing yet; offsets on t-0 and on a deleted topic. */
    private void stableGroup() {
        cluster.createTopic("t", 2, 1);
        cluster.createTopic("other", 1, 1);
        cluster.append(tp("t", 0), "a", "b", "c");
        cluster.append(tp("t", 1), "d", "e");
        groups.addMember("g", new Member("m-2", "", 3, List.of("t"), List.of()));
        groups.addMember("g", new Member("m-1", "app \"1\"", 2, List.of("t"), List.of(tp("t", 0))));
        groups.commit("g", tp("t", 0), 1, "");
        groups.commit("g", tp("gone", 0), 5, "");
    }

    @Test
    void listIsATable() {
        CliHarness.Result empty = cli.run("group", "list");
        assertEquals(0, empty.exitCode(), empty.err());
        assertEquals(List.of("GROUP  STATE  MEMBERS"), empty.outLines());

        stableGroup();
        groups.commit("idle", tp("t", 1), 2, "");
        CliHarness.Result r = cli.run("group", "list");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(3, r.outLines().size());
        assertEquals(List.of("GROUP", "STATE", "MEMBERS"), columns(r.outLines().get(0)));
        assertEquals(List.of("g", "STABLE", "2"), columns(r.outLines().get(1)));
        assertEquals(List.of("idle", "EMPTY", "0"), columns(r.outLines().get(2)));
    }

    @Test
    void describeJsonIsOneDocument() {
        stableGroup();
        CliHarness.Result r = cli.run("group", "describe", "g", "--json");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.err());
        assertEquals("{\"group\":\"g\",\"state\":\"STABLE\",\"generation\":2,\"members\":["
                + "{\"id\":\"m-1\",\"partitions\":[{\"topic\":\"t\",\"partition\":0}],"
                + "\"clientId\":\"app \\\"1\\\"\",\"epoch\":2},"
                + "{\"id\":\"m-2\",\"partitions\":[],\"clientId\":\"\",\"epoch\":3}],"
                + "\"offsets\":["
                + "{\"topic\":\"gone\",\"partition\":0,\"committed\":5,\"logEndOffset\":-1,\"lag\":-1,\"owner\":\"\"},"
                + "{\"topic\":\"t\",\"partition\":0,\"committed\":1,\"logEndOffset\":3,\"lag\":2,\"owner\":\"m-1\"},"
                + "{\"topic\":\"t\",\"partition\":1,\"committed\":-1,\"logEndOffset\":2,\"lag\":-1,\"owner\":\"\"}"
                + "]}\n", r.out());
    }

    @Test
    void describeJsonOfAnEmptyGroup() {
        cluster.createTopic("t", 1, 1);
        cluster.append(tp("t", 0), "a");
        groups.commit("idle", tp("t", 0), 1, "");
        CliHarness.Result r = cli.run("group", "describe", "idle", "--json");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("{\"group\":\"idle\",\"state\":\"EMPTY\",\"generation\":0,\"members\":[],\"offsets\":["
                + "{\"topic\":\"t\",\"partition\":0,\"committed\":1,\"logEndOffset\":1,\"lag\":0,\"owner\":\"\"}]}\n",
                r.out());
    }

    @Test
    void describeText() {
        stableGroup();
        CliHarness.Result r = cli.run("group", "describe", "g");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.outLines();
        assertEquals("Group: g  State: STABLE  Generation: 2  Assignor: sticky", lines.get(0));
        assertEquals(List.of("MEMBER", "CLIENT-ID", "EPOCH", "PARTITIONS"), columns(lines.get(1)));
        assertEquals(List.of("m-1", "app", "\"1\"", "2", "t-0"), columns(lines.get(2)));
        assertEquals(List.of("m-2", "-", "3", "-"), columns(lines.get(3)));
        assertEquals("", lines.get(4));
        assertEquals(List.of("TOPIC", "PARTITION", "COMMITTED-OFFSET", "LOG-END-OFFSET", "LAG", "OWNER"),
                columns(lines.get(5)));
        assertEquals(List.of("gone", "0", "5", "-", "-", "-"), columns(lines.get(6)));
        assertEquals(List.of("t", "0", "1", "3", "2", "m-1"), columns(lines.get(7)));
        assertEquals(List.of("t", "1", "-", "2", "-", "-"), columns(lines.get(8)));
        assertEquals(9, lines.size());
    }

    @Test
    void unknownGroupIsAnError() {
        for (String[] args : List.of(new String[] {"group", "describe", "nope"},
                new String[] {"group", "describe", "nope", "--json"}, new String[] {"group", "delete", "nope"})) {
            CliHarness.Result r = cli.run(args);
            assertEquals(1, r.exitCode(), String.join(" ", args));
            assertEquals("", r.out());
            assertEquals("error: group nope does not exist\n", r.err());
        }
    }

    @Test
    void resetOffsetsPrintsTheNewOffsets() {
        cluster.createTopic("t", 3, 1);
        cluster.append(tp("t", 0), "a", "b", "c");
        cluster.append(tp("t", 2), "x");

        CliHarness.Result latest = cli.run("group", "reset-offsets", "g", "--topic", "t", "--to-latest");
        assertEquals(0, latest.exitCode(), latest.err());
        assertEquals(List.of(List.of("TOPIC", "PARTITION", "OFFSET"), List.of("t", "0", "3"), List.of("t", "1", "0"),
                List.of("t", "2", "1")), latest.outLines().stream().map(GroupCommandTest::columns).toList());

        CliHarness.Result some = cli.run("group", "reset-offsets", "g", "--topic", "t", "--to-offset", "7",
                "--partitions", "2,0");
        assertEquals(0, some.exitCode(), some.err());
        assertEquals(List.of(List.of("TOPIC", "PARTITION", "OFFSET"), List.of("t", "0", "7"), List.of("t", "2", "7")),
                some.outLines().stream().map(GroupCommandTest::columns).toList());

        CliHarness.Result earliest = cli.run("group", "reset-offsets", "g", "--topic", "t", "--to-earliest",
                "--partitions", "1");
        assertEquals(0, earliest.exitCode(), earliest.err());
        assertEquals(Map.of(tp("t", 0), 7L, tp("t", 1), 0L, tp("t", 2), 7L), groups.committed("g"));
    }

    @Test
    void resetOffsetsNeedsExactlyOneTarget() {
        cluster.createTopic("t", 1, 1);
        List<String[]> bad = List.of(
                new String[] {"group", "reset-offsets", "g", "--topic", "t"},
                new String[] {"group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest"},
                new String[] {"group", "reset-offsets", "g", "--topic", "t", "--to-latest", "--to-offset", "3"},
                new String[] {"group", "reset-offsets", "g", "--to-earliest"},
                new String[] {"group", "reset-offsets", "g", "--topic", "t", "--to-offset", "-1"},
                new String[] {"group", "reset-offsets", "g", "--topic", "t", "--to-offset", "x"},
                new String[] {"group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--partitions", "0,-1"},
                new String[] {"group", "reset-offsets", "--topic", "t", "--to-earliest"},
                new String[] {"group", "describe"},
                new String[] {"group", "delete"});
        for (String[] args : bad) {
            CliHarness.Result r = cli.run(args);
            assertEquals(2, r.exitCode(), String.join(" ", args) + ": " + r.err());
            assertEquals("", r.out());
        }
        CliHarness.Result none = cli.run("group", "reset-offsets", "g", "--topic", "t");
        assertTrue(none.err().contains("exactly one of --to-earliest, --to-latest and --to-offset is required"),
                none.err());
        assertTrue(groups.calls("ResetOffsets").isEmpty(), "nothing was sent");
    }

    @Test
    void activeMembersBlockResetAndDelete() {
        stableGroup();
        String expected = "error: group g has active members; stop its consumers first\n";
        CliHarness.Result reset = cli.run("group", "reset-offsets", "g", "--topic", "t", "--to-earliest");
        assertEquals(1, reset.exitCode());
        assertEquals("", reset.out());
        assertEquals(expected, reset.err());
        CliHarness.Result delete = cli.run("group", "delete", "g");
        assertEquals(1, delete.exitCode());
        assertEquals(expected, delete.err());
        assertEquals(Map.of(tp("gone", 0), 5L, tp("t", 0), 1L), groups.committed("g"), "nothing changed");
    }

    @Test
    void deleteRemovesTheGroup() {
        stableGroup();
        groups.removeMembers("g");
        CliHarness.Result r = cli.run("group", "delete", "g");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("Deleted group g.\n", r.out());
        assertFalse(groups.exists("g"));
        assertEquals(List.of("GROUP  STATE  MEMBERS"), cli.run("group", "list").outLines());
    }

    @Test
    void coordinatorMovesAreInvisible() {
        stableGroup();
        groups.moveCoordinator(2);
        CliHarness.Result r = cli.run("group", "list");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(2, r.outLines().size());
    }
}
