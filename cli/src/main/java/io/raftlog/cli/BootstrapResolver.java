package io.raftlog.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Finds the bootstrap servers, first match wins: the {@code --bootstrap} option, the
 * {@code RAFTLOG_BOOTSTRAP} environment variable, then the last local cluster started by
 * {@code scripts/cluster.sh}: {@code $HOME/.raftlog/last-cluster} names a directory whose file
 * {@code bootstrap} holds one line {@code host:port,host:port,...}.
 */
public final class BootstrapResolver {
    public static final String ENV_VAR = "RAFTLOG_BOOTSTRAP";

    private BootstrapResolver() {
    }

    /**
     * @throws CliException with a message saying what was tried when nothing is configured
     */
    public static List<String> resolve(String option, Map<String, String> env, Path home) {
        if (option != null && !option.isBlank()) {
            return parse(option, "--bootstrap");
        }
        String fromEnv = env.get(ENV_VAR);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return parse(fromEnv, ENV_VAR);
        }
        Path lastCluster = home.resolve(".raftlog").resolve("last-cluster");
        if (!Files.isRegularFile(lastCluster)) {
            throw new CliException("no bootstrap servers: pass --bootstrap HOST:PORT[,HOST:PORT...], set "
                    + ENV_VAR + ", or start a local cluster with scripts/cluster.sh (" + lastCluster + " not found)");
        }
        String dir = read(lastCluster).trim();
        if (dir.isEmpty()) {
            throw new CliException(lastCluster + " is empty; expected the directory of the last local cluster");
        }
        Path bootstrapFile = Path.of(dir).resolve("bootstrap");
        if (!Files.isRegularFile(bootstrapFile)) {
            throw new CliException("last local cluster " + dir + " (from " + lastCluster + ") has no bootstrap file "
                    + bootstrapFile);
        }
        String line = read(bootstrapFile).lines().filter(l -> !l.isBlank()).findFirst().orElse("");
        if (line.isBlank()) {
            throw new CliException(bootstrapFile + " is empty");
        }
        return parse(line, bootstrapFile.toString());
    }

    private static List<String> parse(String text, String source) {
        List<String> addresses = Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        for (String address : addresses) {
            int colon = address.lastIndexOf(':');
            boolean ok = colon > 0 && colon < address.length() - 1;
            if (ok) {
                try {
                    int port = Integer.parseInt(address.substring(colon + 1));
                    ok = port > 0 && port <= 65535;
                } catch (NumberFormatException e) {
                    ok = false;
                }
            }
            if (!ok) {
                throw new CliException("invalid bootstrap address '" + address + "' from " + source
                        + " (expected HOST:PORT)");
            }
        }
        if (addresses.isEmpty()) {
            throw new CliException("no bootstrap address in " + source);
        }
        return addresses;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
