package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.fake.FakeCluster;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code raftlog partition reassign|reassignments} against the fake cluster. */
@Timeout(30)
class ReassignCommandTest {
    @TempDir
    Path home;

    private FakeCluster cluster;
    private CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(4);
        cli = new CliHarness(cluster, home);
        cluster.createTopic("orders", 2, 3); // replicas [1,2,3], [2,3,4]
    }

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void reassignPrintsTheMoveAndReassignmentsListsItUntilItCompletes() {
        CliHarness.Result r = cli.run("partition", "reassign", "orders", "0", "--replicas", "1,2,4");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("Reassigning orders-0: replicas 1,2,3 -> 1,2,4 (adding 4, removing 3)\n", r.out());

        List<String> listed = cli.run("partition", "reassignments").outLines();
        assertEquals(List.of("TOPIC", "PARTITION", "REPLICAS", "TARGET", "ADDING", "REMOVING"),
                List.of(listed.get(0).split("\\s+")));
        assertEquals(List.of("orders", "0", "1,2,3", "1,2,4", "4", "3"), List.of(listed.get(1).split("\\s+")));
        assertTrue(cli.run("topic", "describe", "orders").out().contains("Reassigning: partition 0 to 1,2,4\nConfigs:"));

        cluster.completeReassignments();
        assertEquals("No reassignments.\n", cli.run("partition", "reassignments").out());
        assertTrue(cli.run("topic", "describe", "orders", "--json").out().contains(
                "\"partition\":0,\"leader\":1,\"replicas\":[1,2,4],\"isr\":[1,2,4],\"logStartOffset\":0,"
                        + "\"logEndOffset\":0,\"targetReplicas\":[]"));
    }

    @Test
    void waitJsonAndCancel() {
        cluster.completeReassignmentsWhenListed();
        CliHarness.Result r = cli.run("partition", "reassign", "orders", "1", "--replicas", "4,3,2", "--wait", "--json");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("{\"reassignments\":[{\"topic\":\"orders\",\"partition\":1,\"replicas\":[2,3,4],"
                + "\"targetReplicas\":[4,3,2],\"addingReplicas\":[],\"removingReplicas\":[]}],\"completed\":true}\n",
                r.out());

        r = cli.run("partition", "reassign", "orders", "1", "--replicas", "1,2,3", "--wait");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("Reassigning orders-1: replicas 4,3,2 -> 1,2,3 (adding 1, removing 4)\n"
                + "Reassignment of orders-1 complete.\n", r.out());

        r = cli.run("partition", "reassign", "orders", "0", "--cancel");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("orders-0 has replicas 1,2,3: nothing to move\n", r.out());
    }

    @Test
    void usageAndRefusals() {
        CliHarness.Result r = cli.run("partition", "reassign", "orders", "0");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("give either --replicas or --cancel"), r.err());
        r = cli.run("partition", "reassign", "orders", "0", "--replicas", "1,x");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("broker ids separated by commas"), r.err());
        r = cli.run("partition", "reassign", "orders", "0", "--replicas", "1,1,2");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("twice"), r.err());
        r = cli.run("partition", "reassign", "nope", "0", "--replicas", "1");
        assertEquals(1, r.exitCode());
    }
}
