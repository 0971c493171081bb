package io.raftlog.broker.rpc;

import io.grpc.stub.StreamObserver;
import io.raftlog.api.v1.AdminServiceGrpc;
import io.raftlog.api.v1.AlterReplicationFactorRequest;
import io.raftlog.api.v1.AlterReplicationFactorResponse;
import io.raftlog.api.v1.DecommissionBrokerRequest;
import io.raftlog.api.v1.DecommissionBrokerResponse;
import io.raftlog.api.v1.ListPartitionReassignmentsRequest;
import io.raftlog.api.v1.ListPartitionReassignmentsResponse;
import io.raftlog.api.v1.PartitionReassignment;
import io.raftlog.api.v1.ReassignPartitionsRequest;
import io.raftlog.api.v1.ReassignPartitionsResponse;
import io.raftlog.log.v1.SetBrokerDecommissioned;
import io.raftlog.api.v1.AlterTopicConfigRequest;
import io.raftlog.api.v1.AlterTopicConfigResponse;
import io.raftlog.api.v1.BrokerInfo;
import io.raftlog.api.v1.CreatePartitionsRequest;
import io.raftlog.api.v1.CreatePartitionsResponse;
import io.raftlog.api.v1.CreateTopicRequest;
import io.raftlog.api.v1.CreateTopicResponse;
import io.raftlog.api.v1.DeleteTopicRequest;
import io.raftlog.api.v1.DeleteTopicResponse;
import io.raftlog.api.v1.DescribeClusterRequest;
import io.raftlog.api.v1.DescribeClusterResponse;
import io.raftlog.api.v1.DescribeTopicRequest;
import io.raftlog.api.v1.DescribeTopicResponse;
import io.raftlog.api.v1.ElectPreferredLeadersRequest;
import io.raftlog.api.v1.ElectPreferredLeadersResponse;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.ListTopicsRequest;
import io.raftlog.api.v1.ListTopicsResponse;
import io.raftlog.api.v1.PartitionDescription;
import io.raftlog.broker.BrokerException;
import io.raftlog.broker.config.BrokerConfig;
import io.raftlog.broker.metadata.MetadataClient;
import io.raftlog.broker.metadata.MetadataView;
import io.raftlog.internal.v1.LocalReplicaState;
import io.raftlog.log.v1.AlterTopicConfig;
import io.raftlog.log.v1.BrokerRecord;
import io.raftlog.log.v1.CreatePartitions;
import io.raftlog.log.v1.CreateTopic;
import io.raftlog.log.v1.DeleteTopic;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.ReplicaAssignment;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.metadata.Placement;
import io.raftlog.statemachine.metadata.ReplicaPlans;
import io.raftlog.statemachine.metadata.TopicConfig;
import io.raftlog.statemachine.metadata.TopicRules;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Topic administration. Validation happens here, before the metadata log; placement is computed
 * from this broker's view of live brokers and recorded in the CreateTopic command, so every broker
 * applies the same assignment.
 */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {

  private final String clusterId;
  private final int maxPartitionsPerTopic;
  private final TopicConfig.Defaults topicDefaults;
  private final MetadataView metadata;
  private final MetadataClient metadataClient;
  private final ReplicaStates replicaStates;
  private final Supplier<Integer> metadataLeaderId;
  private final PreferredLeaderElector leaderElector;

  public AdminServiceImpl(String clusterId, BrokerConfig config, MetadataView metadata, MetadataClient metadataClient,
      ReplicaStates replicaStates, Supplier<Integer> metadataLeaderId, PreferredLeaderElector leaderElector) {
    this.leaderElector = leaderElector;
    this.clusterId = clusterId;
    this.maxPartitionsPerTopic = config.maxPartitionsPerTopic;
    this.topicDefaults = config.topicDefaults();
    this.metadata = metadata;
    this.metadataClient = metadataClient;
    this.replicaStates = replicaStates;
    this.metadataLeaderId = metadataLeaderId;
  }

  @Override
  public void createTopic(CreateTopicRequest request, StreamObserver<CreateTopicResponse> response) {
    String what = "create topic '" + request.getName() + "'";
    try {
      String problem = TopicRules.checkName(request.getName());
      if (problem == null && request.getPartitions() > maxPartitionsPerTopic) {
        // Refused here, before any Raft group is started: each partition is one on every replica.
        problem = "number of partitions must be at most " + maxPartitionsPerTopic + " ("
            + BrokerConfig.MAX_PARTITIONS_PER_TOPIC + "), got " + request.getPartitions();
      }
      if (problem == null) {
        problem = TopicRules.checkPartitions(request.getPartitions());
      }
      if (problem == null) {
        // The replication factor is judged against live brokers and the name against existing
        // topics: a view still replaying metadata after a restart would answer wrongly, so that
        // broker answers a retriable BROKER_NOT_AVAILABLE instead.
        metadata.requireCaughtUp();
      }
      List<Integer> live = metadata.placementBrokerIds();
      if (problem == null) {
        problem = checkReplicationFactor(request.getReplicationFactor(), live.size());
      }
      Map<String, String> configs = trimmedValues(request.getConfigMap());
      if (problem == null) {
        problem = TopicConfig.check(configs, topicDefaults);
      }
      if (problem != null) {
        throw GrpcErrors.invalid(problem);
      }
      if (metadata.topic(request.getName()).isPresent()) {
        throw new BrokerException(ErrorCode.TOPIC_ALREADY_EXISTS, "topic '" + request.getName() + "' already exists");
      }
      List<List<Integer>> placement = Placement.assign(request.getPartitions(), request.getReplicationFactor(), live,
          metadata.image().getTopicsCount() + metadata.image().getDeletedTopicIdsCount());
      String topicId = UUID.randomUUID().toString();
      CreateTopic.Builder create = CreateTopic.newBuilder().setName(request.getName()).setTopicId(topicId)
          .setReplicationFactor(request.getReplicationFactor()).putAllConfig(configs);
      for (int p = 0; p < placement.size(); p++) {
        create.addAssignments(ReplicaAssignment.newBuilder().setPartition(p).addAllReplicas(placement.get(p)));
      }
      submit(MetadataCommand.newBuilder().setCreateTopic(create), what).whenComplete((reply, error) -> {
        if (error != null) {
          response.onError(GrpcErrors.toStatus(error, what));
        } else {
          response.onNext(CreateTopicResponse.newBuilder().setName(request.getName()).setTopicId(topicId).build());
          response.onCompleted();
        }
      });
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, what));
    }
  }

  @Override
  public void deleteTopic(DeleteTopicRequest request, StreamObserver<DeleteTopicResponse> response) {
    String what = "delete topic '" + request.getName() + "'";
    try {
      // A name no topic can have never reaches the metadata log. A valid name this broker does
      // not know still goes there: the metadata group, not a possibly lagging view, decides.
      MetadataView.requireValidName(request.getName());
    } catch (BrokerException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    submit(MetadataCommand.newBuilder().setDeleteTopic(DeleteTopic.newBuilder().setName(request.getName())), what)
        .whenComplete((reply, error) -> {
          if (error != null) {
            response.onError(GrpcErrors.toStatus(error, what));
          } else {
            response.onNext(DeleteTopicResponse.getDefaultInstance());
            response.onCompleted();
          }
        });
  }

  @Override
  public void alterTopicConfig(AlterTopicConfigRequest request, StreamObserver<AlterTopicConfigResponse> response) {
    String what = "alter config of topic '" + request.getName() + "'";
    AlterTopicConfig alter;
    try {
      // Like deleteTopic: an impossible name never reaches the metadata log, an unknown topic is
      // for the metadata group to say (a lagging view could be wrong).
      MetadataView.requireValidName(request.getName());
      Map<String, String> set = trimmedValues(request.getSetMap());
      Set<String> remove = new LinkedHashSet<>(request.getRemoveList());
      String problem = checkAlteration(set, remove, topicDefaults);
      if (problem != null) {
        throw GrpcErrors.invalid(problem);
      }
      alter = AlterTopicConfig.newBuilder().setName(request.getName()).putAllSet(set).addAllRemove(remove).build();
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    submit(MetadataCommand.newBuilder().setAlterTopicConfig(alter), what).whenComplete((reply, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, what));
      } else {
        response.onNext(AlterTopicConfigResponse.newBuilder().putAllConfigOverrides(reply.getTopicConfigMap()).build());
        response.onCompleted();
      }
    });
  }

  /**
   * What is wrong with a requested change of topic configs, or null: it must change something,
   * not both set and remove a key, and every key and value must pass {@link TopicConfig}.
   */
  static String checkAlteration(Map<String, String> set, Set<String> remove, TopicConfig.Defaults defaults) {
    if (set.isEmpty() && remove.isEmpty()) {
      return "nothing to change: give at least one config to set or to remove";
    }
    for (String key : new TreeMap<>(set).keySet()) {
      if (remove.contains(key)) {
        return "topic config '" + key + "' is both set and removed; do one or the other";
      }
    }
    String problem = TopicConfig.check(set, defaults);
    return problem != null ? problem : TopicConfig.checkRemovable(remove);
  }

  /** Values without surrounding blanks, as they are stored (a value typed as " 1000" means 1000). */
  private static Map<String, String> trimmedValues(Map<String, String> configs) {
    Map<String, String> trimmed = new TreeMap<>();
    configs.forEach((k, v) -> trimmed.put(k, v.trim()));
    return trimmed;
  }

  private CompletableFuture<MetadataReply> submit(MetadataCommand.Builder command, String what) {
    return metadataClient.submit(command)
        .exceptionallyCompose(e -> CompletableFuture.failedFuture(new BrokerException(ErrorCode.BROKER_NOT_AVAILABLE,
            what + ": the metadata group is not reachable (" + e.getMessage() + ")")))
        .thenApply(reply -> switch (reply.getStatus()) {
          case METADATA_OK -> reply;
          case METADATA_TOPIC_ALREADY_EXISTS -> throw new BrokerException(ErrorCode.TOPIC_ALREADY_EXISTS, reply.getMessage());
          case METADATA_UNKNOWN_TOPIC -> throw new BrokerException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, reply.getMessage());
          default -> throw GrpcErrors.invalid(reply.getMessage());
        });
  }

  @Override
  public void listTopics(ListTopicsRequest request, StreamObserver<ListTopicsResponse> response) {
    try {
      metadata.requireCaughtUp();
    } catch (BrokerException e) {
      response.onError(GrpcErrors.toStatus(e, "list topics"));
      return;
    }
    ListTopicsResponse.Builder b = ListTopicsResponse.newBuilder();
    metadata.image().getTopicsList().stream().map(TopicRecord::getName).sorted().forEach(b::addNames);
    response.onNext(b.build());
    response.onCompleted();
  }

  @Override
  public void describeTopic(DescribeTopicRequest request, StreamObserver<DescribeTopicResponse> response) {
    String what = "describe topic '" + request.getName() + "'";
    TopicRecord topic;
    try {
      topic = metadata.requireTopic(request.getName());
    } catch (BrokerException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    replicaStates.collect(topic.getName()).whenComplete((states, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, what));
        return;
      }
      DescribeTopicResponse.Builder b = DescribeTopicResponse.newBuilder().setName(topic.getName())
          .setTopicId(topic.getTopicId()).setReplicationFactor(topic.getReplicationFactor())
          .putAllConfig(TopicConfig.resolve(topic.getConfigMap(), topicDefaults).asMap())
          .putAllConfigOverrides(topic.getConfigMap());
      for (ReplicaAssignment a : topic.getAssignmentsList()) {
        LocalReplicaState s = states.get(new ReplicaStates.TopicPartitionKey(topic.getName(), a.getPartition()));
        PartitionDescription.Builder pd = PartitionDescription.newBuilder().setPartition(a.getPartition())
            .addAllReplicas(a.getReplicasList()).addAllTargetReplicas(a.getTargetReplicasList()).setLeaderId(-1);
        if (s != null) {
          pd.setLeaderId(s.getIsLeader() ? s.getLeaderId() : -1).addAllIsr(s.getIsrList())
              .setLogStartOffset(s.getLogStartOffset()).setLogEndOffset(s.getLogEndOffset());
        }
        b.addPartitions(pd);
      }
      response.onNext(b.build());
      response.onCompleted();
    });
  }

  /**
   * Preferred leader election on demand. The targets come from this broker's metadata view (a
   * topic it does not know yet is NOT_FOUND); the leaders and in-sync replicas from the replicas'
   * own reports, as for describe.
   */
  @Override
  public void electPreferredLeaders(ElectPreferredLeadersRequest request,
      StreamObserver<ElectPreferredLeadersResponse> response) {
    String what = request.getTopic().isEmpty() ? "elect preferred leaders"
        : "elect preferred leaders of topic '" + request.getTopic() + "'";
    List<PreferredLeaderElector.Target> targets = new ArrayList<>();
    try {
      if (request.getTopic().isEmpty()) {
        if (request.getPartitionsCount() > 0) {
          throw GrpcErrors.invalid("partitions were given without a topic; name the topic, or give neither"
              + " to elect for every partition of every topic");
        }
        for (TopicRecord t : metadata.image().getTopicsList()) {
          for (ReplicaAssignment a : t.getAssignmentsList()) {
            targets.add(new PreferredLeaderElector.Target(t, a.getPartition()));
          }
        }
      } else {
        String problem = TopicRules.checkName(request.getTopic());
        if (problem != null) {
          throw GrpcErrors.invalid(problem);
        }
        TopicRecord topic = metadata.requireTopic(request.getTopic());
        if (request.getPartitionsCount() == 0) {
          topic.getAssignmentsList().forEach(a -> targets.add(new PreferredLeaderElector.Target(topic, a.getPartition())));
        } else {
          for (int p : new java.util.TreeSet<>(request.getPartitionsList())) {
            if (p < 0 || p >= topic.getAssignmentsCount()) {
              throw GrpcErrors.invalid("topic '" + topic.getName() + "' has partitions 0 to "
                  + (topic.getAssignmentsCount() - 1) + "; got partition " + p);
            }
            targets.add(new PreferredLeaderElector.Target(topic, p));
          }
        }
      }
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    targets.sort(java.util.Comparator.comparing((PreferredLeaderElector.Target t) -> t.topic().getName())
        .thenComparingInt(PreferredLeaderElector.Target::partition));
    replicaStates.collect(request.getTopic())
        .thenCompose(states -> leaderElector.elect(targets, states))
        .whenComplete((results, error) -> {
          if (error != null) {
            response.onError(GrpcErrors.toStatus(error, what));
            return;
          }
          response.onNext(ElectPreferredLeadersResponse.newBuilder().addAllResults(results).build());
          response.onCompleted();
        });
  }

  @Override
  public void describeCluster(DescribeClusterRequest request, StreamObserver<DescribeClusterResponse> response) {
    MetadataImage image = metadata.image();
    DescribeClusterResponse.Builder b = DescribeClusterResponse.newBuilder().setClusterId(clusterId)
        .setMetadataLeaderId(metadataLeaderId.get());
    image.getBrokersList().forEach(br -> b.addBrokers(BrokerInfo.newBuilder().setBrokerId(br.getBrokerId())
        .setHost(br.getHost()).setPort(br.getPort()).setRaftPort(br.getRaftPort()).setAlive(metadata.isAlive(br))
        .setDecommissioned(br.getDecommissioned())));
    // Leaders and in-sync replicas as the live brokers report them (a broker that does not answer
    // in time counts as leading nothing).
    replicaStates.collect("").whenComplete((states, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, "describe cluster"));
        return;
      }
      ClusterOverview.Result overview = ClusterOverview.compute(
          image.getBrokersList().stream().map(BrokerRecord::getBrokerId).toList(), image.getTopicsList(), states);
      b.addAllBrokerLoads(overview.loads()).addAllUnderReplicatedPartitions(overview.underReplicated());
      response.onNext(b.build());
      response.onCompleted();
    });
  }

  /**
   * Adds partitions to a topic (Kafka's CreatePartitions: {@code total_count} is the new total).
   * Checked here against this broker's view, like createTopic: the topic must exist, the count must
   * grow and stay within {@code max.partitions.per.topic}, and enough brokers must be live for the
   * topic's replication factor. The placement of the new partitions ({@link Placement#assignAdded})
   * goes into the command, and the metadata group checks on apply that the topic and its count are
   * still the ones seen here.
   */
  @Override
  public void createPartitions(CreatePartitionsRequest request, StreamObserver<CreatePartitionsResponse> response) {
    String what = "add partitions to topic '" + request.getName() + "'";
    CreatePartitions.Builder create;
    int previous;
    try {
      TopicRecord topic = metadata.requireTopic(request.getName());
      previous = topic.getAssignmentsCount();
      int total = request.getTotalCount();
      String problem = null;
      if (total <= previous) {
        problem = "topic '" + topic.getName() + "' has " + previous + " partition" + (previous == 1 ? "" : "s")
            + "; the count can only grow: give a new total above " + previous + ", got " + total;
      } else if (total > maxPartitionsPerTopic) {
        problem = "number of partitions must be at most " + maxPartitionsPerTopic + " ("
            + BrokerConfig.MAX_PARTITIONS_PER_TOPIC + "), got " + total;
      } else {
        problem = TopicRules.checkPartitions(total);
      }
      if (problem == null) {
        // Live brokers are judged from this view: a view still replaying metadata would miss some.
        metadata.requireCaughtUp();
      }
      List<Integer> live = metadata.placementBrokerIds();
      if (problem == null) {
        problem = checkReplicationFactor(topic.getReplicationFactor(), live.size());
        if (problem != null) {
          problem = "cannot place the new partitions of topic '" + topic.getName() + "': " + problem;
        }
      }
      if (problem != null) {
        throw GrpcErrors.invalid(problem);
      }
      List<List<Integer>> existing = topic.getAssignmentsList().stream().map(a -> List.copyOf(ReplicaPlans.effective(a)))
          .toList();
      List<List<Integer>> placement = Placement.assignAdded(existing, total, topic.getReplicationFactor(), live);
      create = CreatePartitions.newBuilder().setName(topic.getName()).setTopicId(topic.getTopicId());
      for (int i = 0; i < placement.size(); i++) {
        create.addAssignments(ReplicaAssignment.newBuilder().setPartition(previous + i).addAllReplicas(placement.get(i)));
      }
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    int count = previous + create.getAssignmentsCount();
    submit(MetadataCommand.newBuilder().setCreatePartitions(create), what).whenComplete((reply, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, what));
      } else {
        response.onNext(CreatePartitionsResponse.newBuilder().setName(request.getName()).setPreviousCount(previous)
            .setCount(count).build());
        response.onCompleted();
      }
    });
  }

  // ---- Reassignment ----------------------------------------------------------------------------

  @Override
  public void reassignPartitions(ReassignPartitionsRequest request, StreamObserver<ReassignPartitionsResponse> response) {
    String what = (request.getCancel() ? "cancel reassignment of" : "reassign") + " partitions of topic '"
        + request.getTopic() + "'";
    ReassignmentPlanner.Plan plan;
    try {
      TopicRecord topic = caughtUpTopic(request.getTopic());
      plan = planned(() -> ReassignmentPlanner.reassign(topic, request, metadata.image().getBrokersList(),
          metadata.placementBrokerIds()));
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    submit(MetadataCommand.newBuilder().setReassignPartitions(plan.command()), what).whenComplete((reply, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, what));
      } else {
        response.onNext(ReassignPartitionsResponse.newBuilder().addAllReassignments(plan.reassignments()).build());
        response.onCompleted();
      }
    });
  }

  @Override
  public void listPartitionReassignments(ListPartitionReassignmentsRequest request,
      StreamObserver<ListPartitionReassignmentsResponse> response) {
    try {
      if (!request.getTopic().isEmpty()) {
        caughtUpTopic(request.getTopic());
      } else {
        metadata.requireCaughtUp();
      }
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, "list partition reassignments"));
      return;
    }
    response.onNext(ListPartitionReassignmentsResponse.newBuilder()
        .addAllReassignments(ReassignmentPlanner.underWay(metadata.image(), request.getTopic())).build());
    response.onCompleted();
  }

  /**
   * {@link TopicRules#checkReplicationFactor}, naming the brokers not counted and why, so an
   * operator can tell a stopped broker from one whose heartbeats are late.
   */
  private String checkReplicationFactor(int replicationFactor, int placeable) {
    String problem = TopicRules.checkReplicationFactor(replicationFactor, placeable);
    String reasons = problem == null || replicationFactor < 1 ? "" : metadata.notPlaceableReasons();
    return reasons.isEmpty() ? problem : problem + "; not counted: " + reasons;
  }

  @Override
  public void alterReplicationFactor(AlterReplicationFactorRequest request,
      StreamObserver<AlterReplicationFactorResponse> response) {
    String what = "change the replication factor of topic '" + request.getTopic() + "' to "
        + request.getReplicationFactor();
    ReassignmentPlanner.Plan plan;
    try {
      TopicRecord topic = caughtUpTopic(request.getTopic());
      String problem = checkReplicationFactor(request.getReplicationFactor(), metadata.placementBrokerIds().size());
      if (problem != null) {
        throw GrpcErrors.invalid(problem);
      }
      plan = planned(() -> ReassignmentPlanner.replicationFactor(topic, request.getReplicationFactor(),
          metadata.image(), metadata.placementBrokerIds()));
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    if (plan.reassignments().isEmpty()) {
      response.onNext(AlterReplicationFactorResponse.getDefaultInstance());
      response.onCompleted();
      return;
    }
    submit(MetadataCommand.newBuilder().setReassignPartitions(plan.command()), what).whenComplete((reply, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, what));
      } else {
        response.onNext(AlterReplicationFactorResponse.newBuilder().addAllReassignments(plan.reassignments()).build());
        response.onCompleted();
      }
    });
  }

  /**
   * Marks the broker decommissioned, then proposes one reassignment per topic that has replicas on
   * it. Every plan is made before anything is proposed, so a broker whose replicas cannot all move
   * is refused untouched.
   */
  @Override
  public void decommissionBroker(DecommissionBrokerRequest request, StreamObserver<DecommissionBrokerResponse> response) {
    int id = request.getBrokerId();
    String what = (request.getRecommission() ? "recommission" : "decommission") + " broker " + id;
    List<ReassignmentPlanner.Plan> plans;
    try {
      metadata.requireCaughtUp();
      if (metadata.broker(id).isEmpty()) {
        throw GrpcErrors.invalid("broker " + id + " is not registered; registered brokers: "
            + metadata.image().getBrokersList().stream().map(BrokerRecord::getBrokerId).toList());
      }
      plans = request.getRecommission() ? List.of()
          : planned(() -> ReassignmentPlanner.decommission(metadata.image(), id, metadata.placementBrokerIds()));
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e, what));
      return;
    }
    CompletableFuture<MetadataReply> done = submit(MetadataCommand.newBuilder().setSetBrokerDecommissioned(
        SetBrokerDecommissioned.newBuilder().setBrokerId(id).setDecommissioned(!request.getRecommission())), what);
    List<PartitionReassignment> moved = new ArrayList<>();
    for (ReassignmentPlanner.Plan plan : plans) {
      done = done.thenCompose(r -> submit(MetadataCommand.newBuilder().setReassignPartitions(plan.command()), what));
      moved.addAll(plan.reassignments());
    }
    done.whenComplete((reply, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error, what));
      } else {
        response.onNext(DecommissionBrokerResponse.newBuilder().addAllReassignments(moved).build());
        response.onCompleted();
      }
    });
  }

  /** The topic from a caught-up view (an admin change planned on a lagging view could undo others). */
  private TopicRecord caughtUpTopic(String name) {
    String problem = TopicRules.checkName(name);
    if (problem != null) {
      throw GrpcErrors.invalid(problem);
    }
    metadata.requireCaughtUp();
    return metadata.requireTopic(name);
  }

  /** Runs a planner, turning its refusals into INVALID_ARGUMENT. */
  private static <T> T planned(Supplier<T> planner) {
    try {
      return planner.get();
    } catch (IllegalArgumentException e) {
      throw GrpcErrors.invalid(e.getMessage());
    }
  }
}
