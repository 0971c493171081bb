package io.raftlog.broker.rpc;

import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.BrokerInfo;
import io.raftlog.api.v1.Error;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.GetMetadataRequest;
import io.raftlog.api.v1.GetMetadataResponse;
import io.raftlog.api.v1.MetadataServiceGrpc;
import io.raftlog.api.v1.PartitionMetadata;
import io.raftlog.api.v1.TopicMetadata;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.internal.v1.LocalReplicaState;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.metadata.TopicRules;
import java.util.ArrayList;
import java.util.List;

/** Routing metadata for clients: brokers and, per partition, the current leader and replicas. */
public final class MetadataServiceImpl extends MetadataServiceGrpc.MetadataServiceImplBase {

  private final MetadataView metadata;
  private final ReplicaStates replicaStates;

  public MetadataServiceImpl(MetadataView metadata, ReplicaStates replicaStates) {
    this.metadata = metadata;
    this.replicaStates = replicaStates;
  }

  @Override
  public void getMetadata(GetMetadataRequest request, StreamObserver<GetMetadataResponse> response) {
    try {
      // An empty or stale answer would make clients believe topics do not exist.
      metadata.requireCaughtUp();
    } catch (io.raftlog.broker.BrokerException e) {
      response.onError(GrpcErrors.toStatus(e, "get metadata"));
      return;
    }
    List<String> wanted = new ArrayList<>(request.getTopicsList());
    String single = wanted.size() == 1 ? wanted.get(0) : "";
    replicaStates.collect(single).whenComplete((states, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, "get metadata"));
        return;
      }
      GetMetadataResponse.Builder b = GetMetadataResponse.newBuilder();
      metadata.image().getBrokersList().forEach(br -> b.addBrokers(BrokerInfo.newBuilder().setBrokerId(br.getBrokerId())
          .setHost(br.getHost()).setPort(br.getPort()).setRaftPort(br.getRaftPort()).setAlive(metadata.isAlive(br))));
      List<String> names = wanted.isEmpty()
          ? metadata.image().getTopicsList().stream().map(TopicRecord::getName).toList() : wanted;
      for (String name : names) {
        TopicRecord topic = metadata.topic(name).orElse(null);
        String invalid = topic == null ? TopicRules.checkName(name) : null;
        if (invalid != null) {
          b.addTopics(TopicMetadata.newBuilder().setName(name).setError(Error.newBuilder()
              .setCode(ErrorCode.INVALID_ARGUMENT).setMessage(invalid)));
          continue;
        }
        if (topic == null) {
          b.addTopics(TopicMetadata.newBuilder().setName(name).setError(Error.newBuilder()
              .setCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).setMessage("topic '" + name + "' does not exist")));
          continue;
        }
        TopicMetadata.Builder tm = TopicMetadata.newBuilder().setName(name).setTopicId(topic.getTopicId())
            .setError(GrpcErrors.NONE);
        for (ReplicaAssignment a : topic.getAssignmentsList()) {
          LocalReplicaState s = states.get(new ReplicaStates.TopicPartitionKey(name, a.getPartition()));
          int leader = s == null ? -1 : s.getLeaderId();
          tm.addPartitions(PartitionMetadata.newBuilder().setPartition(a.getPartition()).setLeaderId(leader)
              .addAllReplicas(a.getReplicasList()));
        }
        b.addTopics(tm);
      }
      response.onNext(b.build());
      response.onCompleted();
    });
  }
}
