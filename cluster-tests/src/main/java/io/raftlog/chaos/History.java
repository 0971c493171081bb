package io.raftlog.chaos;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything that happened in a run, in the order recorded: kept in memory for the checker and
 * written as JSON lines to the history file as it happens (so a crashed run still leaves one).
 */
public final class History implements AutoCloseable {

  private final long startNanos = System.nanoTime();
  private final List<Event> events = new ArrayList<>();
  private final BufferedWriter out;

  /** @param file the history file, or null to keep the history in memory only */
  public History(Path file) {
    try {
      this.out = file == null ? null : Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the history file " + file, e);
    }
  }

  /** Milliseconds since the run started: the time base of every event. */
  public long now() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  public synchronized void add(Event e) {
    events.add(e);
    if (out != null) {
      try {
        out.write(e.toJson());
        out.newLine();
      } catch (IOException ex) {
        throw new UncheckedIOException("cannot write the history file", ex);
      }
    }
  }

  public synchronized List<Event> events() {
    return List.copyOf(events);
  }

  @Override
  public synchronized void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close the history file", e);
      }
    }
  }
}
