package io.raftlog.broker.group;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Session deadlines of group members, kept only in the coordinator's memory (heartbeats are not
 * logged). A new coordinator starts every known member's deadline afresh at takeover, so a
 * failover never expels a member that keeps heartbeating. Not thread-safe: the coordinator
 * synchronizes.
 */
final class MemberSessions {

  /** A member of a group. */
  record MemberKey(String groupId, String memberId) {}

  private final Map<MemberKey, Long> deadlines = new HashMap<>();

  /** A heartbeat arrived: the member lives until {@code now + sessionTimeoutMs}. */
  void touch(MemberKey member, long sessionTimeoutMs, long now) {
    deadlines.put(member, now + sessionTimeoutMs);
  }

  /** Starts a deadline for a member not tracked yet (known from the group state). */
  void trackIfAbsent(MemberKey member, long sessionTimeoutMs, long now) {
    deadlines.putIfAbsent(member, now + sessionTimeoutMs);
  }

  /** Forgets members no longer in the group state. */
  void retainOnly(Set<MemberKey> members) {
    deadlines.keySet().retainAll(members);
  }

  void remove(MemberKey member) {
    deadlines.remove(member);
  }

  /** Members whose deadline has passed, in no particular order. */
  List<MemberKey> expired(long now) {
    List<MemberKey> out = new ArrayList<>();
    deadlines.forEach((k, deadline) -> {
      if (deadline <= now) {
        out.add(k);
      }
    });
    return out;
  }

  /** Forgets every deadline (leadership lost: the next coordinator starts its own). */
  void clear() {
    deadlines.clear();
  }

  int size() {
    return deadlines.size();
  }
}
