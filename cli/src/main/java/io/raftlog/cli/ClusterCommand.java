package io.raftlog.cli;

import io.raftlog.client.Admin;
import io.raftlog.client.BrokerInfo;
import io.raftlog.client.BrokerLoad;
import io.raftlog.client.ClusterDescription;
import io.raftlog.client.UnderReplicatedPartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code raftlog cluster describe [--json]}. */
@Command(name = "cluster", description = "Inspect the cluster.", subcommands = ClusterCommand.Describe.class)
final class ClusterCommand {

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

    private static List<BrokerInfo> sorted(ClusterDescription cluster) {
        return cluster.brokers().stream().sorted(Comparator.comparingInt(BrokerInfo::id)).toList();
    }

    /**
     * {@code {"clusterId":..,"metadataLeader":1,"brokers":[{"id":1,"host":..,"port":..,"alive":true,
     * "leaders":1,"replicas":3}],"underReplicatedPartitions":[{"topic":..,"partition":0,"leader":1,
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
                    .name("alive").value(b.alive()).name("leaders").value(load.leaders())
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
