package io.raftlog.statemachine.group;

import io.raftlog.log.v1.ConsumerGroupRecord;
import io.raftlog.log.v1.GroupCommitOffsets;
import io.raftlog.log.v1.GroupJoin;
import io.raftlog.log.v1.GroupMemberRecord;
import io.raftlog.log.v1.GroupMemberUpdate;
import io.raftlog.log.v1.GroupOffset;
import io.raftlog.log.v1.MemberTarget;
import io.raftlog.log.v1.MetadataCommand;
import io.raftlog.log.v1.MetadataImage;
import io.raftlog.log.v1.MetadataReply;
import io.raftlog.log.v1.MetadataStatus;
import io.raftlog.log.v1.TopicPartitionSet;
import io.raftlog.log.v1.TopicRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Every consumer group as a deterministic function of the metadata log: members, the target
 * assignment computed by the group's assignor, each member's current assignment, and committed
 * offsets.
 *
 * <p><b>Reconciliation</b> (the rule that keeps two members from owning a partition at once): a
 * membership, subscription or topic change bumps the group epoch and computes a new target. A
 * member that owns partitions outside its target is asked to give them up ({@code
 * pending_revocation}) and keeps its old epoch until it confirms; a member with nothing to give
 * up moves to the group epoch and gains the partitions of its target that no other member still
 * holds. So a partition gets a new owner only after the previous one has confirmed (a heartbeat
 * whose owned partitions no longer list it), left, or been expelled.
 *
 * <p>Applied on the metadata apply thread only; readers on other threads see per-group immutable
 * records. Time comes from the command's timestamp.
 */
public final class ConsumerGroups {

  public static final int MAX_GROUP_ID_CHARS = 255;
  public static final int MAX_MEMBER_ID_CHARS = 100;
  public static final int MAX_OFFSET_METADATA_CHARS = 4096;

  public static final String STATE_EMPTY = "EMPTY";
  public static final String STATE_STABLE = "STABLE";
  public static final String STATE_RECONCILING = "RECONCILING";

  private final ConcurrentMap<String, ConsumerGroupRecord> groups = new ConcurrentHashMap<>();

  public ConsumerGroups() {}

  public ConsumerGroups(Collection<ConsumerGroupRecord> restored) {
    restored.forEach(g -> groups.put(g.getGroupId(), g));
  }

  public Optional<ConsumerGroupRecord> group(String groupId) {
    return Optional.ofNullable(groups.get(groupId));
  }

  /** Every group, sorted by id. */
  public List<ConsumerGroupRecord> all() {
    List<ConsumerGroupRecord> list = new ArrayList<>(groups.values());
    list.sort(Comparator.comparing(ConsumerGroupRecord::getGroupId));
    return list;
  }

  /** True for the commands this class applies. */
  public static boolean isGroupCommand(MetadataCommand cmd) {
    return switch (cmd.getCommandCase()) {
      case GROUP_JOIN, GROUP_MEMBER_UPDATE, GROUP_LEAVE, GROUP_COMMIT_OFFSETS, GROUP_DELETE,
          GROUP_RESET_OFFSETS -> true;
      default -> false;
    };
  }

  /**
   * Applies a group command against the current topics. Rejections are replies (the same on every
   * voter), never exceptions.
   */
  public MetadataReply apply(MetadataCommand cmd, MetadataImage topics) {
    long now = cmd.getTimestampMs();
    return switch (cmd.getCommandCase()) {
      case GROUP_JOIN -> join(cmd.getGroupJoin(), topics, now);
      case GROUP_MEMBER_UPDATE -> update(cmd.getGroupMemberUpdate(), topics);
      case GROUP_LEAVE -> leave(cmd.getGroupLeave().getGroupId(), cmd.getGroupLeave().getMemberId(), topics);
      case GROUP_COMMIT_OFFSETS -> commit(cmd.getGroupCommitOffsets(), topics, now);
      case GROUP_DELETE -> delete(cmd.getGroupDelete().getGroupId());
      case GROUP_RESET_OFFSETS -> reset(cmd.getGroupResetOffsets().getGroupId(),
          cmd.getGroupResetOffsets().getOffsetsList(), topics, now);
      default -> error(MetadataStatus.METADATA_INVALID, "not a group command: " + cmd.getCommandCase());
    };
  }

