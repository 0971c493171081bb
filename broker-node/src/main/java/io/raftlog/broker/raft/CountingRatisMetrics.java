package io.raftlog.broker.raft;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.ratis.metrics.LongCounter;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.Timekeeper;
import org.apache.ratis.util.RefCountingMap;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis' metrics, kept as counts and totals only. Ratis finds it through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/org.apache.ratis.metrics.MetricRegistries} in this module) in place of
 * {@code ratis-metrics-default}, which is not a dependency.
 *
 * <p>Why: Ratis times almost every step of every entry (log worker tasks, appends, appender
 * round trips, client requests), and {@code ratis-metrics-default} keeps each timer's samples in a
 * Dropwizard exponentially decaying reservoir, a concurrent skip-list insert per sample: ~10% of
 * the brokers' Java samples in a 1 KiB acks=all profile (docs/benchmarks.md), for numbers nothing in
 * Raftlog reads (it enables no Ratis metric reporter). Here a timer is two {@link LongAdder}s.
 * Ratis' JMX and console reporters are therefore not available.
 */
public final class CountingRatisMetrics extends MetricRegistries {

  private static final Logger LOG = LoggerFactory.getLogger(CountingRatisMetrics.class);

  /** Reference-counted like ratis-metrics-default's: each create needs its remove. */
  private final RefCountingMap<MetricRegistryInfo, RatisMetricRegistry> registries = new RefCountingMap<>();
  private final List<Consumer<RatisMetricRegistry>> onCreate = new CopyOnWriteArrayList<>();
  private final List<Consumer<RatisMetricRegistry>> onRemove = new CopyOnWriteArrayList<>();
  private final AtomicBoolean reporterWarned = new AtomicBoolean();

  /** Public and without arguments: ServiceLoader creates it. */
  public CountingRatisMetrics() {}

  @Override
  public void clear() {
    registries.clear();
  }

  @Override
  public RatisMetricRegistry create(MetricRegistryInfo info) {
    return registries.put(info, () -> {
      Registry created = new Registry(info);
      onCreate.forEach(c -> c.accept(created));
      return created;
    });
  }

  /**
   * Drops one reference; the registry goes when its last holder removes it. Reporters hear of each
   * remove, as with ratis-metrics-default.
   */
  @Override
  public boolean remove(MetricRegistryInfo info) {
    RatisMetricRegistry registry = registries.get(info);
    if (registry == null) {
      return false;
    }
    onRemove.forEach(c -> c.accept(registry));
    registries.remove(info);
    return true;
  }

  @Override
  public Optional<RatisMetricRegistry> get(MetricRegistryInfo info) {
    return Optional.ofNullable(registries.get(info));
  }

  @Override
  public Set<MetricRegistryInfo> getMetricRegistryInfos() {
    return Set.copyOf(registries.keySet());
  }

  @Override
  public Collection<RatisMetricRegistry> getMetricRegistries() {
    return List.copyOf(registries.values());
  }

  @Override
  public void addReporterRegistration(Consumer<RatisMetricRegistry> reporterRegistration,
      Consumer<RatisMetricRegistry> stopReporter) {
    onCreate.add(reporterRegistration);
    onRemove.add(stopReporter);
  }

  @Override
  public void removeReporterRegistration(Consumer<RatisMetricRegistry> reporterRegistration,
      Consumer<RatisMetricRegistry> stopReporter) {
    onCreate.remove(reporterRegistration);
    onRemove.remove(stopReporter);
  }

  @Override
  public void enableJmxReporter() {
    warnNoReporter("JMX");
  }

  @Override
  public void enableConsoleReporter(TimeDuration consoleReportRate) {
    warnNoReporter("console");
  }

  private void warnNoReporter(String kind) {
    if (reporterWarned.compareAndSet(false, true)) {
      LOG.warn("Ratis' {} metric reporter is not available: Raftlog keeps Ratis' metrics as counts and totals only"
          + " (CountingRatisMetrics)", kind);
    }
  }

  /** One component's metrics (a division, a log, an appender...). */
  static final class Registry implements RatisMetricRegistry {
    private final MetricRegistryInfo info;
    private final ConcurrentMap<String, CountingTimer> timers = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Supplier<?>> gauges = new ConcurrentHashMap<>();

    Registry(MetricRegistryInfo info) {
      this.info = info;
    }

    @Override
    public CountingTimer timer(String name) {
      return timers.computeIfAbsent(name, n -> new CountingTimer());
    }

    @Override
    public Counter counter(String name) {
      return counters.computeIfAbsent(name, n -> new Counter());
    }

    @Override
    public boolean remove(String name) {
      boolean removed = timers.remove(name) != null;
      removed |= counters.remove(name) != null;
      removed |= gauges.remove(name) != null;
      return removed;
    }

    @Override
    public <T> void gauge(String name, Supplier<Supplier<T>> gaugeSupplier) {
      gauges.computeIfAbsent(name, n -> gaugeSupplier.get());
    }

    /** The current value of a gauge, or empty when there is none of that name. */
    Optional<Object> gaugeValue(String name) {
      return Optional.ofNullable(gauges.get(name)).map(Supplier::get);
    }

    @Override
    public MetricRegistryInfo getMetricRegistryInfo() {
      return info;
    }
  }

  /** How many times something was timed and for how long in all. */
  static final class CountingTimer implements Timekeeper {
    private final LongAdder count = new LongAdder();
    private final LongAdder totalNanos = new LongAdder();

    @Override
    public Context time() {
      long start = System.nanoTime();
      return () -> {
        long elapsed = System.nanoTime() - start;
        count.increment();
        totalNanos.add(elapsed);
        return elapsed;
      };
    }

    long count() {
      return count.sum();
    }

    long totalNanos() {
      return totalNanos.sum();
    }
  }

  static final class Counter implements LongCounter {
    private final LongAdder value = new LongAdder();

    @Override
    public void inc(long n) {
      value.add(n);
    }

    @Override
    public void dec(long n) {
      value.add(-n);
    }

    @Override
    public long getCount() {
      return value.sum();
    }
  }
}
