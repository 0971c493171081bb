package io.raftlog.cli;

import io.raftlog.client.Admin;
import io.raftlog.client.BrokerInfo;
import io.raftlog.client.BrokerLoad;
import io.raftlog.client.ClusterDescription;
import io.raftlog.client.PreferredLeaderElection;
import io.raftlog.client.UnderReplicatedPartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code raftlog cluster describe|elect-leaders|decommission|recommission}. */
@Command(name = "cluster", description = "Inspect the cluster, move partition leaders to their preferred replicas,"
        + " and decommission brokers.",
        subcommands = {ClusterCommand.Describe.class, ClusterCommand.ElectLeaders.class, ClusterCommand.Decommission.class,
                ClusterCommand.Recommission.class})
final class ClusterCommand {

    @Command(name = "decommission", description = {"Move every replica off a broker (each to the least loaded other"
            + " live broker, by reassignment) and mark it so that it takes no new replicas; stop it once the moves are"
            + " complete. Refused, changing nothing, when some partition could not keep its replication factor.",
        "Prints one line per partition that moves, like partition reassign; with --wait, waits for all of them."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:recorded (with --wait: completed)", "1:refused, an error, or --wait timed out",
                "2:usage error"})
    static final class Decommission implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Parameters(index = "0", paramLabel = "ID")
        int brokerId;

        @CommandLine.Mixin
        Reassignments.Options options = new Reassignments.Options();

