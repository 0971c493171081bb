package io.raftlog.cli;

import io.raftlog.client.fake.FakeCluster;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs CLI command lines in-process against a {@link FakeCluster}, capturing stdout and stderr. */
final class CliHarness {
    record Result(int exitCode, String out, String err) {
        List<String> outLines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\\R"));
        }
    }

    private final FakeCluster cluster;
    private final Path home;

    CliHarness(FakeCluster cluster, Path home) {
        this.cluster = cluster;
        this.home = home;
    }

    Result runWithInput(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> full = new ArrayList<>(List.of("--bootstrap", cluster.bootstrap(), "--request-timeout-ms", "2000"));
        full.addAll(List.of(args));
        CliEnvironment env = new CliEnvironment(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintWriter(out), new PrintWriter(err), Map.of(), home, cluster.channelFactory());
        int code = RaftlogCli.execute(full.toArray(String[]::new), env);
        return new Result(code, out.toString(), err.toString());
    }

    Result run(String... args) {
        return runWithInput("", args);
    }
}
