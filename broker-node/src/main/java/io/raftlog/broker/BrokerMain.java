package io.raftlog.broker;

import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.statemachine.store.FileLogStore;
import io.raftlog.statemachine.store.LogStoreConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * Broker process entry point.
 *
 * <pre>
 * java io.raftlog.broker.BrokerMain [--config FILE] [--KEY=VALUE | --KEY VALUE]...
 * </pre>
 *
 * Flags override the file; keys are those of {@link BrokerConfig}. SIGTERM stops the broker cleanly.
 */
public final class BrokerMain {

  private BrokerMain() {}

  public static void main(String[] args) throws Exception {
    BrokerConfig config;
    try {
      config = BrokerConfig.parse(parseArgs(args));
    } catch (IllegalArgumentException | IOException e) {
      System.err.println("raftlog broker: " + e.getMessage());
      System.exit(2);
      return;
    }
    Broker broker = new Broker(config, dir -> FileLogStore.open(dir,
        new LogStoreConfig(config.segmentBytes, config.indexIntervalBytes)), Clock.systemUTC());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      broker.close();
      stopped.countDown();
    }, "shutdown"));
    try {
      broker.start();
    } catch (Exception e) {
      org.slf4j.LoggerFactory.getLogger(BrokerMain.class).error("broker failed to start", e);
      System.exit(1);
    }
    stopped.await();
  }

  static Map<String, String> parseArgs(String[] args) throws IOException {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'; use --config FILE or --KEY=VALUE");
      }
      String key = a.substring(2);
      String value;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException("flag --" + key + " needs a value");
      }
      if (key.equals("config")) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(value), StandardCharsets.UTF_8)) {
          p.load(r);
        }
        p.stringPropertyNames().forEach(n -> values.put(n, p.getProperty(n)));
      } else {
        flags.put(key, value);
      }
    }
    values.putAll(flags);
    return values;
  }
}
