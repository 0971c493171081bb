package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.AlterTopicConfigRequest;
import io.raftlog.api.v1.AlterTopicConfigResponse;
import io.raftlog.api.v1.CreateTopicRequest;
import io.raftlog.api.v1.DeleteTopicRequest;
import io.raftlog.api.v1.DescribeClusterRequest;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.DescribeTopicResponse;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.GetMetadataRequest;
import io.raftlog.api.v1.GetMetadataResponse;
import io.raftlog.api.v1.Header;
import io.raftlog.api.v1.InitProducerIdRequest;
import io.raftlog.api.v1.ListOffsetsPartition;
import io.raftlog.api.v1.ListOffsetsRequest;
import io.raftlog.api.v1.ListOffsetsResult;
import io.raftlog.api.v1.ListTopicsRequest;
import io.raftlog.api.v1.MetadataServiceGrpc;
import io.raftlog.api.v1.OffsetSpec;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.api.v1.RecordFormat;
import io.raftlog.api.v1.TopicMetadata;
import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.rpc.GrpcErrors;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input through the public gRPC API of an in-process 3-broker cluster, over the network:
 * malformed protobuf bytes, invalid produce/fetch/admin requests, corrupt record batches. Every
 * bad input must get a clear error (a specific code and a message that says what to fix), and
 * afterwards every broker still serves and the stored data is unchanged ({@link #assertUnharmed}).
 *
 * <p>The cluster runs with small limits so that oversized inputs stay cheap to build.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BadInputTest {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BadInputTest.class);

  static final int MAX_BATCH_BYTES = 16 * 1024;
  static final int FETCH_MAX_BYTES = 64 * 1024;
  static final int REQUEST_MAX_BYTES = 256 * 1024;
  static final int MAX_PARTITIONS = 50;

  static final String REF = "ref";
  static final int REF_PARTITIONS = 3;
  static final String CANARY = "canary";

  @TempDir
  static Path dir;
  static MiniCluster cluster;

  /** Per ref partition: its log end offset and its stored batches, read right after setup. */
  static final Map<Integer, Long> refEnd = new HashMap<>();
  static final Map<Integer, ByteString> refBatches = new HashMap<>();
  /** Topics that must exist; nothing a bad request does may add or remove one. */
  static final Set<String> topics = new TreeSet<>();
  static int canaryCount;

  @BeforeAll
  static void start() {
    cluster = MiniCluster.start(3, dir, Map.of(
        BrokerConfig.MAX_BATCH_BYTES, Integer.toString(MAX_BATCH_BYTES),
        BrokerConfig.FETCH_MAX_BYTES, Integer.toString(FETCH_MAX_BYTES),
        BrokerConfig.SOCKET_REQUEST_MAX_BYTES, Integer.toString(REQUEST_MAX_BYTES),
        BrokerConfig.MAX_PARTITIONS_PER_TOPIC, Integer.toString(MAX_PARTITIONS)));
    createTopic(REF, REF_PARTITIONS);
    createTopic(CANARY, 1);
    long producerId = ProduceServiceGrpc.newBlockingStub(cluster.channel(1)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .initProducerId(InitProducerIdRequest.getDefaultInstance()).getProducerId();
    for (int p = 0; p < REF_PARTITIONS; p++) {
      List<Record> records = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        records.add(Record.newBuilder().setKey(utf8("k" + p + "-" + i)).setValue(utf8("value " + p + "-" + i))
            .addHeaders(Header.newBuilder().setKey("h").setValue(utf8("hv" + i))).setTimestampMs(1_700_000_000_000L + i)
            .build());
      }
      records.add(Record.newBuilder().setTimestampMs(1_700_000_000_100L).build()); // null key and value
      assertOk(produce(leader(REF, p), REF, p, data -> data.addAllRecords(records)));
      assertOk(produce(leader(REF, p), REF, p, data -> data.setRecordBatch(
          batch(Compression.gzip().build(), RecordBatch.NO_PRODUCER_ID, (short) -1, -1, "gz-a", "gz-b", "gz-c"))));
      assertOk(produce(leader(REF, p), REF, p, data -> data.addAllRecords(records.subList(0, 2))
          .setProducerId(producerId).setProducerEpoch(0).setBaseSequence(0)));
    }
    for (int p = 0; p < REF_PARTITIONS; p++) {
      int partition = p;
      FetchPartitionResult leaderView = fetch(leader(REF, p), REF, p, 0, FETCH_MAX_BYTES, RecordFormat.RECORD_BATCHES);
      assertEquals(10, leaderView.getHighWatermark());
      refEnd.put(p, leaderView.getHighWatermark());
      refBatches.put(p, leaderView.getRecordBatches());
      for (int b : cluster.runningIds()) {
        Wait.until("ref-" + p + " replicated to broker " + b, Duration.ofSeconds(20),
            () -> fetch(b, REF, partition, 0, FETCH_MAX_BYTES, RecordFormat.RECORD_BATCHES).getHighWatermark()
                == refEnd.get(partition));
      }
    }
    assertUnharmed("setup");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Malformed protobuf on the wire
  // ---------------------------------------------------------------------------------------------

  /** One unary method with a well-formed request (which must parse; its answer does not matter). */
  record Method(MethodDescriptor<?, ?> descriptor, MessageLite sample) {
    String name() {
      return descriptor.getFullMethodName();
    }
  }

  static List<Method> unaryMethods() {
    return List.of(
        new Method(ProduceServiceGrpc.getProduceMethod(), ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL)
            .addPartitions(PartitionProduceData.newBuilder().setTopic(CANARY).setPartition(0)
                .addRecords(Record.newBuilder().setValue(utf8("from a raw call")))).build()),
        new Method(ProduceServiceGrpc.getInitProducerIdMethod(), InitProducerIdRequest.getDefaultInstance()),
        new Method(FetchServiceGrpc.getFetchMethod(), FetchRequest.newBuilder()
            .addPartitions(FetchPartition.newBuilder().setTopic(REF).setPartition(1).setOffset(0)).build()),
        new Method(FetchServiceGrpc.getListOffsetsMethod(), ListOffsetsRequest.newBuilder()
            .addPartitions(ListOffsetsPartition.newBuilder().setTopic(REF).setPartition(2).setSpec(OffsetSpec.LATEST))
            .build()),
        // Samples that do not change anything: the topic exists, the one to delete does not.
        new Method(AdminServiceGrpc.getCreateTopicMethod(), CreateTopicRequest.newBuilder().setName(REF)
            .setPartitions(3).setReplicationFactor(3).build()),
        new Method(AdminServiceGrpc.getDeleteTopicMethod(), DeleteTopicRequest.newBuilder().setName("no-such-topic").build()),
        new Method(AdminServiceGrpc.getListTopicsMethod(), ListTopicsRequest.getDefaultInstance()),
        new Method(AdminServiceGrpc.getDescribeTopicMethod(), DescribeTopicRequest.newBuilder().setName(REF).build()),
        new Method(AdminServiceGrpc.getDescribeClusterMethod(), DescribeClusterRequest.getDefaultInstance()),
        new Method(AdminServiceGrpc.getAlterTopicConfigMethod(), AlterTopicConfigRequest.newBuilder()
            .setName("no-such-topic").putSet("retention.ms", "1000").build()),
        new Method(AdminServiceGrpc.getCreatePartitionsMethod(), io.raftlog.api.v1.CreatePartitionsRequest.newBuilder()
            .setName(REF).setTotalCount(REF_PARTITIONS).build()),
        new Method(MetadataServiceGrpc.getGetMetadataMethod(), GetMetadataRequest.newBuilder().addTopics(REF).build()),
        new Method(io.raftlog.api.v1.GroupServiceGrpc.getFindCoordinatorMethod(),
            io.raftlog.api.v1.FindCoordinatorRequest.newBuilder().setGroupId("bad-input").build()),
        new Method(io.raftlog.api.v1.GroupServiceGrpc.getListGroupsMethod(),
            io.raftlog.api.v1.ListGroupsRequest.getDefaultInstance()),
        new Method(io.raftlog.api.v1.GroupServiceGrpc.getDescribeGroupMethod(),
            io.raftlog.api.v1.DescribeGroupRequest.newBuilder().setGroupId("no-such-group").build()),
        new Method(io.raftlog.api.v1.GroupServiceGrpc.getFetchOffsetsMethod(),
            io.raftlog.api.v1.FetchOffsetsRequest.newBuilder().setGroupId("no-such-group").build()));
  }

  /** Byte sequences no protobuf message parses from, whatever its fields. */
  static Map<String, byte[]> malformedBodies() {
    Map<String, byte[]> bodies = new LinkedHashMap<>();
    bodies.put("garbage", filled(16, 0xff));
    bodies.put("tag zero", new byte[] {0x00, 0x01});
    bodies.put("wire type 6", new byte[] {0x0e, 0x01});
    bodies.put("wire type 7", new byte[] {0x0f, 0x01});
    bodies.put("malformed varint", concat(new byte[] {0x08}, filled(11, 0xff)));
    bodies.put("length beyond the end", new byte[] {0x0a, 0x10, 'a', 'b'});
    bodies.put("length 2^31-1", new byte[] {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 'x'});
    bodies.put("negative length", concat(new byte[] {0x0a}, filled(9, 0xff), new byte[] {0x01}));
    bodies.put("unterminated group", tag(900, 3));
    bodies.put("mismatched end group", concat(tag(900, 3), tag(901, 4)));
    byte[] deep = new byte[0];
    for (int i = 0; i < 5000; i++) {
      deep = concat(tag(900, 3), deep, tag(900, 4));
    }
    // Unknown groups nested deeper than protobuf's recursion limit (CVE-2024-7254 was a stack overflow).
    bodies.put("groups nested 5000 deep", deep);
    return bodies;
  }

  @Test
  void malformedProtobufGetsInvalidArgumentOnEveryMethod() {
    for (Method m : unaryMethods()) {
      Map<String, byte[]> bodies = malformedBodies();
      byte[] sample = m.sample().toByteArray();
      if (sample.length > 3) {
        bodies.put("truncated", Arrays.copyOf(sample, sample.length - 3));
        bodies.put("cut inside a varint", concat(sample, tag(1000, 0), new byte[] {(byte) 0x80}));
      }
      for (Map.Entry<String, byte[]> body : bodies.entrySet()) {
        String what = m.name() + " with " + body.getKey();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> callRaw(1 + body.getKey().length() % 3, m.descriptor(), body.getValue()), what);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), what + ": " + e.getStatus());
        assertTrue(e.getStatus().getDescription().contains("malformed")
            && e.getStatus().getDescription().contains(m.sample().getClass().getSimpleName()),
            what + ": the message names the request type: " + e.getStatus().getDescription());
        Error error = Status.trailersFromThrowable(e).get(GrpcErrors.ERROR_KEY);
        assertNotNull(error, what + ": error trailer");
        assertEquals(ErrorCode.INVALID_ARGUMENT, error.getCode(), what);
      }
    }
    assertUnharmed("malformed protobuf");
  }

  @Test
  void lastLogEntriesRefusesAGroupIdThatIsNotAUuid() {
    var stub = io.raftlog.internal.v1.BrokerInternalServiceGrpc.newBlockingStub(cluster.channel(1))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.lastLogEntries(
        io.raftlog.internal.v1.LastLogEntriesRequest.newBuilder().addGroupIds("not-a-uuid").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription().contains("not-a-uuid"), e.getStatus().getDescription());
    // A group this broker does not host is left out of the answer, not an error.
    assertEquals(0, stub.lastLogEntries(io.raftlog.internal.v1.LastLogEntriesRequest.newBuilder()
        .addGroupIds(java.util.UUID.randomUUID().toString()).build()).getEntriesCount());
    assertUnharmed("LastLogEntries with a bad group id");
  }

  @Test
  void invalidUtf8InStringFieldsIsRejected() {
    byte[] badName = {0x0a, 0x02, (byte) 0xc3, 0x28};
    Map<MethodDescriptor<?, ?>, byte[]> bodies = new LinkedHashMap<>();
    bodies.put(AdminServiceGrpc.getCreateTopicMethod(), badName);
    bodies.put(AdminServiceGrpc.getDeleteTopicMethod(), badName);
    bodies.put(AdminServiceGrpc.getDescribeTopicMethod(), badName);
    bodies.put(AdminServiceGrpc.getAlterTopicConfigMethod(), badName);
    bodies.put(AdminServiceGrpc.getCreatePartitionsMethod(), badName);
    bodies.put(MetadataServiceGrpc.getGetMetadataMethod(), badName);
    bodies.put(ProduceServiceGrpc.getProduceMethod(), concat(new byte[] {0x1a, 0x04}, badName));
    bodies.put(FetchServiceGrpc.getFetchMethod(), concat(new byte[] {0x0a, 0x04}, badName));
    bodies.forEach((method, body) -> {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> callRaw(2, method, body));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), method.getFullMethodName() + ": " + e.getStatus());
      assertTrue(e.getStatus().getDescription().contains("UTF-8"), e.getStatus().getDescription());
    });
    assertUnharmed("invalid UTF-8");
  }

  @Test
  void unknownFieldsAndWrongWireTypesAreIgnoredAsProtobufDoes() throws Exception {
    byte[] unknown = unknownFields();
    for (Method m : unaryMethods()) {
      byte[] body = concat(m.sample().toByteArray(), unknown);
      try {
        byte[] answer = callRaw(3, m.descriptor(), body);
        if (m.sample() instanceof ProduceRequest) {
          assertOk(ProduceResponse.parseFrom(answer).getResults(0));
        }
      } catch (StatusRuntimeException e) {
        // The request parsed: any answer but "malformed" is the method's own (e.g. topic exists).
        assertFalse(e.getStatus().getDescription() != null && e.getStatus().getDescription().contains("malformed"),
            m.name() + " rejected unknown fields: " + e.getStatus());
      }
    }
    // The produce above stored its record: unknown fields are ignored, the rest is applied.
    Wait.until("the raw produce's record", Duration.ofSeconds(10), () -> {
      List<Record> records = new ArrayList<>();
      long offset = 0;
      FetchPartitionResult r;
      do {
        r = fetch(leader(CANARY, 0), CANARY, 0, offset, FETCH_MAX_BYTES, RecordFormat.RECORDS);
        records.addAll(r.getRecordsList());
        offset = records.isEmpty() ? 0 : records.get(records.size() - 1).getOffset() + 1;
      } while (r.getRecordsCount() > 0 && offset < r.getHighWatermark());
      return records.stream().anyMatch(rec -> rec.getValue().equals(utf8("from a raw call")));
    });

    // A known field with another wire type is an unknown field to protobuf: skipped, the field
    // keeps its default. Here `partitions` (a message) arrives as a varint: nothing is produced.
    byte[] partitionsAsVarint = concat(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).build().toByteArray(),
        tag(3, 0), new byte[] {0x05});
    ProduceResponse empty = ProduceResponse.parseFrom(callRaw(1, ProduceServiceGrpc.getProduceMethod(), partitionsAsVarint));
    assertEquals(0, empty.getResultsCount());
    // `offset` (a varint) arrives as fixed64: it stays 0.
    byte[] offsetAsFixed64 = concat(new byte[] {0x0a},
        lengthDelimited(concat(FetchPartition.newBuilder().setTopic(REF).setPartition(0).build().toByteArray(),
            tag(3, 1), filled(8, 0x7f))));
    FetchResponse fetched = FetchResponse.parseFrom(callRaw(2, FetchServiceGrpc.getFetchMethod(), offsetAsFixed64));
    assertEquals(ErrorCode.NONE, fetched.getResults(0).getError().getCode());
    assertEquals(0, fetched.getResults(0).getRecords(0).getOffset());
    assertUnharmed("unknown fields");
  }

  @Test
  void requestsOverTheSizeLimitAreRefused() {
    ProduceRequest huge = ProduceRequest.newBuilder().addPartitions(PartitionProduceData.newBuilder().setTopic(REF)
        .setPartition(0).addRecords(Record.newBuilder().setValue(ByteString.copyFrom(new byte[REQUEST_MAX_BYTES])))).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> ProduceServiceGrpc.newBlockingStub(cluster.channel(1)).withDeadlineAfter(10, TimeUnit.SECONDS).produce(huge));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription().contains(Integer.toString(REQUEST_MAX_BYTES)), e.getStatus().toString());
    assertUnharmed("oversized request");
  }

  @Test
  void unknownMethodsAreUnimplemented() {
    MethodDescriptor<byte[], byte[]> nope = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("raftlog.api.v1.ProduceService/Nope")
        .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> callRaw(1, nope, new byte[0]));
    assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    assertUnharmed("unknown method");
  }

  @Test
  void malformedMessageOnTheProduceStreamEndsOnlyThatStream() throws Exception {
    MethodDescriptor<byte[], byte[]> method = raw(ProduceServiceGrpc.getProduceStreamMethod());
    ClientCall<byte[], byte[]> call = cluster.channel(1).newCall(method,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
    CompletableFuture<Status> closed = new CompletableFuture<>();
    StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(call, new StreamObserver<>() {
      @Override
      public void onNext(byte[] value) {}

      @Override
      public void onError(Throwable t) {
        closed.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        closed.complete(Status.OK);
      }
    });
    requests.onNext(ProduceRequest.newBuilder().setCorrelationId(1).setAcks(Acks.ACKS_ALL)
        .addPartitions(PartitionProduceData.newBuilder().setTopic(CANARY).setPartition(0)
            .addRecords(Record.newBuilder().setValue(utf8("stream before garbage")))).build().toByteArray());
    requests.onNext(filled(16, 0xff));
    Status status = closed.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), status.toString());
    assertTrue(status.getDescription().contains("malformed"), status.toString());
    assertUnharmed("malformed stream message");
  }

  // ---------------------------------------------------------------------------------------------
  // Produce
  // ---------------------------------------------------------------------------------------------

  @Test
  void oversizedAndEmptyBatchesAreRejected() {
    byte[] big = new byte[MAX_BATCH_BYTES + 1];
    expectProduceError(ErrorCode.RECORD_TOO_LARGE, "max.batch.bytes",
        d -> d.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(big))));
    expectProduceError(ErrorCode.RECORD_TOO_LARGE, "max.batch.bytes", d -> {
      for (int i = 0; i < 20; i++) {
        d.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(new byte[1024])));
      }
    });
    String[] values = new String[20];
    Arrays.fill(values, "x".repeat(1024));
    expectProduceError(ErrorCode.RECORD_TOO_LARGE, "max.batch.bytes",
        d -> d.setRecordBatch(batch(Compression.NONE, RecordBatch.NO_PRODUCER_ID, (short) -1, -1, values)));
    expectProduceError(ErrorCode.INVALID_ARGUMENT, "no records", d -> {});
    expectProduceError(ErrorCode.INVALID_ARGUMENT, "no records", d -> d.setRecordBatch(ByteString.EMPTY));
    assertUnharmed("oversized and empty batches");
  }

  @Test
  void corruptRecordBatchesAreRejected() {
    byte[] good = batch(Compression.NONE, RecordBatch.NO_PRODUCER_ID, (short) -1, -1, "a", "b", "c").toByteArray();
    List<Map.Entry<String, byte[]>> corrupt = List.of(
        Map.entry("CRC", flip(good, good.length - 1)),
        Map.entry("magic", withCrc(set(good, 16, (byte) 1))),
        Map.entry("magic", set(good, 16, (byte) 7)),
        Map.entry("exactly one", concat(good, good)),
        Map.entry("exactly one", concat(good, new byte[] {1, 2, 3})),
        Map.entry("no complete record batch", Arrays.copyOf(good, good.length - 1)),
        Map.entry("no complete record batch", putInt(good, 8, good.length)),
        Map.entry("CRC", putInt(good, 8, good.length - 13)),
        Map.entry("size", putInt(good, 8, 0)),
        Map.entry("size", putInt(good, 8, -5)),
        Map.entry("no complete record batch", Arrays.copyOf(good, 30)),
        Map.entry("Incorrect declared batch size", withCrc(putInt(good, 57, 5))),
        Map.entry("announces", withCrc(putInt(good, 23, 7))),
        Map.entry("record", withCrc(set(good, 61, (byte) 0x7f))),
        Map.entry("transactional", withCrc(set(good, 22, (byte) (good[22] | 0x10)))),
        Map.entry("magic", "this is not a record batch".getBytes(StandardCharsets.UTF_8)));
    for (Map.Entry<String, byte[]> c : corrupt) {
      expectProduceError(ErrorCode.CORRUPT_RECORD, c.getKey(), d -> d.setRecordBatch(ByteString.copyFrom(c.getValue())));
    }
    expectProduceError(ErrorCode.INVALID_ARGUMENT, "not both", d -> d.setRecordBatch(ByteString.copyFrom(good))
        .addRecords(Record.newBuilder().setValue(utf8("x"))));
    assertUnharmed("corrupt record batches");
  }

  /**
   * Records are checked against max.batch.bytes uncompressed too: a few bytes of gzip may declare a
   * 2 GiB record, which the decompressor would allocate before reading it.
   */
  @Test
  void compressedRecordsOverTheLimitAreRefusedBeforeTheyAreInflated() throws IOException {
    ByteString large = batchOf(Compression.gzip().build(), new String(new char[2 * MAX_BATCH_BYTES]));
    assertTrue(large.size() < MAX_BATCH_BYTES, "compressed: " + large.size());
    expectProduceError(ErrorCode.RECORD_TOO_LARGE, "max.batch.bytes", d -> d.setRecordBatch(large));
    for (int declared : new int[] {2_000_000_000, Integer.MAX_VALUE, MAX_BATCH_BYTES + 1}) {
      byte[] template = batchOf(Compression.gzip().build(), "x").toByteArray();
      ByteArrayOutputStream inflated = new ByteArrayOutputStream();
      try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(inflated)) {
        gzip.write(zigzagVarint(declared));
        gzip.write(new byte[64]);
      }
      byte[] bytes = concat(Arrays.copyOf(template, 61), inflated.toByteArray());
      byte[] lying = withCrc(putInt(bytes, 8, bytes.length - 12));
      expectProduceError(ErrorCode.RECORD_TOO_LARGE, "larger than the " + MAX_BATCH_BYTES + " bytes allowed",
          d -> d.setRecordBatch(ByteString.copyFrom(lying)));
    }
    assertUnharmed("compressed records over the limit");
  }

  /**
   * Seeded random corruption of valid batches (plain, gzip, lz4) with the CRC fixed up so the
   * damage reaches the record parser: each is accepted or rejected as CORRUPT_RECORD, never an
   * unknown server error, and whatever was accepted reads back.
   */
  @Test
  void fuzzedBatchesAreAcceptedOrRejectedCleanly() {
    createTopic("fuzz", 1);
    long seed = Long.getLong("badinput.seed", System.nanoTime());
    LOG.info("fuzzing record batches with seed {} (rerun with -Dbadinput.seed={})", seed, seed);
    Random random = new Random(seed);
    List<ByteString> samples = List.of(
        batch(Compression.NONE, RecordBatch.NO_PRODUCER_ID, (short) -1, -1, "alpha", "beta", "gamma", "delta"),
        batch(Compression.gzip().build(), RecordBatch.NO_PRODUCER_ID, (short) -1, -1, "alpha", "beta", "gamma"),
        batch(Compression.lz4().build(), RecordBatch.NO_PRODUCER_ID, (short) -1, -1, "alpha", "beta", "gamma"));
    int accepted = 0;
    for (int i = 0; i < 300; i++) {
      byte[] bytes = samples.get(i % samples.size()).toByteArray();
      int flips = 1 + random.nextInt(3);
      for (int f = 0; f < flips; f++) {
        // Mostly past the CRC field; sometimes anywhere, header included.
        int at = random.nextInt(4) == 0 ? random.nextInt(bytes.length) : 21 + random.nextInt(bytes.length - 21);
        bytes[at] = (byte) random.nextInt(256);
      }
      byte[] mutated = random.nextBoolean() ? withCrc(bytes) : bytes;
      PartitionProduceResult r = produce(leader("fuzz", 0), "fuzz", 0, d -> d.setRecordBatch(ByteString.copyFrom(mutated)));
      ErrorCode code = r.getError().getCode();
      if (code == ErrorCode.NONE) {
        accepted++;
      } else {
        assertTrue(code == ErrorCode.CORRUPT_RECORD || code == ErrorCode.UNKNOWN_PRODUCER_ID
            || code == ErrorCode.OUT_OF_ORDER_SEQUENCE || code == ErrorCode.INVALID_PRODUCER_EPOCH,
            "seed " + seed + ", mutation " + i + ": " + r.getError());
      }
    }
    // Everything accepted reads back, decoded by the broker, from every replica.
    long end = fetch(leader("fuzz", 0), "fuzz", 0, 0, FETCH_MAX_BYTES, RecordFormat.RECORD_BATCHES).getHighWatermark();
    for (int b : cluster.runningIds()) {
      Wait.until("fuzz replicated to " + b, Duration.ofSeconds(20),
          () -> fetch(b, "fuzz", 0, 0, 1, RecordFormat.RECORD_BATCHES).getHighWatermark() == end);
      long offset = 0;
      while (offset < end) {
        FetchPartitionResult r = fetch(b, "fuzz", 0, offset, FETCH_MAX_BYTES, RecordFormat.RECORDS);
        assertEquals(ErrorCode.NONE, r.getError().getCode(), "seed " + seed + ": " + r.getError());
        assertTrue(r.getRecordsCount() > 0);
        assertEquals(offset, r.getRecords(0).getOffset());
        offset = r.getRecords(r.getRecordsCount() - 1).getOffset() + 1;
      }
    }
    assertTrue(accepted < 300, "seed " + seed + ": some mutations must be caught");
    assertUnharmed("fuzzed batches");
  }

  @Test
  void invalidTopicNamesPartitionsAndFieldsAreRejected() {
    for (String name : invalidTopicNames()) {
      PartitionProduceResult r = produce(1, name, 0, d -> d.addRecords(Record.newBuilder().setValue(utf8("x"))));
      assertEquals(ErrorCode.INVALID_ARGUMENT, r.getError().getCode(), printable(name) + ": " + r.getError());
      assertTrue(r.getError().getMessage().contains("topic name"), r.getError().getMessage());
      assertTrue(r.getError().getMessage().length() < 400, "the message stays short: " + r.getError().getMessage());
    }
    expectProduceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic 'no-such-topic' does not exist",
        d -> d.setTopic("no-such-topic").addRecords(Record.newBuilder().setValue(utf8("x"))));
    for (int partition : new int[] {-1, REF_PARTITIONS, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
      expectProduceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          "partition " + partition + " does not exist: topic 'ref' has 3 partitions (0-2)",
          d -> d.setPartition(partition).addRecords(Record.newBuilder().setValue(utf8("x"))));
    }
    expectProduceError(ErrorCode.INVALID_ARGUMENT, "producer id", d -> d.setProducerId(-2)
        .addRecords(Record.newBuilder().setValue(utf8("x"))));
    expectProduceError(ErrorCode.INVALID_ARGUMENT, "epoch", d -> d.setProducerId(1).setProducerEpoch(40_000)
        .addRecords(Record.newBuilder().setValue(utf8("x"))));
    expectProduceError(ErrorCode.INVALID_ARGUMENT, "sequence", d -> d.setProducerId(1).setBaseSequence(-1)
        .addRecords(Record.newBuilder().setValue(utf8("x"))));
    // Goes through the log and is refused there: deterministic, and nothing is stored.
    expectProduceError(ErrorCode.UNKNOWN_PRODUCER_ID, "sequence", d -> d.setProducerId(987_654_321L)
        .setBaseSequence(5).addRecords(Record.newBuilder().setValue(utf8("x"))));

    for (int acks : new int[] {-1, 4, Integer.MAX_VALUE}) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> produceRequest(1,
          ProduceRequest.newBuilder().setAcksValue(acks).addPartitions(PartitionProduceData.newBuilder().setTopic(REF)
              .addRecords(Record.newBuilder().setValue(utf8("x")))).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("acks value " + acks), e.getStatus().toString());
    }
    StatusRuntimeException timeout = assertThrows(StatusRuntimeException.class, () -> produceRequest(1,
        ProduceRequest.newBuilder().setTimeoutMs(-1).addPartitions(PartitionProduceData.newBuilder().setTopic(REF)
            .addRecords(Record.newBuilder().setValue(utf8("x")))).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, timeout.getStatus().getCode());
    assertTrue(timeout.getStatus().getDescription().contains("timeout_ms"), timeout.getStatus().toString());
    assertUnharmed("invalid produce fields");
  }

  /** Consumer-group requests with bad fields: INVALID_ARGUMENT (or the specific code) naming the problem. */
  @Test
  void invalidGroupRequestsAreRejected() {
    int coordinator = io.raftlog.broker.testkit.Wait.forValue("a group coordinator", java.time.Duration.ofSeconds(30), () -> {
      var r = io.raftlog.api.v1.GroupServiceGrpc.newBlockingStub(cluster.channel(1)).withDeadlineAfter(10, TimeUnit.SECONDS)
          .findCoordinator(io.raftlog.api.v1.FindCoordinatorRequest.getDefaultInstance());
      return r.getError().getCode() == ErrorCode.NONE ? r.getCoordinator().getBrokerId() : null;
    });
    var groups = io.raftlog.api.v1.GroupServiceGrpc.newBlockingStub(cluster.channel(coordinator))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
    var join = io.raftlog.api.v1.GroupHeartbeatRequest.newBuilder().setGroupId("bad-input").setMemberId("m")
        .addSubscribedTopics(REF);
    Map<String, Runnable> cases = new LinkedHashMap<>();
    cases.put("group id", () -> groups.heartbeat(join.clone().setGroupId("g".repeat(300)).build()));
    cases.put("member id", () -> groups.heartbeat(join.clone().setMemberId("").build()));
    cases.put("member epoch", () -> groups.heartbeat(join.clone().setMemberEpoch(-2).build()));
    cases.put("session timeout", () -> groups.heartbeat(join.clone().setSessionTimeoutMs(Integer.MAX_VALUE).build()));
    cases.put("assignor", () -> groups.heartbeat(join.clone().setAssignor("fastest").build()));
    cases.put("topic name", () -> groups.heartbeat(join.clone().addSubscribedTopics("bad name").build()));
    cases.put("must be >= 0", () -> groups.heartbeat(join.clone().setMemberEpoch(0)
        .addOwnedPartitions(io.raftlog.api.v1.TopicPartitions.newBuilder().setTopic(REF).addPartitions(-1)).build()));
    for (var offset : List.of(
        io.raftlog.api.v1.OffsetCommit.newBuilder().setTopic(REF).setPartition(REF_PARTITIONS).setOffset(1),
        io.raftlog.api.v1.OffsetCommit.newBuilder().setTopic(REF).setPartition(-1).setOffset(1),
        io.raftlog.api.v1.OffsetCommit.newBuilder().setTopic(REF).setPartition(0).setOffset(-5),
        io.raftlog.api.v1.OffsetCommit.newBuilder().setTopic("no-such-topic").setPartition(0).setOffset(1),
        io.raftlog.api.v1.OffsetCommit.newBuilder().setTopic(REF).setPartition(0).setOffset(1).setMetadata("x".repeat(5000)))) {
      cases.put("commit " + offset.getPartition() + "/" + offset.getOffset() + "/" + offset.getTopic()
          + "/" + offset.getMetadata().length(), () -> groups.commitOffsets(io.raftlog.api.v1.CommitOffsetsRequest
          .newBuilder().setGroupId("bad-input").setMemberEpoch(-1).addOffsets(offset).build()));
    }
    cases.put("to_offset", () -> groups.resetOffsets(io.raftlog.api.v1.ResetOffsetsRequest.newBuilder()
        .setGroupId("bad-input").setTopic(REF).setToOffset(-1).build()));
    cases.put("to_earliest", () -> groups.resetOffsets(io.raftlog.api.v1.ResetOffsetsRequest.newBuilder()
        .setGroupId("bad-input").setTopic(REF).build()));
    for (Map.Entry<String, Runnable> c : cases.entrySet()) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, c.getValue()::run, c.getKey());
      Error error = Status.trailersFromThrowable(e).get(GrpcErrors.ERROR_KEY);
      assertNotNull(error, c.getKey());
      assertEquals(ErrorCode.INVALID_ARGUMENT, error.getCode(), c.getKey() + ": " + error);
    }
    var describe = assertThrows(StatusRuntimeException.class, () -> groups.describeGroup(
        io.raftlog.api.v1.DescribeGroupRequest.newBuilder().setGroupId("bad-input").build()));
    assertEquals(ErrorCode.GROUP_ID_NOT_FOUND, Status.trailersFromThrowable(describe).get(GrpcErrors.ERROR_KEY).getCode(),
        "nothing above created the group");
    assertUnharmed("invalid group requests");
  }

  @Test
  void badPartitionsInARequestDoNotFailTheGoodOnes() {
    ProduceRequest.Builder request = ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL);
    for (int i = 0; i < 2000; i++) {
      request.addPartitions(PartitionProduceData.newBuilder().setTopic(i % 2 == 0 ? "no-such-topic" : REF)
          .setPartition(i % 2 == 0 ? 0 : -1 - i).addRecords(Record.newBuilder().setValue(utf8("x"))));
    }
    request.addPartitions(PartitionProduceData.newBuilder().setTopic(CANARY).setPartition(0)
        .addRecords(Record.newBuilder().setValue(utf8("good"))));
    ProduceResponse response = produceRequest(leader(CANARY, 0), request.build());
    assertEquals(2001, response.getResultsCount());
    for (int i = 0; i < 2000; i++) {
      assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, response.getResults(i).getError().getCode());
    }
    assertEquals(ErrorCode.NONE, response.getResults(2000).getError().getCode());
    assertUnharmed("mixed request");
  }

  @Test
  void produceStreamAnswersBadBatchesAndKeepsGoing() throws Exception {
    List<ProduceResponse> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    StreamObserver<ProduceRequest> requests = ProduceServiceGrpc.newStub(cluster.channel(leader(CANARY, 0)))
        .withDeadlineAfter(10, TimeUnit.SECONDS).produceStream(new StreamObserver<>() {
          @Override
          public void onNext(ProduceResponse value) {
            answers.add(value);
          }

          @Override
          public void onError(Throwable t) {
            closed.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            closed.complete(Status.OK);
          }
        });
    requests.onNext(ProduceRequest.newBuilder().setCorrelationId(1).addPartitions(PartitionProduceData.newBuilder()
        .setTopic(REF).setPartition(99).addRecords(Record.newBuilder().setValue(utf8("x")))).build());
    requests.onNext(ProduceRequest.newBuilder().setCorrelationId(2).addPartitions(PartitionProduceData.newBuilder()
        .setTopic(CANARY).setRecordBatch(utf8("garbage"))).build());
    requests.onNext(ProduceRequest.newBuilder().setCorrelationId(3).addPartitions(PartitionProduceData.newBuilder()
        .setTopic(CANARY).addRecords(Record.newBuilder().setValue(utf8("ok")))).build());
    Wait.until("three answers", Duration.ofSeconds(10), () -> answers.size() == 3);
    requests.onNext(ProduceRequest.newBuilder().setCorrelationId(4).setAcksValue(17).addPartitions(
        PartitionProduceData.newBuilder().setTopic(CANARY).addRecords(Record.newBuilder().setValue(utf8("x")))).build());
    Status status = closed.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), "bad acks end the stream: " + status);
    assertTrue(status.getDescription().contains("acks value 17"), status.toString());
    Map<Long, ErrorCode> codes = new HashMap<>();
    answers.forEach(a -> codes.put(a.getCorrelationId(), a.getResults(0).getError().getCode()));
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, codes.get(1L));
    assertEquals(ErrorCode.CORRUPT_RECORD, codes.get(2L));
    assertEquals(ErrorCode.NONE, codes.get(3L));
    assertUnharmed("produce stream");
  }

  // ---------------------------------------------------------------------------------------------
  // Fetch and list offsets
  // ---------------------------------------------------------------------------------------------

  @Test
  void fetchOutOfRangeOffsetsAndMissingPartitions() {
    long end = refEnd.get(0);
    for (long offset : new long[] {-1, Long.MIN_VALUE, end + 1, Long.MAX_VALUE}) {
      FetchPartitionResult r = fetch(1, REF, 0, offset, 0, RecordFormat.RECORDS);
      assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE, r.getError().getCode(), "offset " + offset);
      assertTrue(r.getError().getMessage().contains("offset " + offset)
          && r.getError().getMessage().contains("0 (start) to " + end), r.getError().getMessage());
      assertEquals(end, r.getHighWatermark(), "an out-of-range answer still tells where the log ends");
    }
    FetchPartitionResult atEnd = fetch(2, REF, 0, end, 0, RecordFormat.RECORDS);
    assertEquals(ErrorCode.NONE, atEnd.getError().getCode());
    assertEquals(0, atEnd.getRecordsCount());
    for (int partition : new int[] {-1, REF_PARTITIONS, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
      FetchPartitionResult r = fetch(1, REF, partition, 0, 0, RecordFormat.RECORDS);
      assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, r.getError().getCode());
      assertTrue(r.getError().getMessage().contains(
          "partition " + partition + " does not exist: topic 'ref' has 3 partitions (0-2)"), r.getError().getMessage());
    }
    for (String name : invalidTopicNames()) {
      FetchPartitionResult r = fetch(3, name, 0, 0, 0, RecordFormat.RECORDS);
      assertEquals(ErrorCode.INVALID_ARGUMENT, r.getError().getCode(), printable(name) + ": " + r.getError());
    }
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, fetch(1, "no-such-topic", 0, 0, 0, RecordFormat.RECORDS)
        .getError().getCode());
    assertUnharmed("fetch out of range");
  }

  @Test
  void fetchMaxBytesIsBoundedAndAtLeastOneBatchIsReturned() {
    createTopic("big", 1);
    // ~20 batches of ~15 KiB: more than the broker's fetch.max.bytes of 64 KiB.
    for (int i = 0; i < 20; i++) {
      int n = i;
      assertOk(produce(leader("big", 0), "big", 0, d -> {
        for (int r = 0; r < 15; r++) {
          d.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(filled(1000, n))));
        }
      }));
    }
    int leader = leader("big", 0);
    long end = fetch(leader, "big", 0, 0, 1, RecordFormat.RECORD_BATCHES).getHighWatermark();
    assertEquals(300, end);
    int oneBatch = firstBatchSize(fetch(leader, "big", 0, 0, 1, RecordFormat.RECORD_BATCHES).getRecordBatches());

    // max_bytes smaller than a batch: exactly one batch (as Kafka does), so a consumer never stalls;
    // decoded, exactly one record.
    assertEquals(oneBatch, fetch(leader, "big", 0, 0, 1, RecordFormat.RECORD_BATCHES).getRecordBatches().size());
    assertEquals(1, fetch(leader, "big", 0, 0, 1, RecordFormat.RECORDS).getRecordsCount());
    // 0 means the default (1 MiB), capped at fetch.max.bytes; 2 GiB likewise.
    for (int maxBytes : new int[] {0, Integer.MAX_VALUE}) {
      for (RecordFormat format : RecordFormat.values()) {
        if (format == RecordFormat.UNRECOGNIZED) {
          continue;
        }
        FetchPartitionResult r = fetch(leader, "big", 0, 0, maxBytes, format);
        assertEquals(ErrorCode.NONE, r.getError().getCode());
        int bytes = format == RecordFormat.RECORDS ? r.getRecordsList().stream().mapToInt(Record::getSerializedSize).sum()
            : r.getRecordBatches().size();
        assertTrue(bytes > 0 && bytes <= FETCH_MAX_BYTES, maxBytes + "/" + format + ": " + bytes + " bytes");
      }
    }
    // The same partition asked 1000 times over: the response is still bounded as a whole.
    FetchRequest.Builder many = FetchRequest.newBuilder().setFormat(RecordFormat.RECORD_BATCHES);
    for (int i = 0; i < 1000; i++) {
      many.addPartitions(FetchPartition.newBuilder().setTopic("big").setOffset(0).setMaxBytes(Integer.MAX_VALUE));
    }
    FetchResponse response = FetchServiceGrpc.newBlockingStub(cluster.channel(leader))
        .withDeadlineAfter(10, TimeUnit.SECONDS).fetch(many.build());
    assertEquals(1000, response.getResultsCount());
    int total = response.getResultsList().stream().mapToInt(r -> r.getRecordBatches().size()).sum();
    assertTrue(total <= FETCH_MAX_BYTES + oneBatch, "response of " + total + " bytes");
    response.getResultsList().forEach(r -> assertEquals(end, r.getHighWatermark()));

    FetchPartitionResult negative = fetch(leader, "big", 0, 0, -1, RecordFormat.RECORDS);
    assertEquals(ErrorCode.INVALID_ARGUMENT, negative.getError().getCode());
    assertTrue(negative.getError().getMessage().contains("max_bytes"), negative.getError().getMessage());
    assertUnharmed("fetch max bytes");
  }

  /** A small gzip batch that decompresses to megabytes must not make a RECORDS fetch huge. */
  @Test
  void decodedFetchesAreBoundedByDecodedSize() {
    createTopic("bomb", 1);
    String zeros = "\0".repeat(4 * 1024);
    String[] values = new String[1000];
    Arrays.fill(values, zeros);
    ByteString bomb = batch(Compression.gzip().build(), RecordBatch.NO_PRODUCER_ID, (short) -1, -1, values);
    assertTrue(bomb.size() < MAX_BATCH_BYTES, "compressed to " + bomb.size());
    assertOk(produce(leader("bomb", 0), "bomb", 0, d -> d.setRecordBatch(bomb)));
    for (int b : cluster.runningIds()) {
      Wait.until("bomb replicated", Duration.ofSeconds(20),
          () -> fetch(b, "bomb", 0, 0, 1, RecordFormat.RECORD_BATCHES).getHighWatermark() == 1000);
      FetchPartitionResult r = fetch(b, "bomb", 0, 0, 0, RecordFormat.RECORDS);
      assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
      int bytes = r.getRecordsList().stream().mapToInt(Record::getSerializedSize).sum();
      assertTrue(r.getRecordsCount() > 0 && bytes <= FETCH_MAX_BYTES + zeros.length() + 64, bytes + " bytes");
      // Decoding resumes where the last answer stopped.
      long next = r.getRecords(r.getRecordsCount() - 1).getOffset() + 1;
      assertEquals(next, fetch(b, "bomb", 0, next, 1, RecordFormat.RECORDS).getRecords(0).getOffset());
    }
    assertUnharmed("decompression bomb");
  }

  @Test
  void invalidFetchRequestFieldsAreRejected() {
    for (int maxWait : new int[] {-1, 30_001, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> FetchServiceGrpc
          .newBlockingStub(cluster.channel(1)).withDeadlineAfter(10, TimeUnit.SECONDS)
          .fetch(FetchRequest.newBuilder().setMaxWaitMs(maxWait).addPartitions(FetchPartition.newBuilder()
              .setTopic(REF)).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("max_wait_ms"), e.getStatus().toString());
    }
    StatusRuntimeException format = assertThrows(StatusRuntimeException.class, () -> FetchServiceGrpc
        .newBlockingStub(cluster.channel(1)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .fetch(FetchRequest.newBuilder().setFormatValue(9).addPartitions(FetchPartition.newBuilder().setTopic(REF)).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, format.getStatus().getCode());
    // min_bytes that can never be met only makes the poll last max_wait_ms.
    FetchResponse waited = FetchServiceGrpc.newBlockingStub(cluster.channel(1)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .fetch(FetchRequest.newBuilder().setMaxWaitMs(50).setMinBytes(Integer.MAX_VALUE).addPartitions(
            FetchPartition.newBuilder().setTopic(REF).setOffset(refEnd.get(0))).build());
    assertEquals(ErrorCode.NONE, waited.getResults(0).getError().getCode());

    // LATEST comes from the partition's leader only (a follower answers NOT_LEADER).
    int leaderOf1 = cluster.awaitLeader(REF, 1, Duration.ofSeconds(30));
    List<ListOffsetsResult> offsets = FetchServiceGrpc.newBlockingStub(cluster.channel(leaderOf1))
        .withDeadlineAfter(10, TimeUnit.SECONDS).listOffsets(ListOffsetsRequest.newBuilder()
            .addPartitions(ListOffsetsPartition.newBuilder().setTopic(REF).setPartition(0).setSpecValue(9))
            .addPartitions(ListOffsetsPartition.newBuilder().setTopic(REF).setPartition(-1))
            .addPartitions(ListOffsetsPartition.newBuilder().setTopic("../etc"))
            .addPartitions(ListOffsetsPartition.newBuilder().setTopic(REF).setPartition(1).setSpec(OffsetSpec.LATEST))
            .build()).getResultsList();
    assertEquals(ErrorCode.INVALID_ARGUMENT, offsets.get(0).getError().getCode());
    assertTrue(offsets.get(0).getError().getMessage().contains("offset spec 9"));
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, offsets.get(1).getError().getCode());
    assertEquals(ErrorCode.INVALID_ARGUMENT, offsets.get(2).getError().getCode());
    assertEquals(refEnd.get(1), offsets.get(3).getOffset());
    assertUnharmed("invalid fetch fields");
  }

  // ---------------------------------------------------------------------------------------------
  // Admin
  // ---------------------------------------------------------------------------------------------

  @Test
  void invalidTopicCreationsAreRefusedBeforeAnythingIsCreated() {
    Map<Integer, Integer> replicasBefore = replicaCounts();
    for (String name : invalidTopicNames()) {
      expectAdminError(Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "topic name",
          create(name, 1, 1));
    }
    for (int partitions : new int[] {0, -1, Integer.MIN_VALUE}) {
      expectAdminError(Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "at least 1, got " + partitions,
          create("new-topic", partitions, 1));
    }
    for (int partitions : new int[] {MAX_PARTITIONS + 1, 1_000_000, Integer.MAX_VALUE}) {
      expectAdminError(Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT,
          "at most " + MAX_PARTITIONS + " (max.partitions.per.topic), got " + partitions,
          create("new-topic", partitions, 1));
    }
    for (int rf : new int[] {0, -1, Integer.MIN_VALUE}) {
      expectAdminError(Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "at least 1, got " + rf,
          create("new-topic", 1, rf));
    }
    for (int rf : new int[] {4, Integer.MAX_VALUE}) {
      expectAdminError(Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT,
          "replication factor " + rf + " is larger than the number of live brokers (3)", create("new-topic", 1, rf));
    }
    Map<String, String> badConfigs = Map.of(
        "retention.ms", "retention.ms must be -1 (unlimited) or a non-negative number, got 'soon'",
        "segment.bytes", "segment.bytes must be a number of bytes from 1024",
        "max.message.bytes", "max.message.bytes must be a number of bytes from 1 to the broker's max.batch.bytes ("
            + MAX_BATCH_BYTES + ")",
        "cleanup.policy", "cleanup.policy must be 'delete', 'compact' or 'compact,delete', got 'shrink'",
        "segment.ms", "segment.ms must be a positive number of milliseconds, got '0'",
        "flush.ms", "unknown topic config 'flush.ms'");
    Map<String, String> badValues = Map.of("retention.ms", "soon", "segment.bytes", "100",
        "max.message.bytes", Integer.toString(MAX_BATCH_BYTES + 1), "cleanup.policy", "shrink",
        "segment.ms", "0", "flush.ms", "1");
    badConfigs.forEach((key, message) -> expectAdminError(Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT,
        message, create("new-topic", 1, 1).toBuilder().putConfig("retention.bytes", "100")
            .putConfig(key, badValues.get(key)).build()));
    expectAdminError(Status.Code.ALREADY_EXISTS, ErrorCode.TOPIC_ALREADY_EXISTS, "topic 'ref' already exists",
        create(REF, 1, 1));
    assertEquals(replicasBefore, replicaCounts(), "no partition replica was created");
    assertUnharmed("invalid topic creation");
  }

  @Test
  void deletingOrDescribingMissingOrInvalidTopics() {
    AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(cluster.channel(2))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
    StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
        () -> admin.deleteTopic(DeleteTopicRequest.newBuilder().setName("no-such-topic").build()));
    assertAdminError(missing, Status.Code.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        "topic 'no-such-topic' does not exist");
    missing = assertThrows(StatusRuntimeException.class,
        () -> admin.describeTopic(DescribeTopicRequest.newBuilder().setName("no-such-topic").build()));
    assertAdminError(missing, Status.Code.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        "topic 'no-such-topic' does not exist");
    for (String name : invalidTopicNames()) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> admin.deleteTopic(DeleteTopicRequest.newBuilder().setName(name).build()));
      assertAdminError(e, Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "topic name");
      e = assertThrows(StatusRuntimeException.class,
          () -> admin.describeTopic(DescribeTopicRequest.newBuilder().setName(name).build()));
      assertAdminError(e, Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "topic name");
    }
    GetMetadataResponse metadata = MetadataServiceGrpc.newBlockingStub(cluster.channel(3))
        .withDeadlineAfter(10, TimeUnit.SECONDS).getMetadata(GetMetadataRequest.newBuilder()
            .addTopics("bad/name").addTopics("no-such-topic").addTopics(REF).build());
    List<TopicMetadata> t = metadata.getTopicsList();
    assertEquals(ErrorCode.INVALID_ARGUMENT, t.get(0).getError().getCode());
    assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, t.get(1).getError().getCode());
    assertEquals(ErrorCode.NONE, t.get(2).getError().getCode());
    assertEquals(REF_PARTITIONS, t.get(2).getPartitionsCount());
    assertUnharmed("delete/describe missing topics");
  }

  @Test
  void invalidTopicConfigChangesAreRefusedAndChangeNothing() {
    // Each with the part of the message it must get.
    List<Map.Entry<String, AlterTopicConfigRequest.Builder>> refused = new ArrayList<>();
    refused.add(Map.entry("nothing to change", AlterTopicConfigRequest.newBuilder().setName(REF)));
    refused.add(Map.entry("topic config 'retention.ms' is both set and removed", AlterTopicConfigRequest.newBuilder()
        .setName(REF).putSet("retention.ms", "1000").addRemove("retention.ms")));
    refused.add(Map.entry("retention.bytes must be -1 (unlimited) or a non-negative number, got '-2'",
        AlterTopicConfigRequest.newBuilder().setName(REF).putSet("retention.ms", "1000")
            .putSet("retention.bytes", "-2")));
    refused.add(Map.entry("unknown topic config 'retention'", AlterTopicConfigRequest.newBuilder().setName(REF)
        .putSet("retention.ms", "1000").addRemove("retention")));
    refused.add(Map.entry("cleanup.policy must be 'delete', 'compact' or 'compact,delete', got 'compact,compact'",
        AlterTopicConfigRequest.newBuilder().setName(REF).putSet("cleanup.policy", "compact,compact")));
    refused.add(Map.entry("min.cleanable.dirty.ratio must be a number from 0 to 1, got '1.5'",
        AlterTopicConfigRequest.newBuilder().setName(REF).putSet("min.cleanable.dirty.ratio", "1.5")));
    refused.add(Map.entry("max.batch.bytes (" + MAX_BATCH_BYTES + ")", AlterTopicConfigRequest.newBuilder()
        .setName(REF).putSet("max.message.bytes", Integer.toString(MAX_BATCH_BYTES + 1))));
    for (String name : invalidTopicNames()) {
      refused.add(Map.entry("topic name", AlterTopicConfigRequest.newBuilder().setName(name)
          .putSet("retention.ms", "1000")));
    }
    for (Map.Entry<String, AlterTopicConfigRequest.Builder> r : refused) {
      assertAdminError(assertThrows(StatusRuntimeException.class, () -> alterTopicConfig(3, r.getValue())),
          Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, r.getKey());
    }
    // A topic that does not exist is refused by the metadata group, and not created.
    StatusRuntimeException missing = assertThrows(StatusRuntimeException.class, () -> alterTopicConfig(2,
        AlterTopicConfigRequest.newBuilder().setName("no-such-topic").putSet("retention.ms", "1000")));
    assertAdminError(missing, Status.Code.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        "topic 'no-such-topic' does not exist");
    for (int b : cluster.runningIds()) {
      assertEquals(Map.of(), describe(b, REF).getConfigOverridesMap(), "broker " + b + ": ref has no overrides");
    }
    assertUnharmed("invalid topic config changes");
  }

  @Test
  void invalidPartitionAdditionsAreRefusedAndChangeNothing() {
    Map<Integer, Integer> replicasBefore = replicaCounts();
    AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(cluster.channel(3))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
    java.util.function.IntFunction<io.raftlog.api.v1.CreatePartitionsRequest> ref = total ->
        io.raftlog.api.v1.CreatePartitionsRequest.newBuilder().setName(REF).setTotalCount(total).build();
    for (int total : new int[] {REF_PARTITIONS, 1, 0, -1, Integer.MIN_VALUE}) {
      assertAdminError(assertThrows(StatusRuntimeException.class, () -> admin.createPartitions(ref.apply(total))),
          Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "topic 'ref' has " + REF_PARTITIONS
              + " partitions; the count can only grow: give a new total above " + REF_PARTITIONS + ", got " + total);
    }
    for (int total : new int[] {MAX_PARTITIONS + 1, 1_000_000, Integer.MAX_VALUE}) {
      assertAdminError(assertThrows(StatusRuntimeException.class, () -> admin.createPartitions(ref.apply(total))),
          Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT,
          "at most " + MAX_PARTITIONS + " (max.partitions.per.topic), got " + total);
    }
    for (String name : invalidTopicNames()) {
      assertAdminError(assertThrows(StatusRuntimeException.class, () -> admin.createPartitions(
          io.raftlog.api.v1.CreatePartitionsRequest.newBuilder().setName(name).setTotalCount(5).build())),
          Status.Code.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT, "topic name");
    }
    assertAdminError(assertThrows(StatusRuntimeException.class, () -> admin.createPartitions(
        io.raftlog.api.v1.CreatePartitionsRequest.newBuilder().setName("no-such-topic").setTotalCount(5).build())),
        Status.Code.NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic 'no-such-topic' does not exist");
    assertEquals(replicasBefore, replicaCounts(), "no partition replica was created");
    for (int b : cluster.runningIds()) {
      assertEquals(REF_PARTITIONS, describe(b, REF).getPartitionsCount(), "broker " + b + ": ref keeps its partitions");
    }
    assertUnharmed("invalid partition additions");
  }

  /**
   * A topic's max.message.bytes caps the batches produced to it (the batch as sent: compressed
   * if it was), by both produce paths, and a change takes effect once the broker has applied it.
   */
  @Test
  void batchesOverTheTopicsMaxMessageBytesAreRejected() {
    String topic = "small-messages";
    createTopic(topic, 1, Map.of("max.message.bytes", " 1024 "));
    int leader = leader(topic, 0);
    DescribeTopicResponse described = describe(leader, topic);
    assertEquals(Map.of("max.message.bytes", "1024"), described.getConfigOverridesMap(), "stored trimmed");
    BrokerConfig brokerConfig = cluster.config(leader);
    assertEquals(Map.of("retention.ms", Long.toString(brokerConfig.retentionMs),
        "retention.bytes", Long.toString(brokerConfig.retentionBytes),
        "segment.bytes", Integer.toString(brokerConfig.segmentBytes),
        "segment.ms", Long.toString(brokerConfig.segmentMs), "max.message.bytes", "1024",
        "cleanup.policy", "delete", "delete.retention.ms", "86400000", "min.cleanable.dirty.ratio", "0.5",
        "min.compaction.lag.ms", "0"), described.getConfigMap());

    byte[] value = new byte[2000];
    PartitionProduceResult records = produce(leader, topic, 0,
        d -> d.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(value))));
    assertTopicLimitHit(topic, 1024, records);
    PartitionProduceResult clientBatch = produce(leader, topic, 0, d -> d.setRecordBatch(
        batch(Compression.NONE, RecordBatch.NO_PRODUCER_ID, (short) -1, -1, "x".repeat(600), "y".repeat(600))));
    assertTopicLimitHit(topic, 1024, clientBatch);
    // Through another broker too (it checks before forwarding to the leader).
    int other = cluster.runningIds().stream().filter(b -> b != leader).findFirst().orElseThrow();
    assertTopicLimitHit(topic, 1024, produce(other, topic, 0,
        d -> d.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(value)))));
    // The limit applies to the batch as sent: compressed, 4000 bytes of records fit.
    ByteString compressed = batchOf(Compression.gzip().build(), "z".repeat(4000));
    assertTrue(compressed.size() < 1024, "compressed: " + compressed.size());
    assertOk(produce(leader, topic, 0, d -> d.setRecordBatch(compressed)));
    assertOk(produce(leader, topic, 0, d -> d.addRecords(Record.newBuilder().setValue(utf8("small")))));

    AlterTopicConfigResponse raised = alterTopicConfig(other, AlterTopicConfigRequest.newBuilder().setName(topic)
        .putSet("max.message.bytes", "4096").putSet("retention.ms", "3600000"));
    assertEquals(Map.of("max.message.bytes", "4096", "retention.ms", "3600000"), raised.getConfigOverridesMap());
    Wait.until("broker " + leader + " applies the new limit", Duration.ofSeconds(10),
        () -> "4096".equals(describe(leader, topic).getConfigMap().get("max.message.bytes")));
    assertEquals("3600000", describe(leader, topic).getConfigMap().get("retention.ms"));
    assertOk(produce(leader, topic, 0, d -> d.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(value)))));
    assertTopicLimitHit(topic, 4096, produce(leader, topic, 0,
        d -> d.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(new byte[5000])))));

    // Removing the override goes back to the broker's max.batch.bytes.
    AlterTopicConfigResponse removed = alterTopicConfig(leader, AlterTopicConfigRequest.newBuilder().setName(topic)
        .addRemove("max.message.bytes"));
    assertEquals(Map.of("retention.ms", "3600000"), removed.getConfigOverridesMap());
    Wait.until("broker " + leader + " applies the removal", Duration.ofSeconds(10),
        () -> describe(leader, topic).getConfigOverridesMap().equals(Map.of("retention.ms", "3600000")));
    assertEquals(Integer.toString(MAX_BATCH_BYTES), describe(leader, topic).getConfigMap().get("max.message.bytes"));
    assertOk(produce(leader, topic, 0,
        d -> d.addRecords(Record.newBuilder().setValue(ByteString.copyFrom(new byte[5000])))));
    assertUnharmed("max.message.bytes");
  }

  static AlterTopicConfigResponse alterTopicConfig(int broker, AlterTopicConfigRequest.Builder request) {
    return AdminServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .alterTopicConfig(request.build());
  }

  static DescribeTopicResponse describe(int broker, String topic) {
    return AdminServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .describeTopic(DescribeTopicRequest.newBuilder().setName(topic).build());
  }

  static void assertTopicLimitHit(String topic, int limit, PartitionProduceResult r) {
    assertEquals(ErrorCode.RECORD_TOO_LARGE, r.getError().getCode(), r.getError().getMessage());
    assertTrue(r.getError().getMessage().contains("the limit of topic '" + topic + "' (max.message.bytes) is " + limit),
        r.getError().getMessage());
    assertEquals(-1, r.getBaseOffset());
  }

  // ---------------------------------------------------------------------------------------------
  // The Raft port
  // ---------------------------------------------------------------------------------------------

  /**
   * The Raft port takes client requests too (brokers forward produces through it). A request that
   * is not a command the state machine can apply must be refused before it enters the Raft log: a
   * committed entry that cannot be applied stops every replica of the group.
   */
  @Test
  void raftPortRefusesEntriesNoReplicaCanApply() throws Exception {
    createTopic("raw-raft", 1);
    int leader = leader("raw-raft", 0);
    org.apache.ratis.protocol.RaftGroup group = cluster.replica(leader, "raw-raft", 0).division().getGroup();
    org.apache.ratis.protocol.RaftGroup metadataGroup = cluster.replica(leader, "raw-raft", 0).division()
        .getRaftServer().getDivision(io.raftlog.broker.raft.GroupIds.METADATA).getGroup();
    List<byte[]> garbage = List.of(new byte[0], filled(16, 0xff), "not a command".getBytes(StandardCharsets.UTF_8),
        unknownFields());
    Map<org.apache.ratis.protocol.RaftGroup, Integer> groups = Map.of(group, leader,
        metadataGroup, cluster.broker(1).metadataLeaderId());
    for (Map.Entry<org.apache.ratis.protocol.RaftGroup, Integer> g : groups.entrySet()) {
      // Straight to the leader, no retries: the answer to each request is the one to check.
      try (org.apache.ratis.client.RaftClient client = org.apache.ratis.client.RaftClient.newBuilder()
          .setRaftGroup(g.getKey()).setLeaderId(io.raftlog.broker.raft.GroupIds.peerId(g.getValue()))
          .setProperties(new org.apache.ratis.conf.RaftProperties())
          .setRetryPolicy(org.apache.ratis.retry.RetryPolicies.noRetry()).build()) {
        for (byte[] bytes : garbage) {
          try {
            org.apache.ratis.protocol.RaftClientReply reply = client.io().send(org.apache.ratis.protocol.Message
                .valueOf(org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(bytes)));
            fail("a garbage entry was accepted by " + g.getKey().getGroupId() + ": " + reply);
          } catch (org.apache.ratis.protocol.exceptions.StateMachineException e) {
            assertTrue(e.getMessage().contains("refusing"), e.getMessage());
          }
        }
      }
    }
    assertOk(produce(leader, "raw-raft", 0, d -> d.addRecords(Record.newBuilder().setValue(utf8("still writable")))));
    assertUnharmed("garbage on the Raft port");
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  static List<String> invalidTopicNames() {
    return List.of("", ".", "..", "a".repeat(250), "bad/name", "../etc", "with space", "tab\tand\nnewline",
        "t\u00f8pic", "emoji-\ud83d\ude00", "x".repeat(100_000), "nul\0byte");
  }

  /**
   * The broker serves (a produce and a fetch round-trip on every broker) and nothing stored
   * changed: every replica of every ref partition has the same log end offset and byte-identical
   * batches as right after setup, the topic list is as expected, and no replica failed.
   */
  static void assertUnharmed(String after) {
    for (int b : cluster.runningIds()) {
      for (int p = 0; p < REF_PARTITIONS; p++) {
        FetchPartitionResult r = fetch(b, REF, p, 0, FETCH_MAX_BYTES, RecordFormat.RECORD_BATCHES);
        assertEquals(ErrorCode.NONE, r.getError().getCode(), after + ": fetch ref-" + p + " from broker " + b);
        assertEquals(refEnd.get(p), r.getHighWatermark(), after + ": log end offset of ref-" + p + " on broker " + b);
        assertEquals(refBatches.get(p), r.getRecordBatches(), after + ": stored batches of ref-" + p + " on broker " + b);
      }
      int n = ++canaryCount;
      PartitionProduceResult produced = produce(b, CANARY, 0, d -> d.addRecords(Record.newBuilder()
          .setValue(utf8("canary " + n))));
      assertOk(produced);
      // A follower applies the record a moment after the leader acknowledged it.
      FetchPartitionResult read = Wait.forValue(after + ": canary on broker " + b, Duration.ofSeconds(10), () -> {
        FetchPartitionResult r = fetch(b, CANARY, 0, produced.getBaseOffset(), 1, RecordFormat.RECORDS);
        return r.getError().getCode() == ErrorCode.NONE && r.getRecordsCount() > 0 ? r : null;
      });
      assertEquals(utf8("canary " + n), read.getRecords(0).getValue(), after);
    }
    List<String> listed = AdminServiceGrpc.newBlockingStub(cluster.channel(1)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .listTopics(ListTopicsRequest.getDefaultInstance()).getNamesList();
    assertEquals(topics, new TreeSet<>(listed), after + ": topics");
    assertEquals(List.of(), cluster.fatalErrors(), after + ": failed replicas");
  }

  static void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  static void createTopic(String name, int partitions, Map<String, String> configs) {
    cluster.createTopic(name, partitions, 3, configs);
    topics.add(name);
  }

  static int leader(String topic, int partition) {
    return cluster.awaitLeader(topic, partition, Duration.ofSeconds(30));
  }

  static Map<Integer, Integer> replicaCounts() {
    Map<Integer, Integer> counts = new HashMap<>();
    for (int b : cluster.runningIds()) {
      counts.put(b, cluster.broker(b).partitions().replicas().size());
    }
    return counts;
  }

  static ProduceResponse produceRequest(int broker, ProduceRequest request) {
    return ProduceServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .produce(request);
  }

  static PartitionProduceResult produce(int broker, String topic, int partition,
      java.util.function.Consumer<PartitionProduceData.Builder> fill) {
    PartitionProduceData.Builder data = PartitionProduceData.newBuilder().setTopic(topic).setPartition(partition);
    fill.accept(data);
    return produceRequest(broker, ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL).addPartitions(data).build())
        .getResults(0);
  }

  /** Produces to ref-0 (unless {@code fill} changes topic or partition) and expects an error. */
  static void expectProduceError(ErrorCode code, String messagePart,
      java.util.function.Consumer<PartitionProduceData.Builder> fill) {
    PartitionProduceResult r = produce(leader(REF, 0), REF, 0, fill);
    assertEquals(code, r.getError().getCode(), r.getError().getMessage());
    assertTrue(r.getError().getMessage().contains(messagePart),
        "'" + r.getError().getMessage() + "' should contain '" + messagePart + "'");
    assertEquals(-1, r.getBaseOffset());
  }

  static void assertOk(PartitionProduceResult r) {
    assertEquals(ErrorCode.NONE, r.getError().getCode(), r.getError().getMessage());
  }

  static FetchPartitionResult fetch(int broker, String topic, int partition, long offset, int maxBytes,
      RecordFormat format) {
    return FetchServiceGrpc.newBlockingStub(cluster.channel(broker)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .fetch(FetchRequest.newBuilder().setFormat(format).addPartitions(FetchPartition.newBuilder().setTopic(topic)
            .setPartition(partition).setOffset(offset).setMaxBytes(maxBytes)).build())
        .getResults(0);
  }

  static CreateTopicRequest create(String name, int partitions, int rf) {
    return CreateTopicRequest.newBuilder().setName(name).setPartitions(partitions).setReplicationFactor(rf).build();
  }

  static void expectAdminError(Status.Code status, ErrorCode code, String messagePart, CreateTopicRequest request) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> AdminServiceGrpc
        .newBlockingStub(cluster.channel(1)).withDeadlineAfter(10, TimeUnit.SECONDS).createTopic(request));
    assertAdminError(e, status, code, messagePart);
  }

  static void assertAdminError(StatusRuntimeException e, Status.Code status, ErrorCode code, String messagePart) {
    assertEquals(status, e.getStatus().getCode(), e.getStatus().toString());
    String description = e.getStatus().getDescription();
    assertTrue(description != null && description.contains(messagePart),
        "'" + description + "' should contain '" + messagePart + "'");
    assertTrue(description.length() < 400, "the message stays short: " + description.length() + " characters");
    Error error = Status.trailersFromThrowable(e).get(GrpcErrors.ERROR_KEY);
    assertNotNull(error);
    assertEquals(code, error.getCode());
  }

  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  /** The same method, with request and response as raw bytes. */
  static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> method) {
    return MethodDescriptor.<byte[], byte[]>newBuilder().setType(method.getType())
        .setFullMethodName(method.getFullMethodName()).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
  }

  static byte[] callRaw(int broker, MethodDescriptor<?, ?> method, byte[] body) {
    return ClientCalls.blockingUnaryCall(cluster.channel(broker), raw(method),
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), body);
  }

  static byte[] tag(int field, int wireType) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int value = field << 3 | wireType;
    while ((value & ~0x7f) != 0) {
      out.write(value & 0x7f | 0x80);
      value >>>= 7;
    }
    out.write(value);
    return out.toByteArray();
  }

  static byte[] lengthDelimited(byte[] payload) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      coded.writeUInt32NoTag(payload.length);
      coded.writeRawBytes(payload);
      coded.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Fields 1000-1004 of every wire type; none of the API messages uses these numbers. */
  static byte[] unknownFields() {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      coded.writeUInt64(1000, 42);
      coded.writeString(1001, "unknown");
      coded.writeFixed32(1002, 7);
      coded.writeFixed64(1003, 8);
      coded.writeTag(1004, 3);
      coded.writeUInt64(1, 1);
      coded.writeTag(1004, 4);
      coded.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ByteString batch(Compression compression, long producerId, short epoch, int baseSequence, String... values) {
    MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1024), RecordBatch.MAGIC_VALUE_V2, compression,
        TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP, producerId, epoch, baseSequence, false,
        RecordBatch.NO_PARTITION_LEADER_EPOCH);
    for (String v : values) {
      b.append(1_700_000_000_000L, null, v.getBytes(StandardCharsets.UTF_8));
    }
    return ByteString.copyFrom(b.build().buffer());
  }

  static ByteString batchOf(Compression compression, String... values) {
    return batch(compression, RecordBatch.NO_PRODUCER_ID, (short) -1, -1, values);
  }

  static byte[] zigzagVarint(int value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long v = ((long) value << 1) ^ (value >> 31);
    v &= 0xffffffffL;
    while ((v & ~0x7fL) != 0) {
      out.write((int) (v & 0x7f | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
    return out.toByteArray();
  }

  static int firstBatchSize(ByteString batches) {
    return 12 + batches.asReadOnlyByteBuffer().getInt(8);
  }

  /** Recomputes the v2 batch CRC32C (over attributes .. end) so the damage gets past the CRC check. */
  static byte[] withCrc(byte[] batch) {
    byte[] out = batch.clone();
    if (out.length < 21) {
      return out;
    }
    CRC32C crc = new CRC32C();
    crc.update(out, 21, out.length - 21);
    return putInt(out, 17, (int) crc.getValue());
  }

  static byte[] putInt(byte[] bytes, int at, int value) {
    byte[] out = bytes.clone();
    ByteBuffer.wrap(out).putInt(at, value);
    return out;
  }

  static byte[] set(byte[] bytes, int at, byte value) {
    byte[] out = bytes.clone();
    out[at] = value;
    return out;
  }

  static byte[] flip(byte[] bytes, int at) {
    return set(bytes, at, (byte) (bytes[at] ^ 0x5a));
  }

  static byte[] filled(int length, int value) {
    byte[] out = new byte[length];
    Arrays.fill(out, (byte) value);
    return out;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static ByteString utf8(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static String printable(String s) {
    String shown = s.length() > 40 ? s.substring(0, 40) + "...(" + s.length() + " chars)" : s;
    return "'" + shown.replace("\n", "\\n").replace("\t", "\\t").replace("\0", "\\0") + "'";
  }

}
