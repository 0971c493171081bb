package io.raftlog.cli;

import io.raftlog.client.AdminConfig;
import io.raftlog.client.ConsumerConfig;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.errors.RaftlogException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Entry point of the {@code raftlog} command-line client.
 *
 * <p>Exit codes: 0 success, 1 runtime error (one {@code error: ...} line on stderr, a stack
 * trace only with {@code --verbose}), 2 usage error (picocli's message and usage on stderr).
 */
@Command(name = "raftlog", mixinStandardHelpOptions = true, version = "raftlog 0.1.0-SNAPSHOT",
        description = "Command-line client of the Raftlog distributed commit log.",
        subcommands = {TopicCommand.class, PartitionCommand.class, GroupCommand.class, ClusterCommand.class, ProduceCommand.class,
                ConsumeCommand.class, PerfCommand.class})
public final class RaftlogCli implements Runnable {

    @Option(names = "--bootstrap", scope = ScopeType.INHERIT, paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Brokers to contact. Default: $RAFTLOG_BOOTSTRAP, else the last cluster started by "
                    + "scripts/cluster.sh ($HOME/.raftlog/last-cluster).")
    String bootstrap;

    @Option(names = "--request-timeout-ms", scope = ScopeType.INHERIT, paramLabel = "MS",
            description = "Deadline of each broker request (default: ${DEFAULT-VALUE}).", defaultValue = "15000")
    int requestTimeoutMs;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    private final CliEnvironment environment;

    public RaftlogCli(CliEnvironment environment) {
        this.environment = environment;
    }

    public static void main(String[] args) {
        System.exit(execute(args, CliEnvironment.system()));
    }

    /** Runs one command line and returns its exit code; output goes to the environment's streams. */
    public static int execute(String[] args, CliEnvironment environment) {
        RaftlogCli root = new RaftlogCli(environment);
        CommandLine cmd = new CommandLine(root);
        cmd.setOut(environment.out());
        cmd.setErr(environment.err());
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            environment.err().println("error: " + describe(ex));
            if (root.verbose) {
                ex.printStackTrace(environment.err());
            }
            environment.err().flush();
            return 1;
        });
        try {
            return cmd.execute(args);
        } finally {
            environment.out().flush();
            environment.err().flush();
        }
    }

    private static String describe(Throwable ex) {
        if (ex instanceof CliException || ex instanceof RaftlogException) {
            return ex.getMessage();
        }
        return ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
    }

    @Override
    public void run() {
        // No subcommand: show usage and fail like a usage error.
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is required");
    }

    CliEnvironment environment() {
        return environment;
    }

    List<String> bootstrapServers() {
        return BootstrapResolver.resolve(bootstrap, environment.env(), environment.home());
    }

    AdminConfig adminConfig() {
        return AdminConfig.builder().bootstrapServers(bootstrapServers()).requestTimeoutMs(requestTimeoutMs)
                .channelFactory(environment.channelFactory()).build();
    }

    ProducerConfig.Builder producerConfig() {
        return ProducerConfig.builder().bootstrapServers(bootstrapServers()).requestTimeoutMs(requestTimeoutMs)
                .channelFactory(environment.channelFactory());
    }

    ConsumerConfig.Builder consumerConfig() {
        return ConsumerConfig.builder().bootstrapServers(bootstrapServers()).requestTimeoutMs(requestTimeoutMs)
                .channelFactory(environment.channelFactory());
    }

    static RaftlogCli root(CommandLine.Model.CommandSpec spec) {
        return (RaftlogCli) spec.root().userObject();
    }
}
