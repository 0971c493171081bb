package io.raftlog.client.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The SDK is what users embed: it must never pull in Ratis, the broker or the state machines, and
 * the public API package must not expose gRPC types (they live in transport/internals).
 */
class ModuleBoundaryTest {

  private static final Path SOURCES = Path.of("src/main/java");

  @Test
  void sdkImportsNoRatisOrBrokerCode() throws IOException {
    List<String> violations = new ArrayList<>();
    forEachSource(SOURCES, (file, line) -> {
      if (line.startsWith("import ") && (line.contains("org.apache.ratis") || line.contains("io.raftlog.broker")
          || line.contains("io.raftlog.statemachine") || line.contains("io.raftlog.log.v1"))) {
        violations.add(file + ": " + line);
      }
    });
    assertEquals(List.of(), violations);
  }

  @Test
  void sourcesWereFound() throws IOException {
    try (Stream<Path> files = Files.walk(SOURCES)) {
      assertTrue(files.anyMatch(p -> p.toString().endsWith("Producer.java")), "run from the client-sdk module directory");
    }
  }

  private interface LineVisitor {
    void visit(Path file, String line);
  }

  private static void forEachSource(Path root, LineVisitor visitor) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        for (String line : Files.readAllLines(f)) {
          visitor.visit(root.relativize(f), line.trim());
        }
      }
    }
  }
}
