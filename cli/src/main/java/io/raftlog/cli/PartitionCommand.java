package io.raftlog.cli;

import io.raftlog.client.Admin;
import io.raftlog.client.PartitionReassignment;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code raftlog partition reassign|reassignments}. */
@Command(name = "partition", description = "Move partitions between brokers.",
        subcommands = {PartitionCommand.Reassign.class, PartitionCommand.ListReassignments.class})
final class PartitionCommand {

    @Command(name = "reassign", description = {"Move a partition to new replicas (the first is the preferred leader),"
            + " through Raft membership changes: new replicas join and catch up, leadership moves off leaving"
            + " replicas, then they leave; writes continue meanwhile. --cancel sends a partition under reassignment"
            + " back to its replicas.",
        "Prints: Reassigning TOPIC-P: replicas 1,2,3 -> 1,2,4 (adding 4, removing 3); with --wait, then:"
            + " Reassignment of TOPIC-P complete."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:recorded (with --wait: completed)", "1:refused, an error, or --wait timed out",
                "2:usage error"})
    static final class Reassign implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "TOPIC")
        String topic;

        @Parameters(index = "1", paramLabel = "PARTITION")
        int partition;

        @Option(names = "--replicas", paramLabel = "ID,ID,...", description = "The new replicas, e.g. 1,2,4.")
        String replicas;

        @Option(names = "--cancel", description = "Cancel the partition's reassignment under way instead.")
        boolean cancel;

        @Mixin
        Reassignments.Options options = new Reassignments.Options();

        @Override
        public Integer call() {
            if (cancel == (replicas != null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give either --replicas or --cancel");
            }
            if (partition < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "PARTITION must be >= 0");
            }
            List<Integer> target = null;
            if (replicas != null) {
                try {
                    target = Reassignments.parseReplicas(replicas);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
            }
            RaftlogCli root = RaftlogCli.root(spec);
            try (Admin admin = Admin.create(root.adminConfig())) {
                List<PartitionReassignment> started = cancel
                        ? admin.blocking().cancelPartitionReassignments(topic, List.of(partition))
                        : admin.blocking().reassignPartitions(topic, Map.of(partition, target));
                return report(root, admin, started, options);
            }
        }
    }

    /** Prints what started and, with {@code --wait}, waits for it; shared by the commands that reassign. */
    static int report(RaftlogCli root, Admin admin, List<PartitionReassignment> started, Reassignments.Options options) {
        boolean await = options.await;
        long timeoutMs = options.timeoutMs;
        boolean json = options.json;
        if (!await) {
            root.environment().out().println(json ? Reassignments.json(started, null) : Reassignments.text(started));
            return 0;
        }
        if (!json) {
            root.environment().out().println(Reassignments.text(started));
            root.environment().out().flush();
        }
        boolean done = Reassignments.await(admin, started, timeoutMs);
        if (json) {
            root.environment().out().println(Reassignments.json(started, done));
        } else if (done) {
            started.stream().filter(r -> !r.targetReplicas().isEmpty()).forEach(r -> root.environment().out()
                    .println("Reassignment of " + r.topic() + "-" + r.partition() + " complete."));
        }
        if (!done) {
            root.environment().err().println("error: reassignment not complete after " + timeoutMs
                    + " ms; it continues (see: raftlog partition reassignments)");
            return 1;
        }
        return 0;
    }

    @Command(name = "reassignments", description = {"List partitions under reassignment.",
        "Prints TOPIC, PARTITION, REPLICAS, TARGET, ADDING, REMOVING per partition, or: No reassignments."})
    static final class ListReassignments implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--topic", paramLabel = "NAME", description = "Only this topic (default: every topic).")
        String topic;

        @Option(names = "--json", description = "Print one JSON document instead of text.")
        boolean json;

        @Override
        public Integer call() {
            RaftlogCli root = RaftlogCli.root(spec);
            List<PartitionReassignment> list;
            try (Admin admin = Admin.create(root.adminConfig())) {
                list = admin.blocking().listPartitionReassignments(topic == null ? "" : topic);
            }
            root.environment().out().println(json ? Reassignments.json(list, null) : table(list));
            return 0;
        }

        private static String table(List<PartitionReassignment> list) {
            if (list.isEmpty()) {
                return "No reassignments.";
            }
            List<String[]> rows = new java.util.ArrayList<>();
            rows.add(new String[] {"TOPIC", "PARTITION", "REPLICAS", "TARGET", "ADDING", "REMOVING"});
            for (PartitionReassignment r : list) {
                rows.add(new String[] {r.topic(), String.valueOf(r.partition()), Reassignments.join(r.replicas()),
                    Reassignments.join(r.targetReplicas()), dash(r.addingReplicas()), dash(r.removingReplicas())});
            }
            return Tables.format(rows);
        }

        private static String dash(List<Integer> ids) {
            return ids.isEmpty() ? "-" : Reassignments.join(ids);
        }
    }
}
