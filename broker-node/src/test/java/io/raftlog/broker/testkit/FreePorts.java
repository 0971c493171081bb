package io.raftlog.broker.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for brokers that tests start. Picked below the Linux ephemeral range (32768 and up), as
 * scripts/cluster.sh does: a port from {@code new ServerSocket(0)} lies in that range, and between
 * the pick and the broker's bind an outgoing connection (any client in the JVM) may take it.
 */
public final class FreePorts {

  private static final int MIN = 20000;
  private static final int SPAN = 12000;
  /** Handed out in this JVM: never twice, so two clusters of one test run cannot collide. */
  private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  /** A loopback port nothing listens on now and that this JVM has not handed out before. */
  public static int next() {
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = MIN + ThreadLocalRandom.current().nextInt(SPAN);
      if (!GIVEN.add(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return port;
      } catch (IOException e) {
        // in use: try another
      }
    }
    throw new UncheckedIOException(new IOException("no free port in " + MIN + ".." + (MIN + SPAN - 1)));
  }
}
