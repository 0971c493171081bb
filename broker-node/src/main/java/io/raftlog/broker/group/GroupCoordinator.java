package io.raftlog.broker.group;

import io.raftlog.api.v1.CommitOffsetsRequest;
import io.raftlog.api.v1.CommittedOffset;
import io.raftlog.api.v1.DescribeGroupResponse;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FetchOffsetsRequest;
import io.raftlog.api.v1.FetchOffsetsResponse;
import io.raftlog.api.v1.GroupHeartbeatRequest;
import io.raftlog.api.v1.GroupHeartbeatResponse;
import io.raftlog.api.v1.GroupListing;
import io.raftlog.api.v1.GroupMemberDescription;
import io.raftlog.api.v1.ListGroupsResponse;
import io.raftlog.api.v1.OffsetCommit;
import io.raftlog.api.v1.ResetOffsetsRequest;
import io.raftlog.api.v1.ResetOffsetsResponse;
import io.raftlog.api.v1.TopicPartitions;
import io.raftlog.broker.BrokerException;
import io.raftlog.log.v1.ConsumerGroupRecord;
import io.raftlog.log.v1.GroupCommitOffsets;
import io.raftlog.log.v1.GroupDelete;
import io.raftlog.log.v1.GroupJoin;
import io.raftlog.log.v1.GroupLeave;
import io.raftlog.log.v1.GroupMemberRecord;
import io.raftlog.log.v1.GroupMemberUpdate;
import io.raftlog.log.v1.GroupOffset;
import io.raftlog.log.v1.GroupResetOffsets;
import io.raftlog.log.v1.MemberTarget;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.TopicPartitionSet;
import io.raftlog.log.v1.TopicRecord;
import io.raftlog.statemachine.group.Assignors;
import io.raftlog.statemachine.group.ConsumerGroups;
import io.raftlog.statemachine.group.GroupPartition;
import io.raftlog.statemachine.metadata.TopicRules;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group coordinator of this broker. Only the metadata leader coordinates; elsewhere every
 * call fails with NOT_COORDINATOR and a hint.
 *
 * <p>A heartbeat that changes nothing is answered from the applied group state and only renews
 * the member's session (in memory). A join, a leave, a subscription change or a confirmed
 * revocation becomes a command of the metadata log, answered after it is applied. Members whose
 * session runs out are expelled by {@link #tick}, also through the log.
 *
 * <p>Why answering from memory is safe: a deposed leader stops answering once Ratis steps it down
 * (about an election timeout after it loses its majority), while a new coordinator starts every
 * session afresh, so it expels nobody sooner than a session timeout after taking over; and
 * partition ownership only changes through the log, which a deposed leader cannot write.
 */
public final class GroupCoordinator {

  private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinator.class);
  /** Bounds on request sizes, so one request cannot make a huge log entry. */
  static final int MAX_SUBSCRIBED_TOPICS = 10_000;
  static final int MAX_OFFSETS_PER_COMMIT = 100_000;
  static final int MAX_CLIENT_ID_CHARS = 255;

  private final String prefix;
  private final GroupHost host;
  private final Clock clock;
  private final int defaultSessionTimeoutMs;
  private final int minSessionTimeoutMs;
  private final int maxSessionTimeoutMs;
  private final int heartbeatIntervalMs;
  private final MemberSessions sessions = new MemberSessions();
  private final Set<MemberSessions.MemberKey> expiring = new HashSet<>();
  private boolean coordinating;

  public GroupCoordinator(String prefix, GroupHost host, Clock clock, int defaultSessionTimeoutMs,
      int minSessionTimeoutMs, int maxSessionTimeoutMs, int heartbeatIntervalMs) {
    this.prefix = prefix;
    this.host = host;
    this.clock = clock;
    this.defaultSessionTimeoutMs = defaultSessionTimeoutMs;
    this.minSessionTimeoutMs = minSessionTimeoutMs;
    this.maxSessionTimeoutMs = maxSessionTimeoutMs;
    this.heartbeatIntervalMs = heartbeatIntervalMs;
  }

  // ---- heartbeat -------------------------------------------------------------------------------

  public CompletableFuture<GroupHeartbeatResponse> heartbeat(GroupHeartbeatRequest request) {
    String groupId = request.getGroupId();
    requireValid(ConsumerGroups.checkGroupId(groupId));
    requireValid(ConsumerGroups.checkMemberId(request.getMemberId()));
    requireValid(request.getMemberEpoch() < -1 ? "member epoch must be >= -1, got " + request.getMemberEpoch() : null);
    requireValid(request.getSubscribedTopicsCount() > MAX_SUBSCRIBED_TOPICS
        ? "at most " + MAX_SUBSCRIBED_TOPICS + " subscribed topics" : null);
    requireValid(request.getClientId().length() > MAX_CLIENT_ID_CHARS
        ? "client id is longer than " + MAX_CLIENT_ID_CHARS + " characters" : null);
    for (String topic : request.getSubscribedTopicsList()) {
      String problem = TopicRules.checkName(topic);
      requireValid(problem == null ? null : "subscribed topic: " + problem);
    }
    for (TopicPartitions tp : request.getOwnedPartitionsList()) {
      requireValid(tp.getPartitionsList().stream().anyMatch(p -> p < 0)
          ? "owned partition numbers must be >= 0 (topic '" + tp.getTopic() + "')" : null);
    }
    ConsumerGroups groups = requireCoordinator();
    MemberSessions.MemberKey key = new MemberSessions.MemberKey(groupId, request.getMemberId());
    if (request.getMemberEpoch() == -1) {
      return leave(groups, key);
    }
    if (request.getMemberEpoch() == 0) {
      return join(request, key);
    }
    ConsumerGroupRecord group = groups.group(groupId).orElse(null);
    GroupMemberRecord member = group == null ? null
        : ConsumerGroups.member(group, request.getMemberId()).orElse(null);
    if (member == null) {
      throw new BrokerException(ErrorCode.UNKNOWN_MEMBER_ID, "member " + request.getMemberId()
          + " is not in group '" + groupId + "' (expired after its session timeout, or never joined); rejoin with epoch 0");
    }
    if (request.getMemberEpoch() < member.getJoinEpoch() || request.getMemberEpoch() > member.getMemberEpoch()) {
      throw new BrokerException(ErrorCode.FENCED_MEMBER_EPOCH, "member " + member.getMemberId() + " sent epoch "
          + request.getMemberEpoch() + " but its epoch is " + member.getMemberEpoch() + "; rejoin with epoch 0");
    }
    touch(key, member.getSessionTimeoutMs());
    if (!changesSomething(request, member)) {
      return CompletableFuture.completedFuture(response(group, member));
    }
    GroupMemberUpdate.Builder update = GroupMemberUpdate.newBuilder().setGroupId(groupId)
        .setMemberId(member.getMemberId()).setMemberEpoch(request.getMemberEpoch())
        .addAllSubscribedTopics(request.getSubscribedTopicsList())
        .addAllOwnedPartitions(toLog(request.getOwnedPartitionsList()));
    return submit(MetadataCommand.newBuilder().setGroupMemberUpdate(update), "heartbeat of group '" + groupId + "'")
        .thenApply(reply -> responseFor(reply, request.getMemberId()));
  }

  private CompletableFuture<GroupHeartbeatResponse> join(GroupHeartbeatRequest request, MemberSessions.MemberKey key) {
    int timeout = request.getSessionTimeoutMs() == 0 ? defaultSessionTimeoutMs : request.getSessionTimeoutMs();
    requireValid(timeout < minSessionTimeoutMs || timeout > maxSessionTimeoutMs ? "session timeout " + timeout
        + " ms is outside the broker's bounds [" + minSessionTimeoutMs + ", " + maxSessionTimeoutMs + "] ms"
        + " (group.consumer.min/max.session.timeout.ms)" : null);
    requireValid(request.getAssignor().isEmpty() || Assignors.isKnown(request.getAssignor()) ? null
        : "unknown assignor '" + request.getAssignor() + "'; use one of: " + String.join(", ", Assignors.names()));
    GroupJoin.Builder join = GroupJoin.newBuilder().setGroupId(key.groupId()).setMemberId(key.memberId())
        .setClientId(request.getClientId()).addAllSubscribedTopics(request.getSubscribedTopicsList())
        .setSessionTimeoutMs(timeout).setAssignor(request.getAssignor());
    return submit(MetadataCommand.newBuilder().setGroupJoin(join), "join of group '" + key.groupId() + "'")
        .thenApply(reply -> {
          touch(key, timeout);
          GroupHeartbeatResponse response = responseFor(reply, key.memberId());
          LOG.info("[{}] member {} ({}) joined group '{}' at epoch {}", prefix, key.memberId(),
              request.getClientId(), key.groupId(), response.getMemberEpoch());
          return response;
        });
  }

  private CompletableFuture<GroupHeartbeatResponse> leave(ConsumerGroups groups, MemberSessions.MemberKey key) {
    GroupHeartbeatResponse left = GroupHeartbeatResponse.newBuilder().setMemberId(key.memberId())
        .setMemberEpoch(-1).build();
    boolean known = groups.group(key.groupId()).flatMap(g -> ConsumerGroups.member(g, key.memberId())).isPresent();
    if (!known) {
      return CompletableFuture.completedFuture(left); // leaving twice is fine
    }
    GroupLeave.Builder leave = GroupLeave.newBuilder().setGroupId(key.groupId()).setMemberId(key.memberId());
    return submit(MetadataCommand.newBuilder().setGroupLeave(leave), "leave of group '" + key.groupId() + "'")
        .handle((reply, error) -> {
          if (error != null && !(unwrap(error) instanceof BrokerException be && be.code() == ErrorCode.UNKNOWN_MEMBER_ID)) {
            throw new CompletionException(unwrap(error));
          }
          forget(key);
          LOG.info("[{}] member {} left group '{}'", prefix, key.memberId(), key.groupId());
          return left;
        });
  }

  /** True when the heartbeat must go through the log: a new subscription or given-up partitions. */
  private static boolean changesSomething(GroupHeartbeatRequest request, GroupMemberRecord member) {
    if (!new TreeSet<>(request.getSubscribedTopicsList()).equals(new TreeSet<>(member.getSubscribedTopicsList()))) {
      return true;
    }
    if (member.getPendingRevocationCount() == 0) {
      return false;
    }
    SortedSet<GroupPartition> stillOwned = toSet(request.getOwnedPartitionsList());
    SortedSet<GroupPartition> pending = ConsumerGroups.toSet(member.getPendingRevocationList());
    pending.removeAll(stillOwned);
    return !pending.isEmpty();
  }

  private GroupHeartbeatResponse responseFor(MetadataReply reply, String memberId) {
    ConsumerGroupRecord group = reply.getGroup();
    GroupMemberRecord member = ConsumerGroups.member(group, memberId).orElseThrow(() -> new BrokerException(
        ErrorCode.UNKNOWN_MEMBER_ID, "member " + memberId + " is no longer in group '" + group.getGroupId() + "'"));
    return response(group, member);
  }

  private GroupHeartbeatResponse response(ConsumerGroupRecord group, GroupMemberRecord member) {
    return GroupHeartbeatResponse.newBuilder().setMemberId(member.getMemberId())
        .setMemberEpoch(member.getMemberEpoch()).setGroupEpoch(group.getGroupEpoch())
        .setHeartbeatIntervalMs(Math.max(1, Math.min(heartbeatIntervalMs, member.getSessionTimeoutMs() / 3)))
        .addAllAssignment(toApi(ConsumerGroups.currentAssignment(member))).build();
  }

  // ---- offsets ---------------------------------------------------------------------------------

  public CompletableFuture<Void> commitOffsets(CommitOffsetsRequest request) {
    requireValid(ConsumerGroups.checkGroupId(request.getGroupId()));
    requireValid(request.getOffsetsCount() > MAX_OFFSETS_PER_COMMIT
        ? "at most " + MAX_OFFSETS_PER_COMMIT + " offsets per commit" : null);
    boolean outsider = request.getMemberId().isEmpty();
    requireValid(outsider && request.getMemberEpoch() != -1
        ? "a commit without member id must carry member epoch -1" : null);
    List<GroupOffset> offsets = new ArrayList<>();
    for (OffsetCommit o : request.getOffsetsList()) {
      offsets.add(GroupOffset.newBuilder().setTopic(o.getTopic()).setPartition(o.getPartition())
          .setOffset(o.getOffset()).setMetadata(o.getMetadata()).build());
    }
    requireValid(ConsumerGroups.checkOffsets(offsets, host.topics()));
    requireCoordinator();
    if (offsets.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    GroupCommitOffsets.Builder commit = GroupCommitOffsets.newBuilder().setGroupId(request.getGroupId())
        .setMemberId(request.getMemberId()).setMemberEpoch(request.getMemberEpoch()).addAllOffsets(offsets);
    return submit(MetadataCommand.newBuilder().setGroupCommitOffsets(commit), "offset commit of group '"
        + request.getGroupId() + "'").thenApply(reply -> null);
  }

  public FetchOffsetsResponse fetchOffsets(FetchOffsetsRequest request) {
    requireValid(ConsumerGroups.checkGroupId(request.getGroupId()));
    ConsumerGroups groups = requireCoordinator();
    Map<GroupPartition, GroupOffset> committed = new TreeMap<>();
    groups.group(request.getGroupId()).ifPresent(g -> g.getOffsetsList().forEach(o ->
        committed.put(new GroupPartition(o.getTopic(), o.getPartition()), o)));
    FetchOffsetsResponse.Builder b = FetchOffsetsResponse.newBuilder();
    if (request.getPartitionsCount() == 0) {
      committed.values().forEach(o -> b.addOffsets(toApi(o)));
      return b.build();
    }
    for (GroupPartition p : toSet(request.getPartitionsList())) {
      GroupOffset o = committed.get(p);
      b.addOffsets(o != null ? toApi(o) : CommittedOffset.newBuilder().setTopic(p.topic())
          .setPartition(p.partition()).setOffset(-1).build());
    }
    return b.build();
  }

  // ---- administration --------------------------------------------------------------------------

  public ListGroupsResponse listGroups() {
    ConsumerGroups groups = requireCoordinator();
    ListGroupsResponse.Builder b = ListGroupsResponse.newBuilder();
    for (ConsumerGroupRecord g : groups.all()) {
      b.addGroups(GroupListing.newBuilder().setGroupId(g.getGroupId()).setState(ConsumerGroups.state(g))
          .setMembers(g.getMembersCount()));
    }
    return b.build();
  }

  public DescribeGroupResponse describeGroup(String groupId) {
    requireValid(ConsumerGroups.checkGroupId(groupId));
    ConsumerGroupRecord g = requireCoordinator().group(groupId).orElseThrow(() ->
        new BrokerException(ErrorCode.GROUP_ID_NOT_FOUND, "group '" + groupId + "' does not exist"));
    Map<String, List<TopicPartitionSet>> targets = new TreeMap<>();
    for (MemberTarget t : g.getTargetAssignmentList()) {
      targets.put(t.getMemberId(), t.getPartitionsList());
    }
    DescribeGroupResponse.Builder b = DescribeGroupResponse.newBuilder().setGroupId(groupId)
        .setState(ConsumerGroups.state(g)).setGroupEpoch(g.getGroupEpoch()).setAssignor(g.getAssignor());
    for (GroupMemberRecord m : g.getMembersList()) {
      b.addMembers(GroupMemberDescription.newBuilder().setMemberId(m.getMemberId()).setClientId(m.getClientId())
          .setMemberEpoch(m.getMemberEpoch()).addAllSubscribedTopics(m.getSubscribedTopicsList())
          .addAllAssignment(toApi(ConsumerGroups.toSet(m.getAssignedList())))
          .addAllPendingRevocation(toApi(ConsumerGroups.toSet(m.getPendingRevocationList())))
          .addAllTargetAssignment(toApi(ConsumerGroups.toSet(targets.getOrDefault(m.getMemberId(), List.of()))))
          .setSessionTimeoutMs(m.getSessionTimeoutMs()));
    }
    g.getOffsetsList().forEach(o -> b.addOffsets(toApi(o)));
    return b.build();
  }

  public CompletableFuture<Void> deleteGroup(String groupId) {
    requireValid(ConsumerGroups.checkGroupId(groupId));
    requireCoordinator();
    return submit(MetadataCommand.newBuilder().setGroupDelete(GroupDelete.newBuilder().setGroupId(groupId)),
        "delete of group '" + groupId + "'").thenApply(reply -> {
          LOG.info("[{}] deleted group '{}'", prefix, groupId);
          return null;
        });
  }

  /**
   * Resolves earliest/latest (from each partition's leader) or clamps a given offset into
   * [log start, log end], like Kafka's reset tool, then stores the offsets through the log.
   */
  public CompletableFuture<ResetOffsetsResponse> resetOffsets(ResetOffsetsRequest request) {
    String groupId = request.getGroupId();
    requireValid(ConsumerGroups.checkGroupId(groupId));
    requireValid(request.getToCase() == ResetOffsetsRequest.ToCase.TO_NOT_SET
        ? "say where to reset to: to_earliest, to_latest or to_offset" : null);
    requireValid(request.getToCase() == ResetOffsetsRequest.ToCase.TO_OFFSET && request.getToOffset() < 0
        ? "to_offset must be >= 0, got " + request.getToOffset() : null);
    TopicRecord topic = host.topics().getTopicsList().stream().filter(t -> t.getName().equals(request.getTopic()))
        .findFirst().orElseThrow(() -> new BrokerException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            "topic '" + request.getTopic() + "' does not exist"));
    int count = topic.getAssignmentsCount();
    List<Integer> partitions = request.getPartitionsCount() == 0
        ? java.util.stream.IntStream.range(0, count).boxed().toList() : List.copyOf(new TreeSet<>(request.getPartitionsList()));
    for (int p : partitions) {
      requireValid(p < 0 || p >= count ? "partition " + p + " does not exist: topic '" + topic.getName()
          + "' has " + count + " partitions" : null);
    }
    ConsumerGroups groups = requireCoordinator();
    groups.group(groupId).ifPresent(g -> {
      if (g.getMembersCount() > 0) {
        throw new BrokerException(ErrorCode.GROUP_NOT_EMPTY, "group '" + groupId + "' has " + g.getMembersCount()
            + " active members; stop its consumers first");
      }
    });
    return host.partitionOffsets(topic.getName()).thenCompose(known -> {
      GroupResetOffsets.Builder reset = GroupResetOffsets.newBuilder().setGroupId(groupId);
      for (int p : partitions) {
        GroupHost.PartitionOffsets o = known.get(p);
        if (o == null) {
          throw new BrokerException(ErrorCode.LEADER_NOT_AVAILABLE, "partition " + topic.getName() + "-" + p
              + " has no leader right now; retry");
        }
        long offset = switch (request.getToCase()) {
          case TO_EARLIEST -> o.logStartOffset();
          case TO_LATEST -> o.logEndOffset();
          default -> Math.max(o.logStartOffset(), Math.min(o.logEndOffset(), request.getToOffset()));
        };
        reset.addOffsets(GroupOffset.newBuilder().setTopic(topic.getName()).setPartition(p).setOffset(offset));
      }
      return submit(MetadataCommand.newBuilder().setGroupResetOffsets(reset), "offset reset of group '" + groupId + "'");
    }).thenApply(reply -> {
      ResetOffsetsResponse.Builder b = ResetOffsetsResponse.newBuilder();
      Set<Integer> wanted = new HashSet<>(partitions);
      reply.getGroup().getOffsetsList().stream()
          .filter(o -> o.getTopic().equals(topic.getName()) && wanted.contains(o.getPartition()))
          .forEach(o -> b.addOffsets(toApi(o)));
      LOG.info("[{}] reset offsets of group '{}' on topic '{}' ({} partitions)", prefix, groupId, topic.getName(),
          partitions.size());
      return b.build();
    });
  }

  // ---- sessions --------------------------------------------------------------------------------

  /**
   * Called periodically: tracks coordinatorship and expels members whose session ran out. A
   * broker that just became coordinator starts every member's session afresh.
   */
  public void tick() {
    boolean now = host.isCoordinator();
    List<MemberSessions.MemberKey> expired;
    synchronized (this) {
      if (!now) {
        if (coordinating) {
          LOG.info("[{}] no longer the group coordinator", prefix);
        }
        coordinating = false;
        sessions.clear();
        expiring.clear();
        return;
      }
      ConsumerGroups groups = host.groups();
      long t = clock.millis();
      Set<MemberSessions.MemberKey> members = new HashSet<>();
      for (ConsumerGroupRecord g : groups.all()) {
        for (GroupMemberRecord m : g.getMembersList()) {
          MemberSessions.MemberKey key = new MemberSessions.MemberKey(g.getGroupId(), m.getMemberId());
          members.add(key);
          sessions.trackIfAbsent(key, m.getSessionTimeoutMs(), t);
        }
      }
      sessions.retainOnly(members);
      expiring.retainAll(members);
      if (!coordinating) {
        coordinating = true;
        LOG.info("[{}] now the group coordinator: {} groups, {} members (sessions start now)", prefix,
            groups.all().size(), members.size());
      }
      expired = sessions.expired(t).stream().filter(expiring::add).toList();
    }
    for (MemberSessions.MemberKey key : expired) {
      GroupLeave.Builder leave = GroupLeave.newBuilder().setGroupId(key.groupId()).setMemberId(key.memberId())
          .setExpired(true);
      host.submit(MetadataCommand.newBuilder().setGroupLeave(leave)).whenComplete((reply, error) -> {
        synchronized (this) {
          expiring.remove(key);
          if (error == null) {
            sessions.remove(key);
          }
        }
        if (error != null) {
          LOG.warn("[{}] could not expel member {} of group '{}': {}", prefix, key.memberId(), key.groupId(),
              error.toString());
        } else {
          LOG.info("[{}] expelled member {} of group '{}' after its session timeout; its partitions move to the"
              + " other members", prefix, key.memberId(), key.groupId());
        }
      });
    }
  }

  private synchronized void touch(MemberSessions.MemberKey key, long sessionTimeoutMs) {
    sessions.touch(key, sessionTimeoutMs, clock.millis());
  }

  private synchronized void forget(MemberSessions.MemberKey key) {
    sessions.remove(key);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private ConsumerGroups requireCoordinator() {
    ConsumerGroups groups = host.groups();
    if (groups != null && host.isCoordinator()) {
      return groups;
    }
    int id = host.coordinatorId();
    if (id < 0) {
      throw new BrokerException(ErrorCode.COORDINATOR_NOT_AVAILABLE,
          "no group coordinator right now (metadata leader election in progress); retry");
    }
    throw new BrokerException(ErrorCode.NOT_COORDINATOR, "this broker is not the group coordinator; broker "
        + id + " is", id);
  }

  private CompletableFuture<MetadataReply> submit(MetadataCommand.Builder command, String what) {
    return host.submit(command).handle((reply, error) -> {
      if (error != null) {
        Throwable cause = unwrap(error);
        if (cause instanceof BrokerException be) {
          throw be;
        }
        throw new BrokerException(ErrorCode.COORDINATOR_NOT_AVAILABLE, what + " could not be stored in the"
            + " metadata log (" + cause.getMessage() + "); retry");
      }
      ErrorCode code = switch (reply.getStatus()) {
        case METADATA_OK -> ErrorCode.NONE;
        case METADATA_UNKNOWN_MEMBER -> ErrorCode.UNKNOWN_MEMBER_ID;
        case METADATA_FENCED_MEMBER_EPOCH -> ErrorCode.FENCED_MEMBER_EPOCH;
        case METADATA_STALE_MEMBER_EPOCH -> ErrorCode.STALE_MEMBER_EPOCH;
        case METADATA_GROUP_NOT_EMPTY -> ErrorCode.GROUP_NOT_EMPTY;
        case METADATA_UNKNOWN_GROUP -> ErrorCode.GROUP_ID_NOT_FOUND;
        case METADATA_UNKNOWN_TOPIC -> ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        default -> ErrorCode.INVALID_ARGUMENT;
      };
      if (code != ErrorCode.NONE) {
        throw new BrokerException(code, reply.getMessage());
      }
      return reply;
    });
  }

  private static Throwable unwrap(Throwable t) {
    Throwable cause = t;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  private static void requireValid(String problem) {
    if (problem != null) {
      throw new BrokerException(ErrorCode.INVALID_ARGUMENT, problem);
    }
  }

  static SortedSet<GroupPartition> toSet(List<TopicPartitions> list) {
    SortedSet<GroupPartition> out = new TreeSet<>();
    list.forEach(tp -> tp.getPartitionsList().forEach(p -> out.add(new GroupPartition(tp.getTopic(), p))));
    return out;
  }

  private static List<TopicPartitionSet> toLog(List<TopicPartitions> list) {
    return ConsumerGroups.toSets(toSet(list));
  }

  static List<TopicPartitions> toApi(SortedSet<GroupPartition> partitions) {
    List<TopicPartitions> out = new ArrayList<>();
    for (TopicPartitionSet s : ConsumerGroups.toSets(partitions)) {
      out.add(TopicPartitions.newBuilder().setTopic(s.getTopic()).addAllPartitions(s.getPartitionsList()).build());
    }
    return out;
  }

  private static CommittedOffset toApi(GroupOffset o) {
    return CommittedOffset.newBuilder().setTopic(o.getTopic()).setPartition(o.getPartition()).setOffset(o.getOffset())
        .setMetadata(o.getMetadata()).setCommitTimestampMs(o.getCommitTimestampMs()).build();
  }
}