  /**
   * After topics were created or deleted: groups whose target changes rebalance (a new epoch), and
   * offsets of topics that no longer exist are dropped (a topic created again with the same name is
   * a new topic).
   */
  public void onTopicsChanged(MetadataImage topics) {
    Set<String> existing = new HashSet<>();
    topics.getTopicsList().forEach(t -> existing.add(t.getName()));
    for (ConsumerGroupRecord record : all()) {
      ConsumerGroupRecord.Builder g = record.toBuilder();
      List<GroupOffset> kept = record.getOffsetsList().stream().filter(o -> existing.contains(o.getTopic())).toList();
      boolean changed = kept.size() != record.getOffsetsCount();
      if (changed) {
        g.clearOffsets().addAllOffsets(kept);
      }
      if (g.getMembersCount() > 0) {
        Map<String, SortedSet<GroupPartition>> target = computeTarget(g, topics);
        if (!target.equals(targetOf(g))) {
          g.setGroupEpoch(g.getGroupEpoch() + 1);
          setTarget(g, target);
          changed = true;
        }
        changed |= reconcile(g);
      }
      if (changed) {
        store(g);
      }
    }
  }

  /** EMPTY, STABLE or RECONCILING. */
  public static String state(ConsumerGroupRecord g) {
    if (g.getMembersCount() == 0) {
      return STATE_EMPTY;
    }
    Map<String, SortedSet<GroupPartition>> target = targetOf(g);
    for (GroupMemberRecord m : g.getMembersList()) {
      if (m.getMemberEpoch() != g.getGroupEpoch() || m.getPendingRevocationCount() > 0
          || !toSet(m.getAssignedList()).equals(target.getOrDefault(m.getMemberId(), new TreeSet<>()))) {
        return STATE_RECONCILING;
      }
    }
    return STATE_STABLE;
  }

  /** The partitions a member should own now: assigned minus those it was asked to revoke. */
  public static SortedSet<GroupPartition> currentAssignment(GroupMemberRecord m) {
    SortedSet<GroupPartition> set = toSet(m.getAssignedList());
    set.removeAll(toSet(m.getPendingRevocationList()));
    return set;
  }

  public static Optional<GroupMemberRecord> member(ConsumerGroupRecord g, String memberId) {
    return g.getMembersList().stream().filter(m -> m.getMemberId().equals(memberId)).findFirst();
  }

  /** Validation shared by the coordinator (before the log) and apply. Null when valid. */
  public static String checkGroupId(String groupId) {
    if (groupId.isEmpty()) {
      return "group id must not be empty";
    }
    if (groupId.length() > MAX_GROUP_ID_CHARS) {
      return "group id is longer than " + MAX_GROUP_ID_CHARS + " characters";
    }
    return null;
  }

  public static String checkMemberId(String memberId) {
    if (memberId.isEmpty() || memberId.length() > MAX_MEMBER_ID_CHARS) {
      return "member id must have 1 to " + MAX_MEMBER_ID_CHARS + " characters";
    }
    return null;
  }

  /** Null when every offset names an existing partition, is >= 0 and has short enough metadata. */
  public static String checkOffsets(List<GroupOffset> offsets, MetadataImage topics) {
    Map<String, Integer> counts = partitionCounts(topics);
    for (GroupOffset o : offsets) {
      Integer count = counts.get(o.getTopic());
      if (count == null) {
        return "topic '" + o.getTopic() + "' does not exist";
      }
      if (o.getPartition() < 0 || o.getPartition() >= count) {
        return "partition " + o.getPartition() + " does not exist: topic '" + o.getTopic() + "' has " + count
            + " partitions";
      }
      if (o.getOffset() < 0) {
        return "offset must be >= 0, got " + o.getOffset() + " for " + o.getTopic() + "-" + o.getPartition();
      }
      if (o.getMetadata().length() > MAX_OFFSET_METADATA_CHARS) {
        return "offset metadata is longer than " + MAX_OFFSET_METADATA_CHARS + " characters";
      }
    }
    return null;
  }

