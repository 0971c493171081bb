package io.raftlog.broker.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.Timekeeper;
import org.junit.jupiter.api.Test;

class CountingRatisMetricsTest {

  private static final MetricRegistryInfo INFO = new MetricRegistryInfo("1@group-1", "ratis", "server", "desc");

  @Test
  void ratisLoadsItInsteadOfDropwizard() {
    assertInstanceOf(CountingRatisMetrics.class, MetricRegistries.global(),
        "Ratis must find CountingRatisMetrics through ServiceLoader (and no other implementation first)");
  }

  @Test
  void timersCountAndSumWhatTheyTime() {
    CountingRatisMetrics metrics = new CountingRatisMetrics();
    CountingRatisMetrics.Registry registry = (CountingRatisMetrics.Registry) metrics.create(INFO);
    CountingRatisMetrics.CountingTimer timer = registry.timer("append");
    assertSame(timer, registry.timer("append"), "one timer per name");
    Timekeeper.Context first = timer.time();
    Timekeeper.Context second = timer.time();
    long a = first.stop();
    long b = second.stop();
    assertTrue(a >= 0 && b >= 0);
    assertEquals(2, timer.count());
    assertEquals(a + b, timer.totalNanos());
  }

  @Test
  void countersGaugesAndRemoval() {
    CountingRatisMetrics metrics = new CountingRatisMetrics();
    CountingRatisMetrics.Registry registry = (CountingRatisMetrics.Registry) metrics.create(INFO);
    registry.counter("requests").inc();
    registry.counter("requests").inc(5);
    registry.counter("requests").dec();
    assertEquals(5, registry.counter("requests").getCount());
    long[] value = {7};
    registry.gauge("lag", () -> () -> value[0]);
    value[0] = 9;
    assertEquals(Optional.of(9L), registry.gaugeValue("lag"));
    assertTrue(registry.remove("lag"));
    assertFalse(registry.remove("lag"));
    assertEquals(Optional.empty(), registry.gaugeValue("lag"));
  }

  @Test
  void registriesAreKeptPerInfoAndReportersHearOfThem() {
    CountingRatisMetrics metrics = new CountingRatisMetrics();
    List<String> heard = new ArrayList<>();
    Consumer<RatisMetricRegistry> start = r -> heard.add("start " + r.getMetricRegistryInfo().getPrefix());
    Consumer<RatisMetricRegistry> stop = r -> heard.add("stop " + r.getMetricRegistryInfo().getPrefix());
    metrics.addReporterRegistration(start, stop);
    RatisMetricRegistry created = metrics.create(INFO);
    assertSame(created, metrics.create(INFO), "the same info gives the same registry");
    assertEquals(Optional.of(created), metrics.get(INFO));
    assertEquals(1, metrics.getMetricRegistries().size());
    assertTrue(metrics.remove(INFO));
    assertEquals(Optional.of(created), metrics.get(INFO), "created twice: still held once");
    assertTrue(metrics.remove(INFO));
    assertEquals(Optional.empty(), metrics.get(INFO));
    assertFalse(metrics.remove(INFO));
    metrics.removeReporterRegistration(start, stop);
    metrics.create(INFO);
    metrics.clear();
    assertEquals(List.of("start 1@group-1", "stop 1@group-1", "stop 1@group-1"), heard);
    assertTrue(metrics.getMetricRegistryInfos().isEmpty());
  }
}
