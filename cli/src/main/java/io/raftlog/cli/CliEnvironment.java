package io.raftlog.cli;

import io.raftlog.client.transport.ChannelFactory;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Everything the CLI takes from its process: streams, environment variables, home directory and
 * how to reach brokers. Injected so tests can run commands in-process.
 */
public record CliEnvironment(InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env,
                             Path home, ChannelFactory channelFactory) {

    /** The real process environment, UTF-8 streams, plaintext gRPC. {@code $HOME} wins over user.home. */
    public static CliEnvironment system() {
        String homeVar = System.getenv("HOME");
        Path home = homeVar != null && !homeVar.isBlank() ? Path.of(homeVar) : Path.of(System.getProperty("user.home"));
        return new CliEnvironment(System.in,
                new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false),
                new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true),
                System.getenv(), home, ChannelFactory.plaintext());
    }
}