  // ---- commands --------------------------------------------------------------------------------

  private MetadataReply join(GroupJoin join, MetadataImage topics, long now) {
    String problem = firstProblem(checkGroupId(join.getGroupId()), checkMemberId(join.getMemberId()),
        join.getSessionTimeoutMs() > 0 ? null : "session timeout must be > 0",
        join.getAssignor().isEmpty() || Assignors.isKnown(join.getAssignor()) ? null
            : "unknown assignor '" + join.getAssignor() + "'; use one of: " + String.join(", ", Assignors.names()));
    if (problem != null) {
      return error(MetadataStatus.METADATA_INVALID, problem);
    }
    ConsumerGroupRecord existing = groups.get(join.getGroupId());
    ConsumerGroupRecord.Builder g = existing != null ? existing.toBuilder()
        : ConsumerGroupRecord.newBuilder().setGroupId(join.getGroupId()).setCreatedMs(now);
    // A rejoin (same member id) owns nothing any more: whatever it held is free again.
    removeMember(g, join.getMemberId());
    int epoch = g.getGroupEpoch() + 1;
    GroupMemberRecord member = GroupMemberRecord.newBuilder().setMemberId(join.getMemberId())
        .setClientId(join.getClientId()).addAllSubscribedTopics(new TreeSet<>(join.getSubscribedTopicsList()))
        .setSessionTimeoutMs(join.getSessionTimeoutMs())
        .setAssignor(join.getAssignor().isEmpty() ? Assignors.DEFAULT : join.getAssignor().toLowerCase())
        .setMemberEpoch(epoch).setJoinEpoch(epoch).setJoinedMs(now).build();
    List<GroupMemberRecord> members = new ArrayList<>(g.getMembersList());
    members.add(member);
    members.sort(Comparator.comparing(GroupMemberRecord::getMemberId));
    g.clearMembers().addAllMembers(members);
    g.setGroupEpoch(epoch);
    setTarget(g, computeTarget(g, topics));
    reconcile(g);
    return ok(store(g));
  }

  private MetadataReply update(GroupMemberUpdate update, MetadataImage topics) {
    ConsumerGroupRecord existing = groups.get(update.getGroupId());
    int index = existing == null ? -1 : indexOfMember(existing, update.getMemberId());
    if (index < 0) {
      return error(MetadataStatus.METADATA_UNKNOWN_MEMBER, "member " + update.getMemberId()
          + " is not in group '" + update.getGroupId() + "' (expired or never joined); rejoin with epoch 0");
    }
    GroupMemberRecord m = existing.getMembers(index);
    if (update.getMemberEpoch() < m.getJoinEpoch() || update.getMemberEpoch() > m.getMemberEpoch()) {
      return error(MetadataStatus.METADATA_FENCED_MEMBER_EPOCH, "member " + m.getMemberId() + " sent epoch "
          + update.getMemberEpoch() + " but its epoch is " + m.getMemberEpoch() + "; rejoin with epoch 0");
    }
    ConsumerGroupRecord.Builder g = existing.toBuilder();
    GroupMemberRecord.Builder mb = m.toBuilder();
    TreeSet<String> subscription = new TreeSet<>(update.getSubscribedTopicsList());
    boolean newSubscription = !subscription.equals(new TreeSet<>(m.getSubscribedTopicsList()));
    if (newSubscription) {
      mb.clearSubscribedTopics().addAllSubscribedTopics(subscription);
    }
    // Each pending partition the member no longer reports as owned is free.
    SortedSet<GroupPartition> owned = toSet(update.getOwnedPartitionsList());
    SortedSet<GroupPartition> released = toSet(m.getPendingRevocationList());
    released.removeAll(owned);
    if (!released.isEmpty()) {
      SortedSet<GroupPartition> assigned = toSet(m.getAssignedList());
      assigned.removeAll(released);
      SortedSet<GroupPartition> pending = toSet(m.getPendingRevocationList());
      pending.removeAll(released);
      mb.clearAssigned().addAllAssigned(toSets(assigned)).clearPendingRevocation().addAllPendingRevocation(toSets(pending));
    }
    g.setMembers(index, mb);
    if (newSubscription) {
      g.setGroupEpoch(g.getGroupEpoch() + 1);
      setTarget(g, computeTarget(g, topics));
    }
    reconcile(g);
    return ok(store(g));
  }

