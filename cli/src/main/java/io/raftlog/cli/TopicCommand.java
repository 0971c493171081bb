package io.raftlog.cli;

import io.raftlog.client.Admin;
import io.raftlog.client.CreatePartitionsResult;
import io.raftlog.client.PartitionInfo;
import io.raftlog.client.TopicDescription;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code raftlog topic create|list|delete|describe|alter-config|add-partitions|set-replication-factor}. */
@Command(name = "topic", description = "Create, list, describe and delete topics, change their configs, add "
        + "partitions and change their replication factor.",
        subcommands = {TopicCommand.Create.class, TopicCommand.ListTopics.class, TopicCommand.Delete.class,
                TopicCommand.Describe.class, TopicCommand.AlterConfig.class, TopicCommand.AddPartitions.class,
                TopicReplicationFactorCommand.class})
final class TopicCommand {

    /** Shared plumbing of topic subcommands: an Admin client for the resolved cluster. */
    abstract static class AdminCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            validate();
            RaftlogCli root = RaftlogCli.root(spec);
            try (Admin admin = Admin.create(root.adminConfig())) {
                run(admin, root.environment().out());
            }
            return 0;
        }

        /** Usage checks beyond what picocli does, before connecting; throws {@code ParameterException}. */
        void validate() {
        }

        abstract void run(Admin admin, PrintWriter out);

        /** {@code --config KEY=VALUE} arguments as a map; bad syntax is a usage error. */
        Map<String, String> parseConfigs(List<String> arguments) {
            try {
                return ConfigAssignments.parse("--config", arguments);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }

    @Command(name = "create", description = "Create a topic. Prints: Created topic NAME.")
    static final class Create extends AdminCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--partitions", required = true, paramLabel = "P")
        int partitions;

        @Option(names = "--replication-factor", required = true, paramLabel = "R")
        int replicationFactor;

        @Option(names = "--config", paramLabel = "KEY=VALUE", description = "A topic config (repeatable), e.g. "
                + "retention.ms=86400000; keys: retention.ms, retention.bytes, segment.bytes, segment.ms, "
                + "max.message.bytes, cleanup.policy (delete, compact, compact,delete), delete.retention.ms, "
                + "min.cleanable.dirty.ratio, min.compaction.lag.ms. Others take the broker defaults.")
        List<String> configArguments = new ArrayList<>();

        private Map<String, String> configs;

        @Override
        void validate() {
            configs = parseConfigs(configArguments);
        }

        @Override
        void run(Admin admin, PrintWriter out) {
            admin.blocking().createTopic(name, partitions, replicationFactor, configs);
            out.println("Created topic " + name + ".");
        }
    }

    @Command(name = "alter-config", description = "Set or remove topic configs (removed ones go back to the broker "
            + "defaults). Prints: Altered config of topic NAME. Configs: KEY=VALUE,... (the topic's settings after "
            + "the change).")
    static final class AlterConfig extends AdminCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--config", paramLabel = "KEY=VALUE", description = "A config to set (repeatable).")
        List<String> configArguments = new ArrayList<>();

        @Option(names = "--delete-config", paramLabel = "KEY", description = "A config to remove (repeatable).")
        List<String> deleteConfigs = new ArrayList<>();

        private Map<String, String> set;

        @Override
        void validate() {
            set = parseConfigs(configArguments);
            if (set.isEmpty() && deleteConfigs.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "nothing to change: give --config KEY=VALUE or --delete-config KEY");
            }
        }

        @Override
        void run(Admin admin, PrintWriter out) {
            Map<String, String> after = admin.blocking().alterTopicConfig(name, set,
                    new LinkedHashSet<>(deleteConfigs));
            out.println("Altered config of topic " + name + ". " + configsPart(after));
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

    @Command(name = "describe", description = "Show leader, replicas, ISR and offsets of each partition, and the "
            + "topic's configs.")
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

    /**
     * {@code {"topic":..,"partitions":[{"partition":0,"leader":1,"replicas":[..],"isr":[..],...,
     * "targetReplicas":[..]}],"config":{..},"configOverrides":{..}}}: {@code targetReplicas} is empty
     * unless the partition is being reassigned; {@code config} has every key with the value in force,
     * {@code configOverrides} only the topic's own settings (values are strings, as in Kafka).
     */
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
                    .name("targetReplicas").value(p.targetReplicas())
                    .endObject();
        }
        w.endArray();
        writeConfigs(w.name("config"), topic.config());
        writeConfigs(w.name("configOverrides"), topic.configOverrides());
        return w.endObject().toString();
    }

    private static void writeConfigs(JsonWriter w, Map<String, String> configs) {
        w.beginObject();
        configs.forEach((k, v) -> w.name(k).value(v));
        w.endObject();
    }

    static String toTable(TopicDescription topic) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "LOG-END-OFFSET"});
        for (PartitionInfo p : topic.partitions()) {
            rows.add(new String[] {String.valueOf(p.partition()), p.leader() < 0 ? "none" : String.valueOf(p.leader()),
                    join(p.replicas()), join(p.isr()), String.valueOf(p.logStartOffset()),
                    String.valueOf(p.logEndOffset())});
        }
        StringBuilder moving = new StringBuilder();
        for (PartitionInfo p : topic.partitions()) {
            if (!p.targetReplicas().isEmpty()) {
                moving.append("Reassigning: partition ").append(p.partition()).append(" to ")
                        .append(join(p.targetReplicas())).append(System.lineSeparator());
            }
        }
        // Configs come last so that the lines before them stay where scripts expect them.
        return "Topic: " + topic.name() + "  Partitions: " + topic.partitions().size() + "  ReplicationFactor: "
                + topic.replicationFactor() + System.lineSeparator() + Tables.format(rows) + System.lineSeparator()
                + moving + configsPart(topic.configOverrides());
    }

    /** {@code Configs: key=value,...}, as kafka-topics shows a topic's overrides; {@code Configs:} for none. */
    static String configsPart(Map<String, String> overrides) {
        String listed = ConfigAssignments.format(overrides);
        return "Configs:" + (listed.isEmpty() ? "" : " " + listed);
    }

    private static String join(List<Integer> ids) {
        return ids.isEmpty() ? "-" : ids.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    @Command(name = "add-partitions", description = "Add partitions to a topic so that it has N in all (the new "
            + "total, as kafka-topics --alter --partitions). Prints: Topic NAME now has N partitions (was M). "
            + "Records with a key may map to another partition afterwards.")
    static final class AddPartitions extends AdminCommand {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--partitions", required = true, paramLabel = "N",
                description = "The new total number of partitions; larger than the current one.")
        int partitions;

        @Option(names = "--json", description = "Print one JSON document instead of text.")
        boolean json;

        @Override
        void run(Admin admin, PrintWriter out) {
            CreatePartitionsResult r = admin.blocking().createPartitions(name, partitions);
            out.println(json ? toJson(r) : "Topic " + r.topic() + " now has " + r.partitions() + " partitions (was "
                    + r.previousPartitions() + ").");
        }

        /** {@code {"topic":"orders","previousPartitions":3,"partitions":6}}. */
        static String toJson(CreatePartitionsResult r) {
            return new JsonWriter().beginObject().name("topic").value(r.topic())
                    .name("previousPartitions").value(r.previousPartitions())
                    .name("partitions").value(r.partitions()).endObject().toString();
        }
    }
}
