package io.raftlog.broker.rpc;

import io.grpc.stub.StreamObserver;
import io.raftlog.internal.v1.BrokerInternalServiceGrpc;
import io.raftlog.internal.v1.DescribeLocalReplicasRequest;
import io.raftlog.internal.v1.DescribeLocalReplicasResponse;

/** Answers other brokers' questions about the replicas hosted here. */
public final class BrokerInternalServiceImpl extends BrokerInternalServiceGrpc.BrokerInternalServiceImplBase {

  private final int brokerId;
  private final ReplicaStates states;

  public BrokerInternalServiceImpl(int brokerId, ReplicaStates states) {
    this.brokerId = brokerId;
    this.states = states;
  }

  @Override
  public void describeLocalReplicas(DescribeLocalReplicasRequest request,
      StreamObserver<DescribeLocalReplicasResponse> response) {
    response.onNext(DescribeLocalReplicasResponse.newBuilder().setBrokerId(brokerId)
        .addAllReplicas(states.local(request.getTopic())).build());
    response.onCompleted();
  }
}