  private MetadataReply leave(String groupId, String memberId, MetadataImage topics) {
    ConsumerGroupRecord existing = groups.get(groupId);
    if (existing == null || indexOfMember(existing, memberId) < 0) {
      return error(MetadataStatus.METADATA_UNKNOWN_MEMBER, "member " + memberId + " is not in group '" + groupId + "'");
    }
    ConsumerGroupRecord.Builder g = existing.toBuilder();
    removeMember(g, memberId);
    // A new epoch even for an empty group: commits of the departed member are stale from now on.
    g.setGroupEpoch(g.getGroupEpoch() + 1);
    setTarget(g, computeTarget(g, topics));
    reconcile(g);
    if (g.getMembersCount() == 0 && g.getOffsetsCount() == 0) {
      groups.remove(groupId);
      return ok(null);
    }
    return ok(store(g));
  }

  private MetadataReply commit(GroupCommitOffsets commit, MetadataImage topics, long now) {
    String problem = firstProblem(checkGroupId(commit.getGroupId()), checkOffsets(commit.getOffsetsList(), topics));
    if (problem != null) {
      return error(MetadataStatus.METADATA_INVALID, problem);
    }
    ConsumerGroupRecord existing = groups.get(commit.getGroupId());
    if (commit.getMemberId().isEmpty()) {
      if (existing != null && existing.getMembersCount() > 0) {
        return error(MetadataStatus.METADATA_UNKNOWN_MEMBER, "group '" + commit.getGroupId()
            + "' has active members; only its members can commit offsets");
      }
    } else {
      int index = existing == null ? -1 : indexOfMember(existing, commit.getMemberId());
      if (index < 0) {
        return error(MetadataStatus.METADATA_UNKNOWN_MEMBER, "member " + commit.getMemberId()
            + " is not in group '" + commit.getGroupId() + "' (expired or never joined); nothing was committed");
      }
      GroupMemberRecord m = existing.getMembers(index);
      if (commit.getMemberEpoch() > m.getMemberEpoch() || commit.getMemberEpoch() < m.getAssignmentEpoch()) {
        return error(MetadataStatus.METADATA_STALE_MEMBER_EPOCH, "commit with member epoch " + commit.getMemberEpoch()
            + " but member " + m.getMemberId() + " is at epoch " + m.getMemberEpoch() + " with partitions assigned at epoch "
            + m.getAssignmentEpoch() + "; nothing was committed");
      }
      SortedSet<GroupPartition> assigned = toSet(m.getAssignedList());
      for (GroupOffset o : commit.getOffsetsList()) {
        if (!assigned.contains(new GroupPartition(o.getTopic(), o.getPartition()))) {
          return error(MetadataStatus.METADATA_STALE_MEMBER_EPOCH, "partition " + o.getTopic() + "-" + o.getPartition()
              + " is not assigned to member " + m.getMemberId() + " (revoked or never assigned); nothing was committed");
        }
      }
    }
    ConsumerGroupRecord.Builder g = existing != null ? existing.toBuilder()
        : ConsumerGroupRecord.newBuilder().setGroupId(commit.getGroupId()).setCreatedMs(now);
    upsertOffsets(g, commit.getOffsetsList(), now);
    return ok(store(g));
  }

  private MetadataReply delete(String groupId) {
    ConsumerGroupRecord existing = groups.get(groupId);
    if (existing == null) {
      return error(MetadataStatus.METADATA_UNKNOWN_GROUP, "group '" + groupId + "' does not exist");
    }
    if (existing.getMembersCount() > 0) {
      return error(MetadataStatus.METADATA_GROUP_NOT_EMPTY, "group '" + groupId + "' has "
          + existing.getMembersCount() + " active members; stop its consumers first");
    }
    groups.remove(groupId);
    return ok(null);
  }

