package io.raftlog.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The lines of each broker's log that explain most failed runs (warnings, errors, leadership,
 * snapshot copies, repairs, catch-up nudges, membership changes), the last few per broker, for
 * printing when a scenario fails where only the test output is kept (CI).
 */
final class BrokerLogDigest {

  /** Our own loggers' telling lines (Ratis' warnings are mostly connection noise while a peer is down). */
  private static final String OURS = "(?:io\\.raftlog|i\\.r)\\.[\\w.]+ - ";
  private static final Pattern TELLING = Pattern.compile(" " + OURS + ".*(?i:"
      + "leader is now|leads now|leading in term|snapshot|repair|no-op|reassign|started:|registered|shutting down"
      + "|failed|fatal)|^\\S+ \\S+ (WARN|ERROR) +\\[[^]]*\\] " + OURS + "|(?i:installSnapshot)");

  /** The configuration a broker prints at start ("[broker-1]   key = value"). */
  private static final Pattern CONFIG_DUMP = Pattern.compile("\\]   \\S+ = ");

  private BrokerLogDigest() {}

  /** For each {@code broker-N/broker.log} under {@code clusterDir}, its last {@code perBroker} telling lines. */
  static String of(Path clusterDir, int perBroker) {
    StringBuilder out = new StringBuilder();
    List<Path> brokers;
    try (Stream<Path> dirs = Files.list(clusterDir)) {
      brokers = dirs.filter(d -> d.getFileName().toString().startsWith("broker-")).sorted().toList();
    } catch (IOException e) {
      return "(no broker logs under " + clusterDir + ": " + e + ")";
    }
    for (Path broker : brokers) {
      Path log = broker.resolve("broker.log");
      out.append("===== ").append(log).append(" (last ").append(perBroker).append(" telling lines)\n");
      try {
        for (String line : lastMatching(log, perBroker)) {
          out.append(line.length() > 400 ? line.substring(0, 400) + " ..." : line).append('\n');
        }
      } catch (IOException | UncheckedIOException e) {
        out.append("(unreadable: ").append(e).append(")\n");
      }
    }
    return out.toString();
  }

  private static Deque<String> lastMatching(Path log, int max) throws IOException {
    Deque<String> kept = new ArrayDeque<>();
    try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
      lines.filter(l -> TELLING.matcher(l).find() && !CONFIG_DUMP.matcher(l).find()).forEach(l -> {
        kept.addLast(l);
        if (kept.size() > max) {
          kept.removeFirst();
        }
      });
    }
    return kept;
  }
}
