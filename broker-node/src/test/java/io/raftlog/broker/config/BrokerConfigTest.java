package io.raftlog.broker.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.config.BrokerConfig.Voter;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BrokerConfigTest {

  private static Map<String, String> required() {
    Map<String, String> raw = new LinkedHashMap<>();
    raw.put(BrokerConfig.BROKER_ID, "1");
    raw.put(BrokerConfig.DATA_DIR, "/tmp/raftlog-1");
    raw.put(BrokerConfig.METADATA_VOTERS, "1@127.0.0.1:9093");
    return raw;
  }

  private static Map<String, String> with(String key, String value) {
    Map<String, String> raw = required();
    raw.put(key, value);
    return raw;
  }

  private static IllegalArgumentException rejects(Map<String, String> raw) {
    return assertThrows(IllegalArgumentException.class, () -> BrokerConfig.parse(raw));
  }

  private static void assertMentions(IllegalArgumentException e, String... parts) {
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention '" + p + "'");
    }
  }

  @Test
  void defaultsApplyWhenOnlyRequiredKeysAreGiven() {
    BrokerConfig c = BrokerConfig.parse(required());
    assertEquals(1, c.brokerId);
    assertEquals("127.0.0.1", c.host);
    assertEquals(9092, c.port);
    assertEquals(9093, c.raftPort);
    assertEquals(Path.of("/tmp/raftlog-1"), c.dataDir);
    assertEquals(List.of(new Voter(1, "127.0.0.1", 9093)), c.metadataVoters);
    assertEquals(5_000, c.replicaLagTimeMaxMs);
    assertEquals(1_000, c.heartbeatIntervalMs);
    assertEquals(6_000, c.sessionTimeoutMs);
    assertEquals(300, c.electionTimeoutMinMs);
    assertEquals(450, c.electionTimeoutMaxMs);
    assertEquals(10_000, c.snapshotThresholdEntries);
    assertEquals(1_048_576, c.maxBatchBytes);
    assertEquals(67_108_864, c.segmentBytes);
    assertEquals(4_096, c.indexIntervalBytes);
    assertEquals(30_000, c.produceTimeoutMs);
    assertEquals(52_428_800, c.fetchMaxBytes);
    assertEquals(67_108_864, c.socketRequestMaxBytes);
    assertEquals(1_000, c.maxPartitionsPerTopic);
    assertTrue(c.isMetadataVoter());
  }

  /**
   * Ratis keeps every group's open Raft log segment in the heap, so the default segment is the
   * smallest that holds one entry, and grows with max.batch.bytes only as far as it must.
   */
  @Test
  void theDefaultRaftSegmentIsTheSmallestThatHoldsOneEntry() {
    BrokerConfig defaults = BrokerConfig.parse(required());
    assertEquals(BrokerConfig.raftEntryLimitBytes(defaults.maxBatchBytes), defaults.raftSegmentBytes);
    assertEquals(2 * 1_048_576 + 65_536, defaults.raftSegmentBytes);
    BrokerConfig bigBatches = BrokerConfig.parse(with(BrokerConfig.MAX_BATCH_BYTES, "4194304"));
    assertEquals(BrokerConfig.raftEntryLimitBytes(4_194_304), bigBatches.raftSegmentBytes);
    BrokerConfig bigSegments = BrokerConfig.parse(with(BrokerConfig.RAFT_SEGMENT_BYTES, "8388608"));
    assertEquals(8_388_608, bigSegments.raftSegmentBytes);
  }

  @Test
  void requestLimitMustLeaveRoomForTheLargestBatch() {
    Map<String, String> raw = with(BrokerConfig.MAX_BATCH_BYTES, "1048576");
    raw.put(BrokerConfig.SOCKET_REQUEST_MAX_BYTES, "1048576");
    assertMentions(rejects(raw), BrokerConfig.SOCKET_REQUEST_MAX_BYTES, "between " + (1048576 + 65536));
    raw.put(BrokerConfig.SOCKET_REQUEST_MAX_BYTES, Integer.toString(1048576 + 65536));
    assertEquals(1048576 + 65536, BrokerConfig.parse(raw).socketRequestMaxBytes);
  }

  @Test
  void fetchAndPartitionLimitsHaveBounds() {
    assertMentions(rejects(with(BrokerConfig.FETCH_MAX_BYTES, "1023")), BrokerConfig.FETCH_MAX_BYTES, "1024");
    assertMentions(rejects(with(BrokerConfig.FETCH_MAX_BYTES, "2147483647")), BrokerConfig.FETCH_MAX_BYTES,
        "52428800");
    assertMentions(rejects(with(BrokerConfig.MAX_PARTITIONS_PER_TOPIC, "0")), BrokerConfig.MAX_PARTITIONS_PER_TOPIC);
    assertMentions(rejects(with(BrokerConfig.MAX_PARTITIONS_PER_TOPIC, "10001")), "10000");
  }

  @Test
  void compactionDefaultsAndTheCopyThrottleAreChecked() {
    BrokerConfig c = BrokerConfig.parse(required());
    assertEquals("delete", c.cleanupPolicy);
    assertEquals(-1, c.replicaCopyMaxBytesPerSecond);
    assertEquals("compact,delete", BrokerConfig.parse(with(BrokerConfig.CLEANUP_POLICY, "delete,compact")).cleanupPolicy);
    assertEquals("compact,delete", BrokerConfig.parse(with(BrokerConfig.CLEANUP_POLICY, "delete,compact"))
        .topicDefaults().cleanupPolicy());
    assertMentions(rejects(with(BrokerConfig.CLEANUP_POLICY, "keep")), BrokerConfig.CLEANUP_POLICY, "compact,delete");
    assertMentions(rejects(with(BrokerConfig.MIN_CLEANABLE_DIRTY_RATIO, "1.5")), BrokerConfig.MIN_CLEANABLE_DIRTY_RATIO,
        "from 0 to 1");
    assertMentions(rejects(with(BrokerConfig.REPLICA_COPY_MAX_BYTES_PER_SECOND, "0")),
        BrokerConfig.REPLICA_COPY_MAX_BYTES_PER_SECOND, "at least 1024");
    assertEquals(10_485_760, BrokerConfig.parse(with(BrokerConfig.REPLICA_COPY_MAX_BYTES_PER_SECOND, "10485760"))
        .replicaCopyMaxBytesPerSecond);
  }

  @Test
  void everyKeyIsDocumentedAndEffectiveValuesCoverAllKeys() {
    BrokerConfig c = BrokerConfig.parse(required());
    assertEquals(BrokerConfig.KEYS.size(), new HashSet<>(BrokerConfig.KEYS.stream().map(BrokerConfig.Key::name).toList()).size(),
        "key names are unique");
    for (BrokerConfig.Key k : BrokerConfig.KEYS) {
      assertFalse(k.doc().isBlank(), k.name());
      assertTrue(c.effectiveValues().containsKey(k.name()), k.name());
    }
    assertEquals("9092", c.effectiveValues().get(BrokerConfig.PORT));
    assertThrows(UnsupportedOperationException.class, () -> c.effectiveValues().put("x", "y"));
  }

  @Test
  void everyDefaultParses() {
    // a default that fails its own validator would make the key effectively required
    BrokerConfig c = BrokerConfig.parse(required());
    for (BrokerConfig.Key k : BrokerConfig.KEYS) {
      if (k.defaultValue() != null) {
        assertEquals(k.defaultValue(), c.effectiveValues().get(k.name()));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {BrokerConfig.BROKER_ID, BrokerConfig.DATA_DIR, BrokerConfig.METADATA_VOTERS})
  void requiredKeyMissingOrBlankIsRejectedByName(String key) {
    Map<String, String> raw = required();
    raw.remove(key);
    assertMentions(rejects(raw), key, "required");
    assertMentions(rejects(with(key, "   ")), key, "required");
  }

  @Test
  void unknownKeyIsRejectedEvenWhenItLooksLikeATypo() {
    IllegalArgumentException e = rejects(with("replica.lag.time.max", "100"));
    assertMentions(e, "unknown configuration key 'replica.lag.time.max'", BrokerConfig.REPLICA_LAG_TIME_MAX_MS);
    assertMentions(rejects(with("PORT", "1")), "'PORT'");
  }

  @Test
  void blankOptionalValueFallsBackToTheDefault() {
    assertEquals(9092, BrokerConfig.parse(with(BrokerConfig.PORT, "")).port);
  }

  @Test
  void valuesAreTrimmed() {
    BrokerConfig c = BrokerConfig.parse(with(BrokerConfig.PORT, "  1234 "));
    assertEquals(1234, c.port);
    assertEquals("1234", c.effectiveValues().get(BrokerConfig.PORT));
  }

  @ParameterizedTest
  @CsvSource({
      "broker.id, abc", "broker.id, 1.5", "port, 9x", "port, ''0x10''", "replica.lag.time.max.ms, 5s",
      "segment.bytes, 64MB", "produce.timeout.ms, 99999999999999999999"})
  void nonNumericValueIsRejectedNamingKeyAndValue(String key, String value) {
    assertMentions(rejects(with(key, value)), "'" + key + "'", "must be a number", value);
  }

  @ParameterizedTest
  @CsvSource({
      "broker.id, -1", "broker.id, 2147483648", "port, -1", "port, 65536", "raft.port, 70000",
      "replica.lag.time.max.ms, 99", "broker.heartbeat.interval.ms, 49", "raft.election.timeout.min.ms, 0",
      "raft.snapshot.threshold.entries, 99", "max.batch.bytes, 1023", "max.batch.bytes, 8388609",
      "segment.bytes, 1023", "segment.bytes, 2147483648", "index.interval.bytes, 0", "produce.timeout.ms, 0",
      "retention.ms, -2", "retention.bytes, -2", "retention.check.interval.ms, 9",
      "raft.snapshot.threshold.bytes, -1"})
  void outOfRangeValueIsRejectedWithItsBounds(String key, String value) {
    assertMentions(rejects(with(key, value)), "'" + key + "'", "must be between", value);
  }

  @ParameterizedTest
  @CsvSource({
      "broker.id, 0", "broker.id, 2147483647", "port, 0", "port, 65535", "max.batch.bytes, 1024",
      "max.batch.bytes, 8388608", "segment.bytes, 2147483647", "index.interval.bytes, 1",
      "replica.lag.time.max.ms, 100", "retention.ms, -1", "retention.bytes, -1", "retention.bytes, 0",
      "retention.check.interval.ms, 10", "raft.snapshot.threshold.bytes, 0"})
  void boundaryValuesAreAccepted(String key, String value) {
    assertEquals(value, BrokerConfig.parse(with(key, value)).effectiveValues().get(key));
  }

  @Test
  void sessionTimeoutMustBeAtLeastTwoHeartbeats() {
    Map<String, String> raw = with(BrokerConfig.HEARTBEAT_INTERVAL_MS, "500");
    raw.put(BrokerConfig.SESSION_TIMEOUT_MS, "999");
    assertMentions(rejects(raw), BrokerConfig.SESSION_TIMEOUT_MS, "1000");
    raw.put(BrokerConfig.SESSION_TIMEOUT_MS, "1000");
    assertEquals(1_000, BrokerConfig.parse(raw).sessionTimeoutMs);
  }

  @Test
  void defaultSessionTimeoutIsRejectedWhenTheHeartbeatIsRaisedPastHalfOfIt() {
    assertMentions(rejects(with(BrokerConfig.HEARTBEAT_INTERVAL_MS, "3001")), BrokerConfig.SESSION_TIMEOUT_MS);
  }

  @Test
  void electionTimeoutMaxMustExceedMin() {
    Map<String, String> raw = with(BrokerConfig.ELECTION_TIMEOUT_MIN_MS, "400");
    raw.put(BrokerConfig.ELECTION_TIMEOUT_MAX_MS, "400");
    assertMentions(rejects(raw), BrokerConfig.ELECTION_TIMEOUT_MAX_MS, "401");
    raw.put(BrokerConfig.ELECTION_TIMEOUT_MAX_MS, "401");
    assertEquals(401, BrokerConfig.parse(raw).electionTimeoutMaxMs);
    assertMentions(rejects(with(BrokerConfig.ELECTION_TIMEOUT_MIN_MS, "600")), BrokerConfig.ELECTION_TIMEOUT_MAX_MS);
  }

  @Test
  void votersAreParsedInOrderWithSpacesAroundEntries() {
    BrokerConfig c = BrokerConfig.parse(with(BrokerConfig.METADATA_VOTERS,
        "1@host-a:9093, 2@10.0.0.2:19093 ,3@h.example.com:1"));
    assertEquals(List.of(new Voter(1, "host-a", 9093), new Voter(2, "10.0.0.2", 19093),
        new Voter(3, "h.example.com", 1)), c.metadataVoters);
    assertTrue(c.isMetadataVoter());
    assertThrows(UnsupportedOperationException.class, () -> c.metadataVoters.add(new Voter(4, "x", 1)));
  }

  @Test
  void brokerThatIsNotAVoter() {
    BrokerConfig c = BrokerConfig.parse(with(BrokerConfig.METADATA_VOTERS, "2@a:1,3@b:2"));
    assertFalse(c.isMetadataVoter());
  }

  @Test
  void ipv6VoterHostKeepsItsColons() {
    assertEquals(List.of(new Voter(1, "[::1]", 9093)), BrokerConfig.parseVoters("1@[::1]:9093"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"host:9093", "@host:9093", "1@host", "1@:9093", "1@host:", "1host:9093", "1@host:9093,,2@h:1",
      ",1@host:9093"})
  void malformedVoterEntryIsRejectedWithTheExpectedForm(String spec) {
    assertMentions(rejects(with(BrokerConfig.METADATA_VOTERS, spec)), "id@host:raftPort");
  }

  @ParameterizedTest
  @ValueSource(strings = {"x@host:9093", "1@host:port", "1@host:9093x", "1.5@host:9093", "1@host:99999999999"})
  void nonNumericVoterIdOrPortIsRejected(String spec) {
    assertMentions(rejects(with(BrokerConfig.METADATA_VOTERS, spec)), "non-numeric id or port", spec);
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1@host:9093", "1@host:0", "1@host:65536", "1@host:-5"})
  void voterIdOrPortOutOfRangeIsRejected(String spec) {
    assertMentions(rejects(with(BrokerConfig.METADATA_VOTERS, spec)), "metadata.voters", spec);
  }

  @Test
  void votersWithoutAnyEntryAreRejected() {
    assertMentions(rejects(with(BrokerConfig.METADATA_VOTERS, " , ")), "metadata.voters", "at least one voter");
  }

  @Test
  void duplicateVoterIdIsRejected() {
    assertMentions(rejects(with(BrokerConfig.METADATA_VOTERS, "1@a:9093,2@b:9093,1@c:9093")),
        "metadata.voters", "more than once", "1");
  }

  @Test
  void fromPropertiesReadsTheSameKeys() {
    Properties props = new Properties();
    required().forEach(props::setProperty);
    props.setProperty(BrokerConfig.PORT, "7000");
    BrokerConfig c = BrokerConfig.fromProperties(props);
    assertEquals(7000, c.port);
    assertEquals(1, c.brokerId);
  }

  @Test
  void fromPropertiesRejectsUnknownKeys() {
    Properties props = new Properties();
    required().forEach(props::setProperty);
    props.setProperty("segment.byte", "1");
    assertThrows(IllegalArgumentException.class, () -> BrokerConfig.fromProperties(props));
  }

  @Test
  void withOverridesKeepsOtherValuesAndRevalidates() {
    BrokerConfig c = BrokerConfig.parse(with(BrokerConfig.PORT, "7000"));
    BrokerConfig d = c.with(Map.of(BrokerConfig.RAFT_PORT, "7001"));
    assertEquals(7000, d.port);
    assertEquals(7001, d.raftPort);
    assertEquals(9093, c.raftPort, "the original is unchanged");
    assertThrows(IllegalArgumentException.class, () -> c.with(Map.of(BrokerConfig.PORT, "-2")));
    assertThrows(IllegalArgumentException.class, () -> c.with(Map.of("nope", "1")));
  }
}