  private MetadataReply reset(String groupId, List<GroupOffset> offsets, MetadataImage topics, long now) {
    String problem = firstProblem(checkGroupId(groupId), checkOffsets(offsets, topics));
    if (problem != null) {
      return error(MetadataStatus.METADATA_INVALID, problem);
    }
    ConsumerGroupRecord existing = groups.get(groupId);
    if (existing != null && existing.getMembersCount() > 0) {
      return error(MetadataStatus.METADATA_GROUP_NOT_EMPTY, "group '" + groupId + "' has "
          + existing.getMembersCount() + " active members; stop its consumers first");
    }
    ConsumerGroupRecord.Builder g = existing != null ? existing.toBuilder()
        : ConsumerGroupRecord.newBuilder().setGroupId(groupId).setCreatedMs(now);
    upsertOffsets(g, offsets, now);
    return ok(store(g));
  }

  // ---- assignment ------------------------------------------------------------------------------

  private static Map<String, SortedSet<GroupPartition>> computeTarget(ConsumerGroupRecord.Builder g, MetadataImage topics) {
    if (g.getMembersCount() == 0) {
      g.setAssignor("");
      return new TreeMap<>();
    }
    String assignorName = Assignors.choose(g.getMembersList().stream().map(GroupMemberRecord::getAssignor).toList());
    g.setAssignor(assignorName);
    Map<String, Set<String>> subscriptions = new TreeMap<>();
    Set<String> subscribed = new TreeSet<>();
    for (GroupMemberRecord m : g.getMembersList()) {
      subscriptions.put(m.getMemberId(), new TreeSet<>(m.getSubscribedTopicsList()));
      subscribed.addAll(m.getSubscribedTopicsList());
    }
    Map<String, Integer> counts = new TreeMap<>(partitionCounts(topics));
    counts.keySet().retainAll(subscribed);
    Map<String, Set<GroupPartition>> previous = new TreeMap<>(targetOf(g));
    Map<String, SortedSet<GroupPartition>> result =
        Assignors.byName(assignorName).assign(subscriptions, counts, previous);
    return new TreeMap<>(result);
  }

  /**
   * Moves members towards the target: asks owners to revoke what is no longer theirs, moves
   * members with nothing to revoke to the group epoch, and hands them free target partitions.
   * Returns whether anything changed.
   */
  private static boolean reconcile(ConsumerGroupRecord.Builder g) {
    Map<String, SortedSet<GroupPartition>> target = targetOf(g);
    Set<GroupPartition> held = new HashSet<>();
    for (GroupMemberRecord m : g.getMembersList()) {
      held.addAll(toSet(m.getAssignedList()));
    }
    boolean changed = false;
    for (int i = 0; i < g.getMembersCount(); i++) {
      GroupMemberRecord m = g.getMembers(i);
      SortedSet<GroupPartition> assigned = toSet(m.getAssignedList());
      SortedSet<GroupPartition> mine = target.getOrDefault(m.getMemberId(), new TreeSet<>());
      SortedSet<GroupPartition> pending = new TreeSet<>(assigned);
      pending.removeAll(mine);
      GroupMemberRecord.Builder mb = m.toBuilder().clearPendingRevocation().addAllPendingRevocation(toSets(pending));
      if (pending.isEmpty()) {
        mb.setMemberEpoch(g.getGroupEpoch());
        SortedSet<GroupPartition> gains = new TreeSet<>(mine);
        gains.removeAll(held);
        if (!gains.isEmpty()) {
          assigned.addAll(gains);
          held.addAll(gains);
          mb.clearAssigned().addAllAssigned(toSets(assigned)).setAssignmentEpoch(g.getGroupEpoch());
        }
      }
      GroupMemberRecord next = mb.build();
      if (!next.equals(m)) {
        g.setMembers(i, next);
        changed = true;
      }
    }
    return changed;
  }

