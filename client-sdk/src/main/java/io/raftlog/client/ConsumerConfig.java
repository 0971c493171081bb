package io.raftlog.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Configuration of a {@link Consumer}. Immutable and thread-safe. Build it with {@link #builder()}
 * or from Kafka-style properties with {@link #fromProperties(Map)}:
 *
 * <table>
 *   <caption>Consumer properties</caption>
 *   <tr><th>Property</th><th>Default</th><th>Meaning</th></tr>
 *   <tr><td>bootstrap.servers</td><td>(required)</td><td>comma-separated host:port list</td></tr>
 *   <tr><td>auto.offset.reset</td><td>latest</td><td>earliest | latest | none</td></tr>
 *   <tr><td>fetch.min.bytes</td><td>1</td><td>bytes a long-poll fetch waits for</td></tr>
 *   <tr><td>fetch.max.wait.ms</td><td>500</td><td>longest a fetch waits for fetch.min.bytes (0..30000)</td></tr>
 *   <tr><td>max.partition.fetch.bytes</td><td>1048576</td><td>per-partition byte limit of a fetch</td></tr>
 *   <tr><td>max.poll.records</td><td>500</td><td>most records one poll returns</td></tr>
 *   <tr><td>request.timeout.ms</td><td>30000</td><td>deadline of one RPC (on top of the long-poll wait)</td></tr>
 *   <tr><td>retry.backoff.ms</td><td>100</td><td>first retry pause (doubles up to 1 s)</td></tr>
 *   <tr><td>metadata.max.age.ms</td><td>300000</td><td>cluster metadata is refreshed at least this often
 *       (how soon assigned partitions' leaders and partitions added to a topic are seen)</td></tr>
 *   <tr><td>client.id</td><td>(empty)</td><td>free-form name shown in logs and by group describe</td></tr>
 *   <tr><td>group.id</td><td>(none)</td><td>consumer group; required for {@link Consumer#subscribe} and commits</td></tr>
 *   <tr><td>session.timeout.ms</td><td>10000</td><td>a member is expelled after this long without a heartbeat</td></tr>
 *   <tr><td>heartbeat.interval.ms</td><td>1000</td><td>heartbeat period (the coordinator's value wins when it sends one)</td></tr>
 *   <tr><td>enable.auto.commit</td><td>true</td><td>commit returned records' positions from {@code poll} every auto.commit.interval.ms</td></tr>
 *   <tr><td>auto.commit.interval.ms</td><td>5000</td><td>period of automatic commits</td></tr>
 *   <tr><td>group.remote.assignor</td><td>sticky</td><td>server-side assignor the member prefers: sticky | range | roundrobin</td></tr>
 * </table>
 *
 * <p><b>At-least-once.</b> The default {@code enable.auto.commit=true} (as in Kafka) commits, from a
 * later {@code poll}, the positions of records an earlier {@code poll} returned, whether or not
 * the application finished processing them: a crash can then skip records. The recommended
 * setting for at-least-once processing is {@code enable.auto.commit=false} and
 * {@link Consumer#commitSync()} after the records of each poll are processed.
 */
public final class ConsumerConfig extends ClientConfig {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String AUTO_OFFSET_RESET = "auto.offset.reset";
    public static final String FETCH_MIN_BYTES = "fetch.min.bytes";
    public static final String FETCH_MAX_WAIT_MS = "fetch.max.wait.ms";
    public static final String MAX_PARTITION_FETCH_BYTES = "max.partition.fetch.bytes";
    public static final String MAX_POLL_RECORDS = "max.poll.records";
    public static final String REQUEST_TIMEOUT_MS = "request.timeout.ms";
    public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
    public static final String CLIENT_ID = "client.id";
    public static final String GROUP_ID = "group.id";
    public static final String SESSION_TIMEOUT_MS = "session.timeout.ms";
    public static final String HEARTBEAT_INTERVAL_MS = "heartbeat.interval.ms";
    public static final String ENABLE_AUTO_COMMIT = "enable.auto.commit";
    public static final String AUTO_COMMIT_INTERVAL_MS = "auto.commit.interval.ms";
    public static final String GROUP_REMOTE_ASSIGNOR = "group.remote.assignor";
    public static final String METADATA_MAX_AGE_MS = "metadata.max.age.ms";

    /** Every key {@link #fromProperties} accepts. */
    public static final Set<String> KEYS = Set.of(BOOTSTRAP_SERVERS, AUTO_OFFSET_RESET, FETCH_MIN_BYTES,
            FETCH_MAX_WAIT_MS, MAX_PARTITION_FETCH_BYTES, MAX_POLL_RECORDS, REQUEST_TIMEOUT_MS, RETRY_BACKOFF_MS,
            CLIENT_ID, GROUP_ID, SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, ENABLE_AUTO_COMMIT, AUTO_COMMIT_INTERVAL_MS,
            GROUP_REMOTE_ASSIGNOR, METADATA_MAX_AGE_MS);

    /** The server-side assignors a member can ask for ({@code group.remote.assignor}). */
    public static final Set<String> ASSIGNORS = Set.of("sticky", "range", "roundrobin");

    /** The broker rejects longer long-polls. */
    public static final int MAX_FETCH_WAIT_MS = 30_000;

    private final AutoOffsetReset autoOffsetReset;
    private final int fetchMinBytes;
    private final int fetchMaxWaitMs;
    private final int maxPartitionFetchBytes;
    private final int maxPollRecords;
    private final String clientId;
    private final String groupId;
    private final int sessionTimeoutMs;
    private final int heartbeatIntervalMs;
    private final boolean enableAutoCommit;
    private final int autoCommitIntervalMs;
    private final String groupRemoteAssignor;

    private ConsumerConfig(Builder b) {
        super(b);
        require(b.fetchMinBytes >= 0, FETCH_MIN_BYTES + " must be >= 0, got " + b.fetchMinBytes);
        require(b.fetchMaxWaitMs >= 0 && b.fetchMaxWaitMs <= MAX_FETCH_WAIT_MS,
                FETCH_MAX_WAIT_MS + " must be between 0 and " + MAX_FETCH_WAIT_MS + ", got " + b.fetchMaxWaitMs);
        require(b.maxPartitionFetchBytes > 0, MAX_PARTITION_FETCH_BYTES + " must be > 0, got " + b.maxPartitionFetchBytes);
        require(b.maxPollRecords > 0, MAX_POLL_RECORDS + " must be > 0, got " + b.maxPollRecords);
        require(b.clientId != null, CLIENT_ID + " must not be null");
        require(b.groupId == null || !b.groupId.isBlank(), GROUP_ID + " must not be blank when set, got '"
                + b.groupId + "'");
        require(b.sessionTimeoutMs > 0, SESSION_TIMEOUT_MS + " must be > 0, got " + b.sessionTimeoutMs);
        require(b.heartbeatIntervalMs > 0, HEARTBEAT_INTERVAL_MS + " must be > 0, got " + b.heartbeatIntervalMs);
        require(b.heartbeatIntervalMs < b.sessionTimeoutMs, HEARTBEAT_INTERVAL_MS + " (" + b.heartbeatIntervalMs
                + ") must be lower than " + SESSION_TIMEOUT_MS + " (" + b.sessionTimeoutMs + ")");
        require(b.autoCommitIntervalMs >= 0, AUTO_COMMIT_INTERVAL_MS + " must be >= 0, got " + b.autoCommitIntervalMs);
        require(b.groupRemoteAssignor != null && ASSIGNORS.contains(b.groupRemoteAssignor), GROUP_REMOTE_ASSIGNOR
                + " must be one of " + new TreeSet<>(ASSIGNORS) + ", got '" + b.groupRemoteAssignor + "'");
        this.autoOffsetReset = b.autoOffsetReset;
        this.fetchMinBytes = b.fetchMinBytes;
        this.fetchMaxWaitMs = b.fetchMaxWaitMs;
        this.maxPartitionFetchBytes = b.maxPartitionFetchBytes;
        this.maxPollRecords = b.maxPollRecords;
        this.clientId = b.clientId;
        this.groupId = b.groupId;
        this.sessionTimeoutMs = b.sessionTimeoutMs;
        this.heartbeatIntervalMs = b.heartbeatIntervalMs;
        this.enableAutoCommit = b.enableAutoCommit;
        this.autoCommitIntervalMs = b.autoCommitIntervalMs;
        this.groupRemoteAssignor = b.groupRemoteAssignor;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A configuration from Kafka-style properties (see the class table). Unset keys keep their
     * defaults; {@code bootstrap.servers} is required.
     *
     * @throws IllegalArgumentException naming the key, for an unknown key or an invalid value
     */
    public static ConsumerConfig fromProperties(Map<String, String> properties) {
        return builder().properties(properties).build();
    }

    /** Used when a position is unknown or out of range (default {@link AutoOffsetReset#LATEST}). */
    public AutoOffsetReset autoOffsetReset() {
        return autoOffsetReset;
    }

    /** Bytes the broker waits for before answering a fetch (default 1: answer as soon as any data). */
    public int fetchMinBytes() {
        return fetchMinBytes;
    }

    /** Longest a fetch waits at the broker for {@link #fetchMinBytes} (default 500, at most 30000). */
    public int fetchMaxWaitMs() {
        return fetchMaxWaitMs;
    }

    /** Per-partition byte limit of a fetch (default 1 MiB); at least one batch is returned even if larger. */
    public int maxPartitionFetchBytes() {
        return maxPartitionFetchBytes;
    }

    /** Most records one {@link Consumer#poll} returns (default 500). */
    public int maxPollRecords() {
        return maxPollRecords;
    }

    /** Free-form client name, shown in log lines and by group describe (default empty). */
    public String clientId() {
        return clientId;
    }

    /**
     * The consumer group ({@code group.id}); empty when unset. Required for
     * {@link Consumer#subscribe} and for committing or reading committed offsets.
     */
    public Optional<String> groupId() {
        return Optional.ofNullable(groupId);
    }

    /**
     * The coordinator expels a member after this long without a heartbeat (default 10000); the
     * consumer itself gives its partitions up as lost after this long without a successful
     * heartbeat. Must be within the broker's bounds (INVALID_ARGUMENT otherwise).
     */
    public int sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    /** Heartbeat period (default 1000, below {@link #sessionTimeoutMs}); the coordinator's value wins when it sends one. */
    public int heartbeatIntervalMs() {
        return heartbeatIntervalMs;
    }

    /**
     * Whether {@code poll} commits, every {@link #autoCommitIntervalMs}, the positions of the records
     * earlier polls returned, and commits before partitions are revoked and on close (default true,
     * as Kafka). Active only with a {@link #groupId}. For at-least-once processing prefer false and
     * {@link Consumer#commitSync()} after processing each poll's records.
     */
    public boolean enableAutoCommit() {
        return enableAutoCommit;
    }

    /** Period of automatic commits (default 5000). */
    public int autoCommitIntervalMs() {
        return autoCommitIntervalMs;
    }

    /** The server-side assignor this member prefers: sticky (default), range or roundrobin. */
    public String groupRemoteAssignor() {
        return groupRemoteAssignor;
    }

    /** Builder of {@link ConsumerConfig}; not thread-safe. */
    public static final class Builder extends ClientConfig.Builder<Builder> {
        private AutoOffsetReset autoOffsetReset = AutoOffsetReset.LATEST;
        private int fetchMinBytes = 1;
        private int fetchMaxWaitMs = 500;
        private int maxPartitionFetchBytes = 1 << 20;
        private int maxPollRecords = 500;
        private String clientId = "";
        private String groupId;
        private int sessionTimeoutMs = 10_000;
        private int heartbeatIntervalMs = 1_000;
        private boolean enableAutoCommit = true;
        private int autoCommitIntervalMs = 5_000;
        private String groupRemoteAssignor = "sticky";

        @Override
        protected Builder self() {
            return this;
        }

        public Builder autoOffsetReset(AutoOffsetReset reset) {
            this.autoOffsetReset = Objects.requireNonNull(reset);
            return this;
        }

        public Builder fetchMinBytes(int bytes) {
            this.fetchMinBytes = bytes;
            return this;
        }

        public Builder fetchMaxWaitMs(int ms) {
            this.fetchMaxWaitMs = ms;
            return this;
        }

        public Builder maxPartitionFetchBytes(int bytes) {
            this.maxPartitionFetchBytes = bytes;
            return this;
        }

        public Builder maxPollRecords(int records) {
            this.maxPollRecords = records;
            return this;
        }

        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        /** The consumer group; null (the default) for none. */
        public Builder groupId(String groupId) {
            this.groupId = groupId;
            return this;
        }

        public Builder sessionTimeoutMs(int ms) {
            this.sessionTimeoutMs = ms;
            return this;
        }

        public Builder heartbeatIntervalMs(int ms) {
            this.heartbeatIntervalMs = ms;
            return this;
        }

        public Builder enableAutoCommit(boolean enable) {
            this.enableAutoCommit = enable;
            return this;
        }

        public Builder autoCommitIntervalMs(int ms) {
            this.autoCommitIntervalMs = ms;
            return this;
        }

        /** sticky, range or roundrobin. */
        public Builder groupRemoteAssignor(String assignor) {
            this.groupRemoteAssignor = assignor;
            return this;
        }

        /**
         * Applies Kafka-style properties (see {@link ConsumerConfig}); values are trimmed.
         *
         * @throws IllegalArgumentException naming the key, for an unknown key or a malformed value
         */
        public Builder properties(Map<String, String> properties) {
            Set<String> unknown = new TreeSet<>(properties.keySet());
            unknown.removeAll(KEYS);
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("unknown consumer config key(s) " + unknown + "; known keys: "
                        + new TreeSet<>(KEYS));
            }
            Map<String, String> p = new LinkedHashMap<>();
            properties.forEach((k, v) -> p.put(k, Objects.requireNonNull(v, "value of " + k).trim()));
            if (p.containsKey(BOOTSTRAP_SERVERS)) {
                bootstrapServers(List.of(p.get(BOOTSTRAP_SERVERS)));
            }
            if (p.containsKey(AUTO_OFFSET_RESET)) {
                String v = p.get(AUTO_OFFSET_RESET);
                try {
                    autoOffsetReset(AutoOffsetReset.valueOf(v.toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(AUTO_OFFSET_RESET + " must be earliest, latest or none, got '"
                            + v + "'", e);
                }
            }
            if (p.containsKey(FETCH_MIN_BYTES)) {
                fetchMinBytes(parseInt(p, FETCH_MIN_BYTES));
            }
            if (p.containsKey(FETCH_MAX_WAIT_MS)) {
                fetchMaxWaitMs(parseInt(p, FETCH_MAX_WAIT_MS));
            }
            if (p.containsKey(MAX_PARTITION_FETCH_BYTES)) {
                maxPartitionFetchBytes(parseInt(p, MAX_PARTITION_FETCH_BYTES));
            }
            if (p.containsKey(MAX_POLL_RECORDS)) {
                maxPollRecords(parseInt(p, MAX_POLL_RECORDS));
            }
            if (p.containsKey(REQUEST_TIMEOUT_MS)) {
                int v = parseInt(p, REQUEST_TIMEOUT_MS);
                if (v <= 0) {
                    throw new IllegalArgumentException(REQUEST_TIMEOUT_MS + " must be > 0, got " + v);
                }
                requestTimeoutMs(v);
            }
            if (p.containsKey(RETRY_BACKOFF_MS)) {
                long v = parseLong(p, RETRY_BACKOFF_MS);
                if (v < 0) {
                    throw new IllegalArgumentException(RETRY_BACKOFF_MS + " must be >= 0, got " + v);
                }
                retryBackoffMs(v);
            }
            if (p.containsKey(CLIENT_ID)) {
                clientId(p.get(CLIENT_ID));
            }
            if (p.containsKey(GROUP_ID)) {
                groupId(p.get(GROUP_ID).isEmpty() ? null : p.get(GROUP_ID));
            }
            if (p.containsKey(SESSION_TIMEOUT_MS)) {
                sessionTimeoutMs(parseInt(p, SESSION_TIMEOUT_MS));
            }
            if (p.containsKey(HEARTBEAT_INTERVAL_MS)) {
                heartbeatIntervalMs(parseInt(p, HEARTBEAT_INTERVAL_MS));
            }
            if (p.containsKey(ENABLE_AUTO_COMMIT)) {
                String v = p.get(ENABLE_AUTO_COMMIT).toLowerCase(Locale.ROOT);
                if (!v.equals("true") && !v.equals("false")) {
                    throw new IllegalArgumentException(ENABLE_AUTO_COMMIT + " must be true or false, got '"
                            + p.get(ENABLE_AUTO_COMMIT) + "'");
                }
                enableAutoCommit(Boolean.parseBoolean(v));
            }
            if (p.containsKey(AUTO_COMMIT_INTERVAL_MS)) {
                autoCommitIntervalMs(parseInt(p, AUTO_COMMIT_INTERVAL_MS));
            }
            if (p.containsKey(GROUP_REMOTE_ASSIGNOR)) {
                groupRemoteAssignor(p.get(GROUP_REMOTE_ASSIGNOR).toLowerCase(Locale.ROOT));
            }
            if (p.containsKey(METADATA_MAX_AGE_MS)) {
                metadataMaxAgeMs(parseLong(p, METADATA_MAX_AGE_MS));
            }
            return this;
        }

        private static int parseInt(Map<String, String> p, String key) {
            long v = parseLong(p, key);
            if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
                throw new IllegalArgumentException(key + " is too large: " + v);
            }
            return (int) v;
        }

        private static long parseLong(Map<String, String> p, String key) {
            try {
                return Long.parseLong(p.get(key));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " must be an integer, got '" + p.get(key) + "'", e);
            }
        }

        public ConsumerConfig build() {
            return new ConsumerConfig(this);
        }
    }
}
