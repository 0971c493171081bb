package io.raftlog.cli;

import io.raftlog.client.Admin;
import io.raftlog.client.PartitionReassignment;
import io.raftlog.client.TopicPartition;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Option;

/** Output and waiting shared by the commands that start partition reassignments. */
final class Reassignments {

    private Reassignments() {}

    /** {@code --wait}, {@code --timeout-ms} and {@code --json} of the commands that start reassignments. */
    static final class Options {
        @Option(names = "--wait", description = "Wait until the moves are complete.")
        boolean await;

        @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "600000",
                description = "How long --wait waits (default: ${DEFAULT-VALUE}).")
        long timeoutMs;

        @Option(names = "--json", description = "Print one JSON document instead of text.")
        boolean json;
    }

    /** How often {@code --wait} asks whether the reassignments are done. */
    static final long POLL_MS = 500;

    /**
     * One line per partition: {@code Reassigning TOPIC-P: replicas 1,2,3 -> 1,2,4 (adding 4, removing 3)},
     * or {@code TOPIC-P already has replicas 1,2,3: nothing to move} when the target is empty.
     */
    static String text(List<PartitionReassignment> reassignments) {
        if (reassignments.isEmpty()) {
            return "Nothing to move.";
        }
        return reassignments.stream().map(Reassignments::line).collect(Collectors.joining(System.lineSeparator()));
    }

    private static String line(PartitionReassignment r) {
        String tp = r.topic() + "-" + r.partition();
        if (r.targetReplicas().isEmpty()) {
            return tp + " has replicas " + join(r.replicas()) + ": nothing to move";
        }
        return "Reassigning " + tp + ": replicas " + join(r.replicas()) + " -> " + join(r.targetReplicas())
                + " (adding " + orNone(r.addingReplicas()) + ", removing " + orNone(r.removingReplicas()) + ")";
    }

    /**
     * {@code {"reassignments":[{"topic":..,"partition":0,"replicas":[1,2,3],"targetReplicas":[1,2,4],
     * "addingReplicas":[4],"removingReplicas":[3]}],"completed":true}}; {@code completed} only with
     * {@code --wait}. (Keys are only ever added: scripts read this.)
     */
    static String json(List<PartitionReassignment> reassignments, Boolean completed) {
        JsonWriter w = new JsonWriter().beginObject().name("reassignments").beginArray();
        for (PartitionReassignment r : reassignments) {
            w.beginObject().name("topic").value(r.topic()).name("partition").value(r.partition())
                    .name("replicas").value(r.replicas()).name("targetReplicas").value(r.targetReplicas())
                    .name("addingReplicas").value(r.addingReplicas())
                    .name("removingReplicas").value(r.removingReplicas()).endObject();
        }
        w.endArray();
        if (completed != null) {
            w.name("completed").value(completed);
        }
        return w.endObject().toString();
    }

    /**
     * Waits until none of {@code started} is still under reassignment; false at the deadline.
     * Partitions with an empty target moved nothing and are not waited for.
     */
    static boolean await(Admin admin, List<PartitionReassignment> started, long timeoutMs) {
        Set<TopicPartition> pending = new HashSet<>();
        started.stream().filter(r -> !r.targetReplicas().isEmpty()).forEach(r -> pending.add(r.topicPartition()));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            Set<TopicPartition> still = new HashSet<>();
            if (!pending.isEmpty()) {
                admin.blocking().listPartitionReassignments().forEach(r -> still.add(r.topicPartition()));
            }
            still.retainAll(pending);
            if (still.isEmpty()) {
                return true;
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(POLL_MS); // polling a remote state, not synchronizing threads
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    static String join(List<Integer> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private static String orNone(List<Integer> ids) {
        return ids.isEmpty() ? "none" : join(ids);
    }

    /** {@code 1,2,4} as broker ids; a usage problem is an IllegalArgumentException. */
    static List<Integer> parseReplicas(String value) {
        try {
            List<Integer> ids = java.util.Arrays.stream(value.split(",", -1)).map(String::trim)
                    .map(Integer::parseInt).toList();
            if (ids.stream().anyMatch(id -> id < 0)) {
                throw new IllegalArgumentException("broker ids must be >= 0: " + value);
            }
            return ids;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--replicas takes broker ids separated by commas, e.g. 1,2,4; got '"
                    + value + "'");
        }
    }
}
