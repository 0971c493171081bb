package io.raftlog.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code raftlog perf ...}: throughput tools in the spirit of kafka-producer-perf-test and
 * kafka-consumer-perf-test. Subcommands: {@code produce} ({@link PerfProduceCommand}) and
 * {@code consume} ({@link PerfConsumeCommand}).
 */
@Command(name = "perf", description = "Measure producer/consumer throughput against a cluster.",
        subcommands = {PerfProduceCommand.class, PerfConsumeCommand.class})
final class PerfCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a perf subcommand is required");
    }
}