  private static Map<String, SortedSet<GroupPartition>> targetOf(ConsumerGroupRecord.Builder g) {
    return targetOf(g.getTargetAssignmentList());
  }

  private static Map<String, SortedSet<GroupPartition>> targetOf(ConsumerGroupRecord g) {
    return targetOf(g.getTargetAssignmentList());
  }

  private static Map<String, SortedSet<GroupPartition>> targetOf(List<MemberTarget> targets) {
    Map<String, SortedSet<GroupPartition>> map = new TreeMap<>();
    targets.forEach(t -> map.put(t.getMemberId(), toSet(t.getPartitionsList())));
    return map;
  }

  private static void setTarget(ConsumerGroupRecord.Builder g, Map<String, SortedSet<GroupPartition>> target) {
    g.clearTargetAssignment();
    new TreeMap<>(target).forEach((member, partitions) ->
        g.addTargetAssignment(MemberTarget.newBuilder().setMemberId(member).addAllPartitions(toSets(partitions))));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  public static SortedSet<GroupPartition> toSet(List<TopicPartitionSet> sets) {
    SortedSet<GroupPartition> out = new TreeSet<>();
    for (TopicPartitionSet s : sets) {
      s.getPartitionsList().forEach(p -> out.add(new GroupPartition(s.getTopic(), p)));
    }
    return out;
  }

  public static List<TopicPartitionSet> toSets(Collection<GroupPartition> partitions) {
    SortedMap<String, TreeSet<Integer>> byTopic = new TreeMap<>();
    partitions.forEach(p -> byTopic.computeIfAbsent(p.topic(), t -> new TreeSet<>()).add(p.partition()));
    List<TopicPartitionSet> out = new ArrayList<>();
    byTopic.forEach((t, ps) -> out.add(TopicPartitionSet.newBuilder().setTopic(t).addAllPartitions(ps).build()));
    return out;
  }

  private static Map<String, Integer> partitionCounts(MetadataImage topics) {
    Map<String, Integer> counts = new HashMap<>();
    for (TopicRecord t : topics.getTopicsList()) {
      counts.put(t.getName(), t.getAssignmentsCount());
    }
    return counts;
  }

  private static void upsertOffsets(ConsumerGroupRecord.Builder g, List<GroupOffset> offsets, long now) {
    SortedMap<GroupPartition, GroupOffset> merged = new TreeMap<>();
    g.getOffsetsList().forEach(o -> merged.put(new GroupPartition(o.getTopic(), o.getPartition()), o));
    offsets.forEach(o -> merged.put(new GroupPartition(o.getTopic(), o.getPartition()),
        o.toBuilder().setCommitTimestampMs(now).build()));
    g.clearOffsets().addAllOffsets(merged.values());
  }

  private static void removeMember(ConsumerGroupRecord.Builder g, String memberId) {
    for (int i = 0; i < g.getMembersCount(); i++) {
      if (g.getMembers(i).getMemberId().equals(memberId)) {
        g.removeMembers(i);
        return;
      }
    }
  }

  private static int indexOfMember(ConsumerGroupRecord g, String memberId) {
    for (int i = 0; i < g.getMembersCount(); i++) {
      if (g.getMembers(i).getMemberId().equals(memberId)) {
        return i;
      }
    }
    return -1;
  }

  private ConsumerGroupRecord store(ConsumerGroupRecord.Builder g) {
    ConsumerGroupRecord record = g.build();
    groups.put(record.getGroupId(), record);
    return record;
  }

  private static String firstProblem(String... problems) {
    for (String p : problems) {
      if (p != null) {
        return p;
      }
    }
    return null;
  }

  private static MetadataReply ok(ConsumerGroupRecord group) {
    MetadataReply.Builder b = MetadataReply.newBuilder().setStatus(MetadataStatus.METADATA_OK);
    if (group != null) {
      b.setGroup(group);
    }
    return b.build();
  }

  private static MetadataReply error(MetadataStatus status, String message) {
    return MetadataReply.newBuilder().setStatus(status).setMessage(message).build();
  }
}