        @Override
        public Integer call() {
            RaftlogCli root = RaftlogCli.root(spec);
            try (Admin admin = Admin.create(root.adminConfig())) {
                return PartitionCommand.report(root, admin, admin.blocking().decommissionBroker(brokerId), options);
            }
        }
    }

    @Command(name = "recommission", description = "Take the decommissioned mark off a broker: it takes new replicas"
            + " again (nothing moves back by itself). Prints: Broker ID takes new replicas again.")
    static final class Recommission implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Parameters(index = "0", paramLabel = "ID")
        int brokerId;

        @Override
        public Integer call() {
            RaftlogCli root = RaftlogCli.root(spec);
            try (Admin admin = Admin.create(root.adminConfig())) {
                admin.blocking().recommissionBroker(brokerId);
            }
            root.environment().out().println("Broker " + brokerId + " takes new replicas again.");
            return 0;
        }
    }

    @Command(name = "describe", description = "Show the cluster id, metadata leader, brokers (with how many"
            + " partitions each leads and hosts) and under-replicated partitions.")
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print one JSON document instead of text.")
        boolean json;

        @Override
        public Integer call() {
            RaftlogCli root = RaftlogCli.root(spec);
            ClusterDescription cluster;
            try (Admin admin = Admin.create(root.adminConfig())) {
                cluster = admin.blocking().describeCluster();
            }
            root.environment().out().println(json ? toJson(cluster) : toText(cluster));
            return 0;
        }
    }

    @Command(name = "elect-leaders", description = {"Move the leadership of partitions to their preferred replica"
            + " (the first of their replicas), like Kafka's preferred leader election: every partition of every"
            + " topic, every partition of --topic, or only the --partition ids of --topic.",
        "Prints TOPIC, PARTITION, PREFERRED, LEADER, OUTCOME (ELECTED, ALREADY_PREFERRED or FAILED) and MESSAGE"
            + " (why, for FAILED) per partition, then: Elected: N, already preferred: N, failed: N."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:no partition FAILED", "1:some partition FAILED (see MESSAGE), or an error",
                "2:usage error"})
    static final class ElectLeaders implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--topic", paramLabel = "NAME", description = "Only this topic (default: every topic).")
        String topic;

        @Option(names = "--partition", paramLabel = "N", description = "Only this partition of --topic"
                + " (repeatable; default: all of them).")
        List<Integer> partitions = new ArrayList<>();

        @Option(names = "--json", description = "Print one JSON document instead of text.")
        boolean json;

        @Override
        public Integer call() {
            if (!partitions.isEmpty() && topic == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--partition needs --topic");
            }
            if (partitions.stream().anyMatch(p -> p < 0)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "partitions must be >= 0");
            }
            RaftlogCli root = RaftlogCli.root(spec);
            List<PreferredLeaderElection> results;
            try (Admin admin = Admin.create(root.adminConfig())) {
                results = topic == null ? admin.blocking().electPreferredLeaders()
                        : admin.blocking().electPreferredLeaders(topic, partitions);
            }
            root.environment().out().println(json ? electionsJson(results) : electionsText(results));
            long failed = count(results, PreferredLeaderElection.Outcome.FAILED);
            if (failed == 0) {
                return 0;
            }
            // Exit 1 comes with one error line, like every other failure; the results stay on stdout.
            root.environment().err().println("error: preferred leader election failed for " + failed + " of "
                    + results.size() + " partitions");
            return 1;
        }
    }

    private static long count(List<PreferredLeaderElection> results, PreferredLeaderElection.Outcome outcome) {
        return results.stream().filter(r -> r.outcome() == outcome).count();
    }

    /**
     * {@code {"results":[{"topic":..,"partition":0,"preferredLeader":1,"leader":1,"outcome":"ELECTED",
     * "message":""}],"elected":1,"alreadyPreferred":0,"failed":0}}; {@code leader} is -1 when unknown.
     * (Keys are only ever added: scripts read this.)
     */
    static String electionsJson(List<PreferredLeaderElection> results) {
        JsonWriter w = new JsonWriter().beginObject().name("results").beginArray();
        for (PreferredLeaderElection r : results) {
            w.beginObject().name("topic").value(r.topic()).name("partition").value(r.partition())
                    .name("preferredLeader").value(r.preferredLeader()).name("leader").value(r.leader())
                    .name("outcome").value(r.outcome().name()).name("message").value(r.message()).endObject();
        }
        return w.endArray()
                .name("elected").value(count(results, PreferredLeaderElection.Outcome.ELECTED))
                .name("alreadyPreferred").value(count(results, PreferredLeaderElection.Outcome.ALREADY_PREFERRED))
                .name("failed").value(count(results, PreferredLeaderElection.Outcome.FAILED))
                .endObject().toString();
    }

    static String electionsText(List<PreferredLeaderElection> results) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"TOPIC", "PARTITION", "PREFERRED", "LEADER", "OUTCOME", "MESSAGE"});
        for (PreferredLeaderElection r : results) {
            rows.add(new String[] {r.topic(), String.valueOf(r.partition()), String.valueOf(r.preferredLeader()),
                r.leader() < 0 ? "none" : String.valueOf(r.leader()), r.outcome().name(),
                r.message().isEmpty() ? "-" : r.message()});
        }
        return Tables.format(rows) + System.lineSeparator()
                + "Elected: " + count(results, PreferredLeaderElection.Outcome.ELECTED)
                + ", already preferred: " + count(results, PreferredLeaderElection.Outcome.ALREADY_PREFERRED)
                + ", failed: " + count(results, PreferredLeaderElection.Outcome.FAILED);
    }

    private static List<BrokerInfo> sorted(ClusterDescription cluster) {
        return cluster.brokers().stream().sorted(Comparator.comparingInt(BrokerInfo::id)).toList();
    }

    /**
     * {@code {"clusterId":..,"metadataLeader":1,"brokers":[{"id":1,"host":..,"port":..,"alive":true,
     * "decommissioned":false,"leaders":1,"replicas":3}],"underReplicatedPartitions":[{"topic":..,"partition":0,"leader":1,
     * "replicas":[1,2,3],"isr":[1,2]}]}}. (Keys are only ever added: scripts read this.)
     */
    static String toJson(ClusterDescription cluster) {
        JsonWriter w = new JsonWriter().beginObject()
                .name("clusterId").value(cluster.clusterId())
                .name("metadataLeader").value(cluster.metadataLeaderId())
                .name("brokers").beginArray();
        for (BrokerInfo b : sorted(cluster)) {
            BrokerLoad load = cluster.load(b.id()).orElse(new BrokerLoad(b.id(), 0, 0));
            w.beginObject().name("id").value(b.id()).name("host").value(b.host()).name("port").value(b.port())
                    .name("alive").value(b.alive()).name("decommissioned").value(b.decommissioned())
                    .name("leaders").value(load.leaders())
                    .name("replicas").value(load.replicas()).endObject();
        }
        w.endArray().name("underReplicatedPartitions").beginArray();
        for (UnderReplicatedPartition u : cluster.underReplicatedPartitions()) {
            w.beginObject().name("topic").value(u.topic()).name("partition").value(u.partition())
                    .name("leader").value(u.leaderId()).name("replicas").value(u.replicas())
                    .name("isr").value(u.isr()).endObject();
        }
        return w.endArray().endObject().toString();
    }

    static String toText(ClusterDescription cluster) {
        String nl = System.lineSeparator();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "HOST", "PORT", "ALIVE", "LEADERS", "REPLICAS"});
        for (BrokerInfo b : sorted(cluster)) {
            BrokerLoad load = cluster.load(b.id()).orElse(new BrokerLoad(b.id(), 0, 0));
            rows.add(new String[] {String.valueOf(b.id()), b.host(), String.valueOf(b.port()), b.alive() ? "yes" : "no",
                String.valueOf(load.leaders()), String.valueOf(load.replicas())});
        }
        String leader = cluster.metadataLeaderId() < 0 ? "none" : String.valueOf(cluster.metadataLeaderId());
        StringBuilder out = new StringBuilder("Cluster: " + cluster.clusterId() + nl + "Metadata leader: " + leader
                + nl + Tables.format(rows));
        List<Integer> decommissioned = sorted(cluster).stream().filter(BrokerInfo::decommissioned).map(BrokerInfo::id)
                .toList();
        if (!decommissioned.isEmpty()) {
            out.append(nl).append("Decommissioned brokers: ").append(join(decommissioned));
        }
        List<UnderReplicatedPartition> under = cluster.underReplicatedPartitions();
        if (under.isEmpty()) {
            out.append(nl).append("Under-replicated partitions: none");
        } else {
            out.append(nl).append("Under-replicated partitions: ").append(under.size()).append(nl);
            List<String[]> urp = new ArrayList<>();
            urp.add(new String[] {"TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"});
            for (UnderReplicatedPartition u : under) {
                urp.add(new String[] {u.topic(), String.valueOf(u.partition()), u.offline() ? "none" : String.valueOf(u.leaderId()),
                    join(u.replicas()), u.isr().isEmpty() ? "-" : join(u.isr())});
            }
            out.append(Tables.format(urp));
        }
        return out.toString();
    }

    private static String join(List<Integer> ids) {
        return ids.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
    }
}
