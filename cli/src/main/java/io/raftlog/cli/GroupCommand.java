package io.raftlog.cli;

import io.raftlog.client.Admin;
import io.raftlog.client.CommittedOffset;
import io.raftlog.client.GroupDescription;
import io.raftlog.client.GroupListing;
import io.raftlog.client.GroupOffsetReset;
import io.raftlog.client.MemberDescription;
import io.raftlog.client.PartitionInfo;
import io.raftlog.client.TopicDescription;
import io.raftlog.client.TopicPartition;
import io.raftlog.client.errors.Errors;
import io.raftlog.client.errors.GroupIdNotFoundException;
import io.raftlog.client.errors.GroupNotEmptyException;
import io.raftlog.client.errors.InvalidTopicException;
import io.raftlog.client.errors.RaftlogException;
import io.raftlog.client.errors.UnknownTopicOrPartitionException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code raftlog group list|describe|reset-offsets|delete}: consumer-group administration.
 *
 * <p>A group that does not exist is {@code error: group G does not exist} (exit 1); an offset
 * reset or delete of a group with members is {@code error: group G has active members; stop its
 * consumers first} (exit 1).
 */
@Command(name = "group", description = "List, describe, reset the offsets of and delete consumer groups.",
        subcommands = {GroupCommand.ListGroups.class, GroupCommand.Describe.class, GroupCommand.ResetOffsets.class,
                GroupCommand.Delete.class})
final class GroupCommand {

