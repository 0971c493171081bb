package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(10)
class BootstrapResolverTest {
    @TempDir
    Path home;

    private void writeLastCluster(String bootstrapLine) throws Exception {
        Path clusterDir = Files.createDirectories(home.resolve("clusters").resolve("c1"));
        Files.writeString(clusterDir.resolve("bootstrap"), bootstrapLine + "\n");
        Files.createDirectories(home.resolve(".raftlog"));
        Files.writeString(home.resolve(".raftlog").resolve("last-cluster"), clusterDir + "\n");
    }

    @Test
    void optionWinsOverEnvironmentAndFile() throws Exception {
        writeLastCluster("file:3");
        assertEquals(List.of("opt:1", "opt:2"),
                BootstrapResolver.resolve("opt:1, opt:2", Map.of("RAFTLOG_BOOTSTRAP", "env:2"), home));
    }

    @Test
    void environmentWinsOverFile() throws Exception {
        writeLastCluster("file:3");
        assertEquals(List.of("env:2"), BootstrapResolver.resolve(null, Map.of("RAFTLOG_BOOTSTRAP", "env:2"), home));
    }

    @Test
    void fileOfTheLastLocalClusterIsTheFallback() throws Exception {
        writeLastCluster("127.0.0.1:9092,127.0.0.1:9093");
        assertEquals(List.of("127.0.0.1:9092", "127.0.0.1:9093"), BootstrapResolver.resolve(null, Map.of(), home));
    }

    @Test
    void nothingConfiguredIsAClearError() {
        CliException e = assertThrows(CliException.class, () -> BootstrapResolver.resolve(null, Map.of(), home));
        assertTrue(e.getMessage().contains("--bootstrap"));
        assertTrue(e.getMessage().contains("RAFTLOG_BOOTSTRAP"));
    }

    @Test
    void lastClusterWithoutBootstrapFileIsAClearError() throws Exception {
        Files.createDirectories(home.resolve(".raftlog"));
        Files.writeString(home.resolve(".raftlog").resolve("last-cluster"), home.resolve("gone").toString());
        CliException e = assertThrows(CliException.class, () -> BootstrapResolver.resolve(null, Map.of(), home));
        assertTrue(e.getMessage().contains("bootstrap"), e.getMessage());
    }

    @Test
    void malformedAddressesAreRejected() {
        assertThrows(CliException.class, () -> BootstrapResolver.resolve("localhost", Map.of(), home));
        assertThrows(CliException.class, () -> BootstrapResolver.resolve("h:notaport", Map.of(), home));
        assertThrows(CliException.class, () -> BootstrapResolver.resolve(",", Map.of(), home));
    }
}
