package io.raftlog.broker.metadata;

import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.log.v1.BrokerHeartbeat;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.MetadataStatus;
import io.raftlog.log.v1.RegisterBroker;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers this broker (id, host, ports) in the metadata group and then heartbeats, so other
 * brokers know where to reach it and whether it is alive. Retries until the metadata group has a
 * leader; never gives up while the broker runs.
 */
public final class BrokerRegistrar {

  private static final Logger LOG = LoggerFactory.getLogger(BrokerRegistrar.class);

  private final BrokerConfig config;
  private final MetadataClient metadata;
  private final MetadataView view;
  private final ScheduledExecutorService scheduler;
  private final AtomicBoolean registered = new AtomicBoolean();
  private volatile boolean stopped;

  public BrokerRegistrar(BrokerConfig config, MetadataClient metadata, MetadataView view,
      ScheduledExecutorService scheduler) {
    this.view = view;
    this.config = config;
    this.metadata = metadata;
    this.scheduler = scheduler;
  }

  public void start() {
    scheduler.execute(this::tick);
  }

  public boolean isRegistered() {
    return registered.get();
  }

  private void tick() {
    if (stopped) {
      return;
    }
    MetadataCommand.Builder cmd = MetadataCommand.newBuilder();
    if (registered.get()) {
      cmd.setBrokerHeartbeat(BrokerHeartbeat.newBuilder().setBrokerId(config.brokerId));
    } else {
      cmd.setRegisterBroker(RegisterBroker.newBuilder().setBrokerId(config.brokerId).setHost(config.host)
          .setPort(config.port).setRaftPort(config.raftPort));
    }
    try {
      metadata.submitWithIndex(cmd).whenComplete((applied, error) -> {
        try {
          handleReply(applied, error);
        } finally {
          scheduleNext();
        }
      });
    } catch (RuntimeException e) {
      // A heartbeat chain that stops would get this broker fenced for good: log and go on.
      LOG.warn("[broker-{}] metadata heartbeat not sent", config.brokerId, e);
      scheduleNext();
    }
  }

  private void handleReply(MetadataClient.Applied applied, Throwable error) {
    MetadataReply reply = applied == null ? null : applied.reply();
    if (error != null) {
      LOG.debug("[broker-{}] metadata heartbeat failed: {}", config.brokerId, error.toString());
    } else if (reply.getStatus() == MetadataStatus.METADATA_OK) {
      if (!registered.get()) {
        // Mark first, then publish the flag: whoever sees isRegistered() also sees the index
        // the view must reach before it counts as caught up.
        view.markCommittedAt(applied.logIndex());
        registered.set(true);
        LOG.info("[broker-{}] registered with the metadata group", config.brokerId);
      }
    } else {
      // e.g. the metadata log lost our registration: register again.
      registered.set(false);
      LOG.warn("[broker-{}] heartbeat refused: {}", config.brokerId, reply.getMessage());
    }
  }

  private void scheduleNext() {
    if (!stopped) {
      scheduler.schedule(this::tick, config.heartbeatIntervalMs, TimeUnit.MILLISECONDS);
    }
  }

  public void stop() {
    stopped = true;
  }
}