    private static final Comparator<TopicPartition> PARTITION_ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    /** Shared plumbing: an Admin client, and group errors turned into operator messages. */
    abstract static class GroupAdminCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            validate();
            RaftlogCli root = RaftlogCli.root(spec);
            try (Admin admin = Admin.create(root.adminConfig())) {
                run(admin, root.environment().out());
            } catch (GroupIdNotFoundException e) {
                throw new CliException("group " + groupId() + " does not exist", e);
            } catch (GroupNotEmptyException e) {
                throw new CliException("group " + groupId() + " has active members; stop its consumers first", e);
            }
            return 0;
        }

        /** Usage checks beyond what picocli does; throws {@code ParameterException}. */
        void validate() {
        }

        /** The group the command is about, for error messages. */
        String groupId() {
            return "";
        }

        abstract void run(Admin admin, PrintWriter out);
    }

    @Command(name = "list", description = "List consumer groups: GROUP, STATE, MEMBERS.")
    static final class ListGroups extends GroupAdminCommand {
        @Override
        void run(Admin admin, PrintWriter out) {
            out.println(listTable(admin.blocking().listGroups()));
        }
    }

    @Command(name = "describe", description = "Show a group's state, members and, per partition, committed offset, "
            + "log end offset, lag and owning member.")
    static final class Describe extends GroupAdminCommand {
        @Parameters(index = "0", paramLabel = "GROUP")
        String group;

        @Option(names = "--json", description = "Print one JSON document instead of tables.")
        boolean json;

        @Override
        String groupId() {
            return group;
        }

        @Override
        void run(Admin admin, PrintWriter out) {
            GroupDescription description = admin.blocking().describeGroup(group);
            List<PartitionLag> partitions = partitions(description, describeTopics(admin, topicsOf(description)));
            out.println(json ? toJson(description, partitions) : toText(description, partitions));
        }
    }

    @Command(name = "reset-offsets", description = "Set the committed offsets of a group without members. "
            + "Prints the new committed offsets: TOPIC, PARTITION, OFFSET.")
    static final class ResetOffsets extends GroupAdminCommand {
        @Parameters(index = "0", paramLabel = "GROUP")
        String group;

        @Option(names = "--topic", required = true, paramLabel = "T")
        String topic;

        @Option(names = "--to-earliest", description = "To the log start offset.")
        boolean toEarliest;

        @Option(names = "--to-latest", description = "To the log end offset.")
        boolean toLatest;

        @Option(names = "--to-offset", paramLabel = "N", description = "To offset N.")
        Long toOffset;

        @Option(names = "--partitions", split = ",", paramLabel = "P",
                description = "Only these partitions (default: all).")
        List<Integer> partitions = new ArrayList<>();

        @Override
        String groupId() {
            return group;
        }

        @Override
        void validate() {
            int targets = (toEarliest ? 1 : 0) + (toLatest ? 1 : 0) + (toOffset != null ? 1 : 0);
            if (targets != 1) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "exactly one of --to-earliest, --to-latest and --to-offset is required");
            }
            if ((toOffset != null && toOffset < 0) || partitions.stream().anyMatch(p -> p < 0)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "offsets and partitions must be >= 0");
            }
        }

        @Override
        void run(Admin admin, PrintWriter out) {
            GroupOffsetReset to = toEarliest ? GroupOffsetReset.earliest()
                    : toLatest ? GroupOffsetReset.latest() : GroupOffsetReset.toOffset(toOffset);
            out.println(offsetsTable(admin.blocking().resetGroupOffsets(group, topic,
                    to.forPartitions(new TreeSet<>(partitions)))));
        }
    }

    @Command(name = "delete", description = "Delete a group without members and its committed offsets. "
            + "Prints: Deleted group GROUP.")
    static final class Delete extends GroupAdminCommand {
        @Parameters(index = "0", paramLabel = "GROUP")
        String group;

        @Override
        String groupId() {
            return group;
        }

        @Override
        void run(Admin admin, PrintWriter out) {
            admin.blocking().deleteGroup(group);
            out.println("Deleted group " + group + ".");
        }
    }

    /**
     * One partition in {@code group describe}.
     *
     * @param committed the committed offset, -1 when none
     * @param logEndOffset the partition's log end offset, -1 when unknown (topic deleted)
     * @param lag {@code logEndOffset - committed}, -1 when either is unknown (negative too if the
     *        committed offset is beyond the log end, e.g. after a reset to a future offset)
     * @param owner id of the member that owns the partition, {@code ""} when none
     */
    record PartitionLag(String topic, int partition, long committed, long logEndOffset, long lag, String owner) {
    }

    /** The topics {@code group describe} needs log end offsets of: committed to or subscribed by a member. */
    static TreeSet<String> topicsOf(GroupDescription group) {
        TreeSet<String> topics = new TreeSet<>();
        group.offsets().keySet().forEach(tp -> topics.add(tp.topic()));
        group.members().forEach(m -> topics.addAll(m.subscribedTopics()));
        return topics;
    }

    /** Describes the topics concurrently; topics that do not exist (any more) map to empty. */
    private static Map<String, Optional<TopicDescription>> describeTopics(Admin admin, TreeSet<String> topics) {
        Map<String, CompletableFuture<Optional<TopicDescription>>> futures = new TreeMap<>();
        for (String topic : topics) {
            futures.put(topic, admin.describeTopic(topic).handle((d, failure) -> {
                if (failure == null) {
                    return Optional.of(d);
                }
                RaftlogException e = Errors.fromThrowable(failure);
                if (e instanceof UnknownTopicOrPartitionException || e instanceof InvalidTopicException) {
                    return Optional.empty();
                }
                throw e;
            }));
        }
        Map<String, Optional<TopicDescription>> result = new HashMap<>();
        futures.forEach((topic, future) -> {
            try {
                result.put(topic, future.join());
            } catch (CompletionException e) {
                throw Errors.fromThrowable(e);
            }
        });
        return result;
    }

    /**
     * Every partition with a committed offset plus every partition of every topic a member
     * subscribes to, ordered by topic and partition, with lag and owner.
     */
    static List<PartitionLag> partitions(GroupDescription group, Map<String, Optional<TopicDescription>> topics) {
        Map<TopicPartition, Long> logEnd = new HashMap<>();
        topics.values().forEach(d -> d.ifPresent(t -> {
            for (PartitionInfo p : t.partitions()) {
                logEnd.put(new TopicPartition(t.name(), p.partition()), p.logEndOffset());
            }
        }));
        TreeSet<TopicPartition> listed = new TreeSet<>(PARTITION_ORDER);
        listed.addAll(group.offsets().keySet());
        for (MemberDescription m : group.members()) {
            for (String topic : m.subscribedTopics()) {
                topics.getOrDefault(topic, Optional.empty()).ifPresent(t -> t.partitions()
                        .forEach(p -> listed.add(new TopicPartition(topic, p.partition()))));
            }
        }
        Map<TopicPartition, String> owners = new HashMap<>();
        group.members().forEach(m -> m.assignment().forEach(tp -> owners.putIfAbsent(tp, m.memberId())));
        List<PartitionLag> rows = new ArrayList<>();
        for (TopicPartition tp : listed) {
            CommittedOffset c = group.offsets().get(tp);
            long committed = c == null ? -1 : c.offset();
            long end = logEnd.getOrDefault(tp, -1L);
            long lag = committed >= 0 && end >= 0 ? end - committed : -1;
            rows.add(new PartitionLag(tp.topic(), tp.partition(), committed, end, lag, owners.getOrDefault(tp, "")));
        }
        return rows;
    }

    private static List<MemberDescription> sortedMembers(GroupDescription group) {
        return group.members().stream().sorted(Comparator.comparing(MemberDescription::memberId)).toList();
    }

    /**
     * {@code {"group":..,"state":..,"generation":7,"members":[{"id":..,"partitions":[{"topic":..,"partition":0}],
     * "clientId":..,"epoch":3}],"offsets":[{"topic":..,"partition":0,"committed":42,"logEndOffset":50,"lag":8,
     * "owner":..}]}}.
     */
    static String toJson(GroupDescription group, List<PartitionLag> partitions) {
        JsonWriter w = new JsonWriter().beginObject()
                .name("group").value(group.groupId())
                .name("state").value(group.state().name())
                .name("generation").value(group.groupEpoch())
                .name("members").beginArray();
        for (MemberDescription m : sortedMembers(group)) {
            w.beginObject().name("id").value(m.memberId()).name("partitions").beginArray();
            for (TopicPartition tp : m.assignment()) {
                w.beginObject().name("topic").value(tp.topic()).name("partition").value(tp.partition()).endObject();
            }
            w.endArray().name("clientId").value(m.clientId()).name("epoch").value(m.memberEpoch()).endObject();
        }
        w.endArray().name("offsets").beginArray();
        for (PartitionLag p : partitions) {
            w.beginObject()
                    .name("topic").value(p.topic())
                    .name("partition").value(p.partition())
                    .name("committed").value(p.committed())
                    .name("logEndOffset").value(p.logEndOffset())
                    .name("lag").value(p.lag())
                    .name("owner").value(p.owner())
                    .endObject();
        }
        return w.endArray().endObject().toString();
    }

    static String toText(GroupDescription group, List<PartitionLag> partitions) {
        String nl = System.lineSeparator();
        List<String[]> members = new ArrayList<>();
        members.add(new String[] {"MEMBER", "CLIENT-ID", "EPOCH", "PARTITIONS"});
        for (MemberDescription m : sortedMembers(group)) {
            members.add(new String[] {m.memberId(), orDash(m.clientId()), String.valueOf(m.memberEpoch()),
                    join(m.assignment())});
        }
        List<String[]> offsets = new ArrayList<>();
        offsets.add(new String[] {"TOPIC", "PARTITION", "COMMITTED-OFFSET", "LOG-END-OFFSET", "LAG", "OWNER"});
        for (PartitionLag p : partitions) {
            offsets.add(new String[] {p.topic(), String.valueOf(p.partition()), orDash(p.committed()),
                    orDash(p.logEndOffset()), orDash(p.lag()), orDash(p.owner())});
        }
        return "Group: " + group.groupId() + "  State: " + group.state() + "  Generation: " + group.groupEpoch()
                + "  Assignor: " + orDash(group.assignor()) + nl + Tables.format(members) + nl + nl
                + Tables.format(offsets);
    }

    static String listTable(List<GroupListing> groups) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"GROUP", "STATE", "MEMBERS"});
        for (GroupListing g : groups) {
            rows.add(new String[] {g.groupId(), g.state().name(), String.valueOf(g.members())});
        }
        return Tables.format(rows);
    }

    static String offsetsTable(Map<TopicPartition, CommittedOffset> offsets) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"TOPIC", "PARTITION", "OFFSET"});
        offsets.entrySet().stream().sorted(Map.Entry.comparingByKey(PARTITION_ORDER)).forEach(e -> rows.add(
                new String[] {e.getKey().topic(), String.valueOf(e.getKey().partition()),
                        String.valueOf(e.getValue().offset())}));
        return Tables.format(rows);
    }

    private static String join(List<TopicPartition> partitions) {
        return partitions.isEmpty() ? "-" : partitions.stream().map(TopicPartition::toString)
                .collect(Collectors.joining(","));
    }

    private static String orDash(String s) {
        return s.isEmpty() ? "-" : s;
    }

    private static String orDash(long n) {
        return n < 0 ? "-" : String.valueOf(n);
    }

    private GroupCommand() {
    }
}
