package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.Acks;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchPartition;
import io.raftlog.api.v1.FetchPartitionResult;
import io.raftlog.api.v1.FetchRequest;
import io.raftlog.api.v1.FetchResponse;
import io.raftlog.api.v1.FetchServiceGrpc;
import io.raftlog.api.v1.PartitionProduceData;
import io.raftlog.api.v1.PartitionProduceResult;
import io.raftlog.api.v1.ProduceRequest;
import io.raftlog.api.v1.ProduceResponse;
import io.raftlog.api.v1.ProduceServiceGrpc;
import io.raftlog.api.v1.Record;
import io.raftlog.broker.testkit.MiniCluster;
import io.raftlog.broker.testkit.Wait;
import io.raftlog.statemachine.ratis.PartitionStateMachine;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of connections to a broker's gRPC port, opened at once and dropped abruptly (some
 * silent, some with a partial or broken HTTP/2 start), and many gRPC channels that start calls and
 * cancel them: the broker keeps serving, cancelled long polls release their waiters at once, and
 * the process's open file descriptors come back to where they were.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ConnectionFloodTest {

  static final int SOCKETS = 2000;
  static final int CHANNELS = 200;
  static final Path FDS = Path.of("/proc/self/fd");

  @TempDir
  static Path dir;
  static MiniCluster cluster;

  @BeforeAll
  static void start() {
    cluster = MiniCluster.start(1, dir);
    cluster.createTopic("t", 1, 1);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void droppedConnectionsAndCancelledCallsLeaveNothingBehind() throws Exception {
    assumeTrue(Files.isDirectory(FDS), "needs /proc/self/fd");
    int port = cluster.broker(1).port();
    roundTrip("warm-up");
    long fdsBefore = openFds();

    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < SOCKETS; i++) {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        sendSomething(s, i % 4);
      }
      roundTrip("with " + SOCKETS + " connections open");
    } finally {
      for (Socket s : sockets) {
        // RST instead of FIN: an abrupt drop.
        s.setSoLinger(true, 0);
        s.close();
      }
    }

    PartitionStateMachine sm = cluster.replica(1, "t", 0).stateMachine();
    long end = sm.highWatermark();
    List<ManagedChannel> channels = new ArrayList<>();
    List<ClientCall<?, ?>> calls = new ArrayList<>();
    try {
      for (int i = 0; i < CHANNELS; i++) {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        channels.add(channel);
        // A long poll at the log end: it waits on the partition until cancelled.
        ClientCall<FetchRequest, FetchResponse> fetch = channel.newCall(FetchServiceGrpc.getFetchMethod(),
            CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
        ClientCalls.asyncUnaryCall(fetch, FetchRequest.newBuilder().setMaxWaitMs(30_000).addPartitions(
            FetchPartition.newBuilder().setTopic("t").setOffset(end)).build(), ignore());
        calls.add(fetch);
        if (i % 4 == 0) {
          ClientCall<ProduceRequest, ProduceResponse> stream = channel.newCall(
              ProduceServiceGrpc.getProduceStreamMethod(), CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
          ClientCalls.asyncBidiStreamingCall(stream, ignore());
          calls.add(stream);
        }
      }
      Wait.until("all long polls waiting", Duration.ofSeconds(30), () -> sm.waitingFetches() == CHANNELS);
      for (int i = 0; i < calls.size(); i++) {
        if (i % 2 == 0) {
          calls.get(i).cancel("the test drops the call", null);
        }
      }
      // The other half: the connection goes away under the calls.
      channels.forEach(ManagedChannel::shutdownNow);
      // Well before the 30 s max_wait_ms: cancelled polls stop waiting at once.
      Wait.until("cancelled long polls released", Duration.ofSeconds(10), () -> sm.waitingFetches() == 0);
    } finally {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow();
        assertTrue(channel.awaitTermination(10, TimeUnit.SECONDS));
      }
    }

    Wait.until("open file descriptors back near " + fdsBefore, Duration.ofSeconds(30),
        () -> openFds() <= fdsBefore + 10);
    roundTrip("after the flood");
    assertEquals(end + 1, sm.highWatermark(), "only the last round trip added a record");
    assertEquals(List.of(), cluster.fatalErrors());
  }

  /** 0: nothing; 1: half an HTTP/2 preface; 2: the preface then a frame header lying about its size; 3: HTTP/1.1. */
  private static void sendSomething(Socket s, int kind) {
    byte[] bytes = switch (kind) {
      case 0 -> new byte[0];
      case 1 -> "PRI * HTTP/2.0\r\n".getBytes(StandardCharsets.US_ASCII);
      case 2 -> concat("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
          new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 1, 2, 3});
      default -> "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    };
    try {
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      // The broker may already have closed a connection that sent garbage: that is fine.
    }
  }

  private static int roundTrips;

  /** A produce and a fetch of what it wrote. */
  private static void roundTrip(String when) {
    String value = "record " + ++roundTrips;
    PartitionProduceResult produced = ProduceServiceGrpc.newBlockingStub(cluster.channel(1))
        .withDeadlineAfter(10, TimeUnit.SECONDS).produce(ProduceRequest.newBuilder().setAcks(Acks.ACKS_ALL)
            .addPartitions(PartitionProduceData.newBuilder().setTopic("t").addRecords(Record.newBuilder()
                .setValue(ByteString.copyFromUtf8(value)))).build()).getResults(0);
    assertEquals(ErrorCode.NONE, produced.getError().getCode(), when + ": " + produced.getError());
    FetchPartitionResult fetched = FetchServiceGrpc.newBlockingStub(cluster.channel(1))
        .withDeadlineAfter(10, TimeUnit.SECONDS).fetch(FetchRequest.newBuilder().addPartitions(FetchPartition
            .newBuilder().setTopic("t").setOffset(produced.getBaseOffset())).build()).getResults(0);
    assertEquals(ErrorCode.NONE, fetched.getError().getCode(), when + ": " + fetched.getError());
    assertEquals(value, fetched.getRecords(0).getValue().toStringUtf8(), when);
  }

  private static long openFds() {
    try (Stream<Path> fds = Files.list(FDS)) {
      return fds.count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> StreamObserver<T> ignore() {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
