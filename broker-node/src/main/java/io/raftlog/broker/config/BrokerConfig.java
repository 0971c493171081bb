package io.raftlog.broker.config;

import io.raftlog.statemachine.metadata.TopicConfig;
import io.raftlog.statemachine.metadata.TopicRules;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * The broker's configuration, parsed once from properties into typed, validated values. Every key
 * has a name constant, a default (or is required), a doc string and a validator: see {@link #KEYS}.
 * Unknown keys are rejected so that a typo does not silently fall back to a default.
 */
public final class BrokerConfig {

  /** One documented configuration key. */
  public record Key(String name, String defaultValue, String doc) {}

  public static final String BROKER_ID = "broker.id";
  public static final String HOST = "host";
  public static final String PORT = "port";
  public static final String RAFT_PORT = "raft.port";
  public static final String DATA_DIR = "data.dir";
  public static final String METADATA_VOTERS = "metadata.voters";
  public static final String REPLICA_LAG_TIME_MAX_MS = "replica.lag.time.max.ms";
  public static final String HEARTBEAT_INTERVAL_MS = "broker.heartbeat.interval.ms";
  public static final String SESSION_TIMEOUT_MS = "broker.session.timeout.ms";
  public static final String ELECTION_TIMEOUT_MIN_MS = "raft.election.timeout.min.ms";
  public static final String ELECTION_TIMEOUT_MAX_MS = "raft.election.timeout.max.ms";
  public static final String ELECTION_ON_PEER_EXIT_ENABLE = "raft.election.on.peer.exit.enable";
  public static final String SNAPSHOT_THRESHOLD_ENTRIES = "raft.snapshot.threshold.entries";
  public static final String SNAPSHOT_THRESHOLD_BYTES = "raft.snapshot.threshold.bytes";
  public static final String RAFT_SEGMENT_BYTES = "raft.log.segment.bytes";
  public static final String MAX_BATCH_BYTES = "max.batch.bytes";
  public static final String SEGMENT_BYTES = "segment.bytes";
  public static final String SEGMENT_MS = "segment.ms";
  public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
  public static final String RETENTION_MS = "retention.ms";
  public static final String RETENTION_BYTES = "retention.bytes";
  public static final String RETENTION_CHECK_INTERVAL_MS = "retention.check.interval.ms";
  public static final String CLEANUP_POLICY = "cleanup.policy";
  public static final String DELETE_RETENTION_MS = "delete.retention.ms";
  public static final String MIN_CLEANABLE_DIRTY_RATIO = "min.cleanable.dirty.ratio";
  public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";
  public static final String CLEANER_BACKOFF_MS = "cleaner.backoff.ms";
  public static final String CLEANER_MAX_KEYS = "cleaner.max.keys";
  public static final String REPLICA_COPY_MAX_BYTES_PER_SECOND = "replica.copy.max.bytes.per.second";
  public static final String AUTO_LEADER_REBALANCE_ENABLE = "auto.leader.rebalance.enable";
  public static final String PRODUCE_TIMEOUT_MS = "produce.timeout.ms";
  public static final String GROUP_COMMIT_MAX_IN_FLIGHT = "group.commit.max.in.flight.entries";
  public static final String FETCH_MAX_BYTES = "fetch.max.bytes";
  public static final String SOCKET_REQUEST_MAX_BYTES = "socket.request.max.bytes";
  public static final String MAX_PARTITIONS_PER_TOPIC = "max.partitions.per.topic";
  public static final String GROUP_SESSION_TIMEOUT_MS = "group.consumer.session.timeout.ms";
  public static final String GROUP_MIN_SESSION_TIMEOUT_MS = "group.consumer.min.session.timeout.ms";
  public static final String GROUP_MAX_SESSION_TIMEOUT_MS = "group.consumer.max.session.timeout.ms";
  public static final String GROUP_HEARTBEAT_INTERVAL_MS = "group.consumer.heartbeat.interval.ms";

  /** Largest fetch.max.bytes: a full answer plus one oversized batch (max.batch.bytes) must fit the SDK's 64 MiB inbound limit. */
  static final int FETCH_MAX_BYTES_LIMIT = 50 * 1024 * 1024;

  public static final List<Key> KEYS = List.of(
      new Key(BROKER_ID, null, "Numeric id of this broker, unique in the cluster (>= 0). Required."),
      new Key(HOST, "127.0.0.1", "Host name or IP the broker binds and advertises to clients and peers."),
      new Key(PORT, "9092", "Public gRPC port (produce, fetch, admin, health, reflection)."),
      new Key(RAFT_PORT, "9093", "Port of the Ratis server (Raft traffic between brokers)."),
      new Key(DATA_DIR, null, "Directory for Raft logs, snapshots and partition segment files. Required."),
      new Key(METADATA_VOTERS, null,
          "Voters of the metadata Raft group: id@host:raftPort,... (like KRaft's controller.quorum.voters). Required."),
      new Key(REPLICA_LAG_TIME_MAX_MS, "5000",
          "A follower is in sync while it was heard from and had caught up with the leader within this time."),
      new Key(HEARTBEAT_INTERVAL_MS, "1000", "How often the broker heartbeats to the metadata group."),
      new Key(SESSION_TIMEOUT_MS, "6000", "A broker without heartbeat for this long counts as not alive."),
      new Key(ELECTION_TIMEOUT_MIN_MS, "300", "Minimum Raft election timeout."),
      new Key(ELECTION_TIMEOUT_MAX_MS, "450", "Maximum Raft election timeout."),
      new Key(ELECTION_ON_PEER_EXIT_ENABLE, "true", "true: every broker keeps one stream open to each other"
          + " broker, and when a broker's process exits (its connections close) the survivors start elections"
          + " at once in the Raft groups it led, instead of waiting for the election timeout. A paused or"
          + " cut-off broker is still noticed by the election timeout only."),
      new Key(SNAPSHOT_THRESHOLD_ENTRIES, "10000", "Take a state machine snapshot every this many Raft entries."),
      new Key(SNAPSHOT_THRESHOLD_BYTES, "67108864", "Also take a partition replica's snapshot once the Raft entries"
          + " applied since the last one reach this many bytes, so the Raft log kept between snapshots stays"
          + " bounded in bytes with large batches too; 0 for entries only."),
      new Key(RAFT_SEGMENT_BYTES, "2162688", "Size at which a Raft log segment file is closed and a new one started;"
          + " at least 2 x max.batch.bytes + 64 KiB (one entry). Ratis keeps a partition replica's open segment and"
          + " up to two closed ones in heap, so the heap needs about 2 x this per partition replica that takes writes."),
      new Key(MAX_BATCH_BYTES, "1048576", "Largest record batch a produce may create for one partition"
          + " (Kafka's message.max.bytes); a larger one is refused with RECORD_TOO_LARGE."),
      new Key(SEGMENT_BYTES, "67108864", "Size at which a partition's active segment file is rolled."),
      new Key(SEGMENT_MS, "604800000", "Default segment.ms of topics: a batch whose timestamp is more than this"
          + " after the first batch of the active segment starts a new segment (Kafka's log.roll.ms)."),
      new Key(INDEX_INTERVAL_BYTES, "4096", "Bytes of log between two offset index entries."),
      new Key(RETENTION_MS, "604800000", "Default retention.ms of topics: records older than this (by the newest"
          + " timestamp of their segment) are deleted, whole segments at a time; -1 keeps them for ever."),
      new Key(RETENTION_BYTES, "-1", "Default retention.bytes of topics: the most bytes a partition keeps,"
          + " older segments are deleted beyond it; -1 for unlimited."),
      new Key(RETENTION_CHECK_INTERVAL_MS, "60000", "How often each partition leader checks retention"
          + " (Kafka's log.retention.check.interval.ms)."),
      new Key(CLEANUP_POLICY, "delete", "Default cleanup.policy of topics: delete (retention), compact (log"
          + " compaction: the latest record per key is kept), or compact,delete (Kafka's log.cleanup.policy)."),
      new Key(DELETE_RETENTION_MS, "86400000", "Default delete.retention.ms of topics: how long a tombstone of a"
          + " compacted topic stays after the cleaning that first saw it (Kafka's log.cleaner.delete.retention.ms)."),
      new Key(MIN_CLEANABLE_DIRTY_RATIO, "0.5", "Default min.cleanable.dirty.ratio of topics: a compacted"
          + " partition is cleaned once the bytes written since its last cleaning are at least this share of its"
          + " sealed segments (Kafka's log.cleaner.min.cleanable.ratio)."),
      new Key(MIN_COMPACTION_LAG_MS, "0", "Default min.compaction.lag.ms of topics: records younger than this"
          + " (by their timestamps) are not compacted (Kafka's log.cleaner.min.compaction.lag.ms)."),
      new Key(CLEANER_BACKOFF_MS, "15000", "How long the log cleaner sleeps when no compacted partition is due"
          + " (Kafka's log.cleaner.backoff.ms). One cleaner thread per broker cleans its replicas one at a time."),
      new Key(REPLICA_COPY_MAX_BYTES_PER_SECOND, "-1", "Most bytes per second this broker copies from other"
          + " replicas' segment files, over all its replicas: a new replica (reassignment, replication-factor"
          + " increase), one that lost its data, or one repairing damaged files (Kafka's replication throttle)."
          + " Entries still in the leader's Raft log are replicated by Raft, unthrottled. -1: unlimited, else at"
          + " least 1024."),
      new Key(CLEANER_MAX_KEYS, "500000", "Most distinct keys one cleaning of a partition indexes (about 100"
          + " bytes of heap each); a partition with more keys written since its last cleaning is cleaned over"
          + " several passes."),
      new Key(AUTO_LEADER_REBALANCE_ENABLE, "true", "true: leadership moves back to a partition's preferred"
          + " replica (the first of its assignment) by itself once that replica has caught up. false: leaders"
          + " stay where elections put them until `cluster elect-leaders` moves them. Set it the same on"
          + " every broker (each broker sets the Raft priority of its own replicas)."),
      new Key(PRODUCE_TIMEOUT_MS, "30000", "Default time a produce waits for its acks when the request sets none."),
      new Key(GROUP_COMMIT_MAX_IN_FLIGHT, "2", "Group commit: Raft entries per partition its leader proposes"
          + " before further producer batches wait; when one commits, the batches that waited go into one entry"
          + " (up to max.batch.bytes). Each entry has a fixed cost on every replica, so under load fewer, larger"
          + " entries keep the CPU free; an idle partition proposes each batch at once, alone."),
      new Key(FETCH_MAX_BYTES, "52428800", "Most record bytes one fetch response carries over all its partitions"
          + " (a partition's max_bytes is capped by it too); the first batch found is returned even if larger."
          + " At most " + FETCH_MAX_BYTES_LIMIT + "."),
      new Key(SOCKET_REQUEST_MAX_BYTES, "67108864", "Largest gRPC request message the broker accepts; a larger one"
          + " is refused with RESOURCE_EXHAUSTED before it is read. At least max.batch.bytes + 64 KiB."),
      new Key(MAX_PARTITIONS_PER_TOPIC, "1000", "Most partitions a topic may be created with (each partition is"
          + " a Raft group on every replica). At most " + TopicRules.MAX_PARTITIONS + "."),
      new Key(GROUP_SESSION_TIMEOUT_MS, "10000", "A consumer-group member that asks for no session timeout is"
          + " expelled after this long without a heartbeat; its partitions go to the other members."),
      new Key(GROUP_MIN_SESSION_TIMEOUT_MS, "1000", "Smallest session timeout a group member may ask for."),
      new Key(GROUP_MAX_SESSION_TIMEOUT_MS, "300000", "Largest session timeout a group member may ask for."),
      new Key(GROUP_HEARTBEAT_INTERVAL_MS, "1000", "How often group members heartbeat (told to them in every"
          + " heartbeat answer; at most a third of the member's session timeout). Partitions freed by one member"
          + " reach the next at its next heartbeat, so this bounds the rebalance time after a clean leave."));

  /** A voter of the metadata group. */
  public record Voter(int brokerId, String host, int raftPort) {}

  public final int brokerId;
  public final String host;
  public final int port;
  public final int raftPort;
  public final Path dataDir;
  public final List<Voter> metadataVoters;
  public final long replicaLagTimeMaxMs;
  public final long heartbeatIntervalMs;
  public final long sessionTimeoutMs;
  public final long electionTimeoutMinMs;
  public final long electionTimeoutMaxMs;
  public final long snapshotThresholdEntries;
  public final long snapshotThresholdBytes;
  public final int raftSegmentBytes;
  public final int maxBatchBytes;
  public final int segmentBytes;
  public final long segmentMs;
  public final int indexIntervalBytes;
  public final long retentionMs;
  public final long retentionBytes;
  public final long retentionCheckIntervalMs;
  public final String cleanupPolicy;
  public final long deleteRetentionMs;
  public final double minCleanableDirtyRatio;
  public final long minCompactionLagMs;
  public final long cleanerBackoffMs;
  public final int cleanerMaxKeys;
  public final long replicaCopyMaxBytesPerSecond;
  public final boolean autoLeaderRebalanceEnable;
  public final boolean electionOnPeerExitEnable;
  public final int produceTimeoutMs;
  public final int groupCommitMaxInFlight;
  public final int fetchMaxBytes;
  public final int socketRequestMaxBytes;
  public final int maxPartitionsPerTopic;
  public final int groupSessionTimeoutMs;
  public final int groupMinSessionTimeoutMs;
  public final int groupMaxSessionTimeoutMs;
  public final int groupHeartbeatIntervalMs;

  private final Map<String, String> effective;

  private BrokerConfig(Map<String, String> v) {
    this.effective = Collections.unmodifiableMap(v);
    brokerId = intValue(v, BROKER_ID, 0, Integer.MAX_VALUE);
    host = v.get(HOST);
    port = intValue(v, PORT, 0, 65535);
    raftPort = intValue(v, RAFT_PORT, 0, 65535);
    dataDir = Path.of(v.get(DATA_DIR));
    metadataVoters = parseVoters(v.get(METADATA_VOTERS));
    replicaLagTimeMaxMs = longValue(v, REPLICA_LAG_TIME_MAX_MS, 100);
    heartbeatIntervalMs = longValue(v, HEARTBEAT_INTERVAL_MS, 50);
    sessionTimeoutMs = longValue(v, SESSION_TIMEOUT_MS, 2 * heartbeatIntervalMs);
    electionTimeoutMinMs = longValue(v, ELECTION_TIMEOUT_MIN_MS, 50);
    electionTimeoutMaxMs = longValue(v, ELECTION_TIMEOUT_MAX_MS, electionTimeoutMinMs + 1);
    snapshotThresholdEntries = longValue(v, SNAPSHOT_THRESHOLD_ENTRIES, 100);
    snapshotThresholdBytes = longValue(v, SNAPSHOT_THRESHOLD_BYTES, 0);
    maxBatchBytes = intValue(v, MAX_BATCH_BYTES, 1024, 8 * 1024 * 1024);
    // A segment must hold at least one entry; a larger max.batch.bytes raises the effective size.
    raftSegmentBytes = Math.max(intValue(v, RAFT_SEGMENT_BYTES, 64 * 1024, Integer.MAX_VALUE),
        raftEntryLimitBytes(maxBatchBytes));
    segmentBytes = intValue(v, SEGMENT_BYTES, 1024, Integer.MAX_VALUE);
    segmentMs = longValue(v, SEGMENT_MS, 1);
    indexIntervalBytes = intValue(v, INDEX_INTERVAL_BYTES, 1, Integer.MAX_VALUE);
    retentionMs = longValue(v, RETENTION_MS, -1);
    retentionBytes = longValue(v, RETENTION_BYTES, -1);
    retentionCheckIntervalMs = longValue(v, RETENTION_CHECK_INTERVAL_MS, 10);
    cleanupPolicy = TopicConfig.normalizedPolicy(v.get(CLEANUP_POLICY));
    if (cleanupPolicy == null) {
      throw new IllegalArgumentException("configuration key '" + CLEANUP_POLICY + "' must be delete, compact or"
          + " compact,delete, got '" + v.get(CLEANUP_POLICY) + "'");
    }
    deleteRetentionMs = longValue(v, DELETE_RETENTION_MS, 0);
    minCleanableDirtyRatio = ratioValue(v, MIN_CLEANABLE_DIRTY_RATIO);
    minCompactionLagMs = longValue(v, MIN_COMPACTION_LAG_MS, 0);
    cleanerBackoffMs = longValue(v, CLEANER_BACKOFF_MS, 10);
    cleanerMaxKeys = intValue(v, CLEANER_MAX_KEYS, 1000, Integer.MAX_VALUE);
    replicaCopyMaxBytesPerSecond = longValue(v, REPLICA_COPY_MAX_BYTES_PER_SECOND, -1);
    if (replicaCopyMaxBytesPerSecond != -1 && replicaCopyMaxBytesPerSecond < 1024) {
      throw new IllegalArgumentException("configuration key '" + REPLICA_COPY_MAX_BYTES_PER_SECOND + "' must be -1"
          + " (unlimited) or at least 1024, got " + replicaCopyMaxBytesPerSecond);
    }
    autoLeaderRebalanceEnable = booleanValue(v, AUTO_LEADER_REBALANCE_ENABLE);
    electionOnPeerExitEnable = booleanValue(v, ELECTION_ON_PEER_EXIT_ENABLE);
    produceTimeoutMs = intValue(v, PRODUCE_TIMEOUT_MS, 1, Integer.MAX_VALUE);
    groupCommitMaxInFlight = intValue(v, GROUP_COMMIT_MAX_IN_FLIGHT, 1, 1024);
    fetchMaxBytes = intValue(v, FETCH_MAX_BYTES, 1024, FETCH_MAX_BYTES_LIMIT);
    socketRequestMaxBytes = intValue(v, SOCKET_REQUEST_MAX_BYTES, maxBatchBytes + 64 * 1024, Integer.MAX_VALUE);
    maxPartitionsPerTopic = intValue(v, MAX_PARTITIONS_PER_TOPIC, 1, TopicRules.MAX_PARTITIONS);
    groupMinSessionTimeoutMs = intValue(v, GROUP_MIN_SESSION_TIMEOUT_MS, 100, Integer.MAX_VALUE);
    groupMaxSessionTimeoutMs = intValue(v, GROUP_MAX_SESSION_TIMEOUT_MS, groupMinSessionTimeoutMs, Integer.MAX_VALUE);
    groupSessionTimeoutMs = intValue(v, GROUP_SESSION_TIMEOUT_MS, groupMinSessionTimeoutMs, groupMaxSessionTimeoutMs);
    groupHeartbeatIntervalMs = intValue(v, GROUP_HEARTBEAT_INTERVAL_MS, 50, Integer.MAX_VALUE);
  }

  /**
   * Parses and validates.
   *
   * @throws IllegalArgumentException naming the key and what is wrong with it
   */
  public static BrokerConfig parse(Map<String, String> raw) {
    Map<String, String> v = new LinkedHashMap<>();
    Map<String, Key> known = new LinkedHashMap<>();
    KEYS.forEach(k -> known.put(k.name(), k));
    for (String name : raw.keySet()) {
      if (!known.containsKey(name)) {
        throw new IllegalArgumentException("unknown configuration key '" + name + "'; known keys: " + known.keySet());
      }
    }
    for (Key k : KEYS) {
      String value = raw.get(k.name());
      if (value == null || value.isBlank()) {
        value = k.defaultValue();
      }
      if (value == null) {
        throw new IllegalArgumentException("configuration key '" + k.name() + "' is required: " + k.doc());
      }
      v.put(k.name(), value.trim());
    }
    return new BrokerConfig(v);
  }

  public static BrokerConfig fromProperties(Properties props) {
    Map<String, String> raw = new LinkedHashMap<>();
    props.stringPropertyNames().forEach(n -> raw.put(n, props.getProperty(n)));
    return parse(raw);
  }

  /** Effective values of every key, for logging at start. */
  public Map<String, String> effectiveValues() {
    return effective;
  }

  /** A copy with some keys replaced (used by tests to restart a broker on the same ports). */
  public BrokerConfig with(Map<String, String> overrides) {
    Map<String, String> v = new LinkedHashMap<>(effective);
    v.putAll(overrides);
    return parse(v);
  }

  /** Broker-wide values of the topic configs; a topic's own settings override them. */
  public TopicConfig.Defaults topicDefaults() {
    return new TopicConfig.Defaults(retentionMs, retentionBytes, segmentBytes, segmentMs, maxBatchBytes,
        cleanupPolicy, deleteRetentionMs, minCleanableDirtyRatio, minCompactionLagMs);
  }

  /** Largest Raft entry: a batch plus the command envelope, with room to spare. */
  public static int raftEntryLimitBytes(int maxBatchBytes) {
    return 2 * maxBatchBytes + 64 * 1024;
  }

  public boolean isMetadataVoter() {
    return metadataVoters.stream().anyMatch(voter -> voter.brokerId() == brokerId);
  }

  static List<Voter> parseVoters(String spec) {
    List<Voter> voters = new ArrayList<>();
    for (String part : spec.split(",")) {
      String p = part.trim();
      int at = p.indexOf('@');
      int colon = p.lastIndexOf(':');
      if (at <= 0 || colon <= at + 1 || colon == p.length() - 1) {
        throw new IllegalArgumentException("metadata.voters entry '" + p + "' is not of the form id@host:raftPort");
      }
      Voter voter;
      try {
        voter = new Voter(Integer.parseInt(p.substring(0, at)), p.substring(at + 1, colon),
            Integer.parseInt(p.substring(colon + 1)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("metadata.voters entry '" + p + "' has a non-numeric id or port");
      }
      if (voter.brokerId() < 0) {
        throw new IllegalArgumentException("metadata.voters entry '" + p + "' has a negative broker id");
      }
      if (voter.raftPort() < 1 || voter.raftPort() > 65535) {
        throw new IllegalArgumentException("metadata.voters entry '" + p + "' has port " + voter.raftPort()
            + "; it must be between 1 and 65535");
      }
      for (Voter other : voters) {
        if (other.brokerId() == voter.brokerId()) {
          throw new IllegalArgumentException("metadata.voters names broker id " + voter.brokerId()
              + " more than once");
        }
      }
      voters.add(voter);
    }
    if (voters.isEmpty()) {
      throw new IllegalArgumentException("metadata.voters must name at least one voter");
    }
    return List.copyOf(voters);
  }

  private static boolean booleanValue(Map<String, String> v, String key) {
    String s = v.get(key);
    if (s.equalsIgnoreCase("true")) {
      return true;
    }
    if (s.equalsIgnoreCase("false")) {
      return false;
    }
    throw new IllegalArgumentException("configuration key '" + key + "' must be true or false, got '" + s + "'");
  }

  private static int intValue(Map<String, String> v, String key, int min, int max) {
    return (int) parseLong(v, key, min, max, Long::parseLong);
  }

  private static double ratioValue(Map<String, String> v, String key) {
    String s = v.get(key);
    Double ratio = TopicConfig.parseRatio(s);
    if (ratio != null) {
      return ratio;
    }
    throw new IllegalArgumentException("configuration key '" + key + "' must be a number from 0 to 1, got '" + s + "'");
  }

  private static long longValue(Map<String, String> v, String key, long min) {
    return parseLong(v, key, min, Long.MAX_VALUE, Long::parseLong);
  }

  private static long parseLong(Map<String, String> v, String key, long min, long max, Function<String, Long> parser) {
    String s = v.get(key);
    long value;
    try {
      value = parser.apply(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("configuration key '" + key + "' must be a number, got '" + s + "'");
    }
    if (value < min || value > max) {
      throw new IllegalArgumentException("configuration key '" + key + "' must be between " + min + " and "
          + max + ", got " + value);
    }
    return value;
  }
}
