package io.raftlog.cli;

import io.raftlog.client.Admin;
import io.raftlog.client.BrokerInfo;
import io.raftlog.client.ClusterDescription;
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

    @Command(name = "describe", description = "Show the cluster id, metadata leader and brokers.")
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

    /** {@code {"clusterId":..,"metadataLeader":1,"brokers":[{"id":1,"host":..,"port":..,"alive":true}]}}. */
    static String toJson(ClusterDescription cluster) {
        JsonWriter w = new JsonWriter().beginObject()
                .name("clusterId").value(cluster.clusterId())
                .name("metadataLeader").value(cluster.metadataLeaderId())
                .name("brokers").beginArray();
        for (BrokerInfo b : sorted(cluster)) {
            w.beginObject().name("id").value(b.id()).name("host").value(b.host()).name("port").value(b.port())
                    .name("alive").value(b.alive()).endObject();
        }
        return w.endArray().endObject().toString();
    }

    static String toText(ClusterDescription cluster) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "HOST", "PORT", "ALIVE"});
        for (BrokerInfo b : sorted(cluster)) {
            rows.add(new String[] {String.valueOf(b.id()), b.host(), String.valueOf(b.port()), b.alive() ? "yes" : "no"});
        }
        String leader = cluster.metadataLeaderId() < 0 ? "none" : String.valueOf(cluster.metadataLeaderId());
        return "Cluster: " + cluster.clusterId() + System.lineSeparator() + "Metadata leader: " + leader
                + System.lineSeparator() + Tables.format(rows);
    }
}
