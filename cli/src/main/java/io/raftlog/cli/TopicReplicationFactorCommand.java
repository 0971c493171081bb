package io.raftlog.cli;

import io.raftlog.client.Admin;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code raftlog topic set-replication-factor NAME --replication-factor N [--wait]}. */
@Command(name = "set-replication-factor", description = {"Change the replication factor of every partition of a topic"
        + " by reassignment: new replicas go to the least loaded live brokers; replicas are dropped from the end of"
        + " each partition's list (the preferred leader stays).",
    "Prints one line per partition that moves, like partition reassign; with --wait, waits for all of them."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:recorded (with --wait: completed)", "1:refused, an error, or --wait timed out",
            "2:usage error"})
final class TopicReplicationFactorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--replication-factor", required = true, paramLabel = "R")
    int replicationFactor;

    @Mixin
    Reassignments.Options options = new Reassignments.Options();

    @Override
    public Integer call() {
        RaftlogCli root = RaftlogCli.root(spec);
        try (Admin admin = Admin.create(root.adminConfig())) {
            return PartitionCommand.report(root, admin, admin.blocking().alterReplicationFactor(name, replicationFactor),
                    options);
        }
    }
}
