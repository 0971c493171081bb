package io.raftlog.cli;

import io.raftlog.client.Admin;
import io.raftlog.client.PartitionInfo;
import io.raftlog.client.TopicDescription;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code raftlog topic create|list|delete|describe}. */
@Command(name = "topic", description = "Create, list, describe and delete topics.",
        subcommands = {TopicCommand.Create.class, TopicCommand.ListTopics.class, TopicCommand.Delete.class,
                TopicCommand.Describe.class})
final class TopicCommand {

    /** Shared plumbing of topic subcommands: an Admin client for the resolved cluster. */
    abstract static class AdminCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            RaftlogCli root = RaftlogCli.root(spec);
            try (Admin admin = Admin.create(root.adminConfig())) {
                run(admin, root.environment().out());
            }
            return 0;
        }

        abstract void run(Admin admin, PrintWriter out);
    }

    @Command(name = "create", description = "Create a topic. Prints: Created topic NAME.")
    static final class Create extends AdminCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--partitions", required = true, paramLabel = "P")
        int partitions;

        @Option(names = "--replication-factor", required = true, paramLabel = "R")
        int replicationFactor;

        @Override
        void run(Admin admin, PrintWriter out) {
            admin.blocking().createTopic(name, partitions, replicationFactor);
            out.println("Created topic " + name + ".");
        }
    }

    @Command(name = "list", description = "List topic names, one per line.")
    static final class ListTopics extends AdminCommand {
        @Override
        void run(Admin admin, PrintWriter out) {
            admin.blocking().listTopics().forEach(out::println);
        }
    }

    @Command(name = "delete", description = "Delete a topic. Prints: Deleted topic NAME.")
    static final class Delete extends AdminCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        void run(Admin admin, PrintWriter out) {
            admin.blocking().deleteTopic(name);
            out.println("Deleted topic " + name + ".");
        }
    }

    @Command(name = "describe", description = "Show leader, replicas, ISR and offsets of each partition.")
    static final class Describe extends AdminCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--json", description = "Print one JSON document instead of a table.")
        boolean json;

        @Override
        void run(Admin admin, PrintWriter out) {
            TopicDescription topic = admin.blocking().describeTopic(name);
            out.println(json ? toJson(topic) : toTable(topic));
        }
    }

    /** {@code {"topic":..,"partitions":[{"partition":0,"leader":1,"replicas":[..],"isr":[..],...}]}}. */
    static String toJson(TopicDescription topic) {
        JsonWriter w = new JsonWriter().beginObject().name("topic").value(topic.name()).name("partitions").beginArray();
        for (PartitionInfo p : topic.partitions()) {
            w.beginObject()
                    .name("partition").value(p.partition())
                    .name("leader").value(p.leader())
                    .name("replicas").value(p.replicas())
                    .name("isr").value(p.isr())
                    .name("logStartOffset").value(p.logStartOffset())
                    .name("logEndOffset").value(p.logEndOffset())
                    .endObject();
        }
        return w.endArray().endObject().toString();
    }

    static String toTable(TopicDescription topic) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "LOG-END-OFFSET"});
        for (PartitionInfo p : topic.partitions()) {
            rows.add(new String[] {String.valueOf(p.partition()), p.leader() < 0 ? "none" : String.valueOf(p.leader()),
                    join(p.replicas()), join(p.isr()), String.valueOf(p.logStartOffset()),
                    String.valueOf(p.logEndOffset())});
        }
        return "Topic: " + topic.name() + "  Partitions: " + topic.partitions().size() + "  ReplicationFactor: "
                + topic.replicationFactor() + System.lineSeparator() + Tables.format(rows);
    }

    private static String join(List<Integer> ids) {
        return ids.isEmpty() ? "-" : ids.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
}
