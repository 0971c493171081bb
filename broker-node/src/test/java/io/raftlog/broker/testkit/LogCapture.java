package io.raftlog.broker.testkit;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Captures what the brokers log while it is open, for tests that check how much is logged.
 *
 * <p>The test logging configuration ({@code logback-test.xml}) has a single console appender, and
 * logback's console target writes through {@code System.out} at every call; so this swaps in a
 * stream that copies everything to the previous {@code System.out} and keeps a copy. Only what the
 * configured levels let through is seen (io.raftlog at INFO, Ratis, gRPC and the rest at WARN),
 * i.e. exactly what an operator would see with those levels.
 */
public final class LogCapture implements AutoCloseable {

  private final PrintStream previous;
  private final ByteArrayOutputStream copy = new ByteArrayOutputStream();
  private boolean closed;

  private LogCapture() {
    previous = System.out;
    OutputStream tee = new OutputStream() {
      @Override
      public void write(int b) {
        synchronized (copy) {
          copy.write(b);
        }
        previous.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        synchronized (copy) {
          copy.write(b, off, len);
        }
        previous.write(b, off, len);
      }

      @Override
      public void flush() {
        previous.flush();
      }
    };
    System.setOut(new PrintStream(tee, true, StandardCharsets.UTF_8));
  }

  public static LogCapture start() {
    return new LogCapture();
  }

  /** Every line captured so far (stack trace lines included, as printed). */
  public List<String> lines() {
    String text;
    synchronized (copy) {
      text = copy.toString(StandardCharsets.UTF_8);
    }
    return Arrays.stream(text.split("\n")).filter(l -> !l.isEmpty()).toList();
  }

  /** Lines containing every one of {@code parts}. */
  public List<String> linesWith(String... parts) {
    return lines().stream().filter(l -> Arrays.stream(parts).allMatch(l::contains)).toList();
  }

  /** Stops capturing and restores {@code System.out}; the captured lines stay readable. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      System.out.flush();
      System.setOut(previous);
    }
  }
}
