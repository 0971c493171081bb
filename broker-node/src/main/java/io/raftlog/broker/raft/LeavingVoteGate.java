package io.raftlog.broker.raft;

import java.util.Set;
import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.Status;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;

/**
 * Once a broker is leaving (an orderly shutdown), its Raft server answers no vote request and no
 * request to start an election, until it stops. Its log is as long as the survivors' (it led or
 * followed until now) and, as a preferred leader, its Raft priority is higher than theirs: Ratis
 * would refuse the survivor its vote for that priority, and a refusal from a peer of higher
 * priority fails the whole election, so failover would wait for the election timeout. An error
 * instead of an answer counts as a peer that is gone, which is what a leaving broker is. (Seen
 * once in CI: LeaderGoneElectionTest waited over 6 s.) Refusing start-election requests keeps
 * a Raft leader from handing leadership back to the leaving broker for its priority.
 *
 * <p>Appends are still taken: the broker keeps following until its server closes.
 */
public final class LeavingVoteGate implements ServerInterceptor, GrpcServices.Customizer {

  private static final Set<String> REFUSED_WHEN_LEAVING = Set.of(
      RaftServerProtocolServiceGrpc.getRequestVoteMethod().getFullMethodName(),
      RaftServerProtocolServiceGrpc.getStartLeaderElectionMethod().getFullMethodName());

  private final int brokerId;
  private volatile boolean leaving;

  public LeavingVoteGate(int brokerId) {
    this.brokerId = brokerId;
  }

  /** From now on, vote and start-election requests fail with UNAVAILABLE. */
  public void leave() {
    leaving = true;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    if (leaving && REFUSED_WHEN_LEAVING.contains(call.getMethodDescriptor().getFullMethodName())) {
      call.close(Status.UNAVAILABLE.withDescription("broker " + brokerId + " is shutting down: it takes part in"
          + " no election"), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    return next.startCall(call, headers);
  }

  /** Installs this gate on the Ratis server's gRPC server (the one serving peer-to-peer Raft calls). */
  @Override
  public NettyServerBuilder customize(NettyServerBuilder builder, java.util.EnumSet<GrpcServices.Type> types) {
    return types.contains(GrpcServices.Type.SERVER) ? builder.intercept(this) : builder;
  }
}
