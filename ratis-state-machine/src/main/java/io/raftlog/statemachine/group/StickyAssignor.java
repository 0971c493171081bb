package io.raftlog.statemachine.group;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * The default assignor: as balanced as the subscriptions allow, and moving as few partitions as it
 * can relative to the previous target assignment, because every moved partition has to be revoked
 * from its old owner (which stops consuming it) before the new owner may start.
 *
 * <p>First the usable part of the previous target is found: a partition stays "previously owned"
 * only if it still exists, its previous owner is still a member and still subscribes to its topic.
 * A partition named by several members (not produced by this assignor, but possible in bad input)
 * counts for the first of them in member id order.
 *
 * <p><b>Homogeneous subscriptions</b> (every member subscribes to the same existing topics): with N
 * partitions and M members, every member gets floor(N/M) or ceil(N/M). The N % M members with the
 * most previously owned partitions (ties: member id) get ceil, the others floor; each member keeps
 * up to its quota of its previously owned partitions (the lowest ones) and the rest, together with
 * new and orphaned partitions, fill the members below quota in member id order. No balanced
 * assignment moves fewer partitions: a member can keep at most min(previously owned, quota), and
 * giving the larger quotas to the members that had the most maximises that sum.
 *
 * <p><b>Heterogeneous subscriptions</b>, in two phases:
 *
 * <ol>
 *   <li>Every previous owner keeps its previously owned partitions. The other partitions (new, or
 *       left by departed or unsubscribed members) are handed out one at a time, topics with the
 *       fewest subscribers first, each to the subscriber of its topic with the fewest partitions at
 *       that moment (ties: member id).
 *   <li>Balancing: while some member U could pass one partition along a chain of members, each
 *       subscribed to the topic of a partition the one before holds, to a member V that has at
 *       least two fewer partitions than U, do it, using a shortest chain (so a single move whenever
 *       one suffices) and, among chains of that length, the V with the fewest partitions (ties:
 *       the first found, searching members by id and topics by name). A member on the chain
 *       passes on a partition it received in this run before one it owned previously.
 * </ol>
 *
 * <p>What is guaranteed for heterogeneous subscriptions: every partition goes to a subscriber of
 * its topic, and when balancing stops no such chain exists, which is exactly the condition for an
 * optimal semi-matching (Harvey, Ladner, Lovász and Tamir, 2003): the partition counts minimise the
 * sum of squares and so also the largest count, over all valid assignments. In particular, the
 * owner of any partition has at most one partition more than any other subscriber of its topic, and
 * when everyone subscribes to everything the counts differ by at most one. A previous owner loses a
 * partition only in phase 2, when balance demands it; the number of moves is small in practice but,
 * unlike the homogeneous case, not proven minimal.
 */
public final class StickyAssignor implements PartitionAssignor {

  public static final String NAME = "sticky";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, SortedSet<GroupPartition>> assign(Map<String, Set<String>> subscriptions,
      Map<String, Integer> partitionCounts, Map<String, Set<GroupPartition>> previousTarget) {
    AssignmentInput in = AssignmentInput.of(subscriptions, partitionCounts);
    Map<String, List<GroupPartition>> previous = usablePrevious(in, previousTarget);
    SortedMap<String, SortedSet<GroupPartition>> result =
        isHomogeneous(in) ? homogeneous(in, previous) : new Heterogeneous(in, previous).run();
    return AssignmentInput.freeze(result);
  }

  /**
   * Member -> previously owned partitions it may keep, each partition under at most one member.
   * Members are visited in id order; the order within one member's set cannot matter, as a set
   * names a partition once, so those are left unsorted (the homogeneous case sorts what it needs).
   */
  private static Map<String, List<GroupPartition>> usablePrevious(AssignmentInput in,
      Map<String, Set<GroupPartition>> previousTarget) {
    Map<String, List<GroupPartition>> usable = new HashMap<>();
    Set<GroupPartition> claimed = new HashSet<>();
    for (String member : in.members) {
      List<GroupPartition> mine = new ArrayList<>();
      Set<GroupPartition> had = previousTarget == null ? null : previousTarget.get(member);
      if (had != null) {
        for (GroupPartition p : had) {
          if (p != null && p.topic() != null && in.canOwn(member, p) && claimed.add(p)) {
            mine.add(p);
          }
        }
      }
      usable.put(member, mine);
    }
    return usable;
  }

  private static boolean isHomogeneous(AssignmentInput in) {
    List<String> first = null;
    for (List<String> topics : in.topicsByMember.values()) {
      if (first == null) {
        first = topics;
      } else if (!first.equals(topics)) {
        return false;
      }
    }
    return true;
  }

  private static SortedMap<String, SortedSet<GroupPartition>> homogeneous(AssignmentInput in,
      Map<String, List<GroupPartition>> previous) {
    SortedMap<String, SortedSet<GroupPartition>> result = in.emptyAssignment();
    int memberCount = in.members.size();
    if (memberCount == 0) {
      return result;
    }
    int total = 0;
    for (int count : in.partitionCounts.values()) {
      total += count;
    }
    int base = total / memberCount;
    int extra = total % memberCount;

    List<String> byPreviousDesc = new ArrayList<>(in.members);
    byPreviousDesc.sort(Comparator.comparingInt((String m) -> -previous.get(m).size())
        .thenComparing(Comparator.naturalOrder()));
    Map<String, Integer> quota = new TreeMap<>();
    for (int i = 0; i < memberCount; i++) {
      quota.put(byPreviousDesc.get(i), base + (i < extra ? 1 : 0));
    }

    Set<GroupPartition> kept = new HashSet<>();
    for (String member : in.members) {
      List<GroupPartition> had = previous.get(member);
      int keep = Math.min(had.size(), quota.get(member));
      if (keep < had.size()) {
        Collections.sort(had); // keep the lowest ones, whatever order the caller's set had
      }
      SortedSet<GroupPartition> mine = result.get(member);
      for (GroupPartition p : had.subList(0, keep)) {
        mine.add(p);
        kept.add(p);
      }
    }

    // the rest, in partition order, fills the members below quota in member id order
    int memberIndex = 0;
    for (Map.Entry<String, Integer> e : in.partitionCounts.entrySet()) {
      for (int p = 0; p < e.getValue(); p++) {
        GroupPartition partition = new GroupPartition(e.getKey(), p);
        if (kept.contains(partition)) {
          continue;
        }
        // terminates: the quotas add up to the number of partitions
        while (result.get(in.members.get(memberIndex)).size() == quota.get(in.members.get(memberIndex))) {
          memberIndex++;
        }
        result.get(in.members.get(memberIndex)).add(partition);
      }
    }
    return result;
  }

  /**
   * The two phases of the heterogeneous case on int indices: members and topics by their sorted
   * position, so that the balancing searches do not hash strings.
   */
  private static final class Heterogeneous {
    private final AssignmentInput in;
    private final String[] members;
    private final String[] topics;
    private final int[] partitionCount;
    /** Topic -> subscribing members, ascending. */
    private final int[][] subscribers;
    /** Member -> subscribed topics, ascending; the per-member arrays below are indexed alike. */
    private final int[][] topicsOf;
    /** Topic -> partition -> its usable previous owner, or -1. */
    private final int[][] previousOwner;
    /** Member -> slot of topicsOf -> partitions it had before and still holds. */
    private final IntStack[][] kept;
    /** Member -> slot of topicsOf -> partitions it received in this run. */
    private final IntStack[][] received;
    private final int[] load;

    // breadth-first search state, reused across searches; a stamp marks "seen in this search"
    private final int[] memberSeen;
    private final int[] topicSeen;
    private final int[] parentMember;
    private final int[] parentTopic;
    private final int[] queue;
    private int stamp;

    Heterogeneous(AssignmentInput in, Map<String, List<GroupPartition>> previous) {
      this.in = in;
      members = in.members.toArray(new String[0]);
      topics = in.membersByTopic.keySet().toArray(new String[0]);
      int memberCount = members.length;
      Map<String, Integer> memberIndex = new HashMap<>();
      for (int m = 0; m < memberCount; m++) {
        memberIndex.put(members[m], m);
      }
      Map<String, Integer> topicIndex = new HashMap<>();
      for (int t = 0; t < topics.length; t++) {
        topicIndex.put(topics[t], t);
      }
      partitionCount = new int[topics.length];
      subscribers = new int[topics.length][];
      previousOwner = new int[topics.length][];
      for (int t = 0; t < topics.length; t++) {
        partitionCount[t] = in.partitionCounts.get(topics[t]);
        List<String> subs = in.membersByTopic.get(topics[t]);
        subscribers[t] = new int[subs.size()];
        for (int i = 0; i < subs.size(); i++) {
          subscribers[t][i] = memberIndex.get(subs.get(i));
        }
        previousOwner[t] = new int[partitionCount[t]];
        Arrays.fill(previousOwner[t], -1);
      }
      topicsOf = new int[memberCount][];
      kept = new IntStack[memberCount][];
      received = new IntStack[memberCount][];
      for (int m = 0; m < memberCount; m++) {
        List<String> subscribed = in.topicsByMember.get(members[m]);
        topicsOf[m] = new int[subscribed.size()];
        // allocated on first push: most (member, topic) pairs of a large group never hold anything
        kept[m] = new IntStack[subscribed.size()];
        received[m] = new IntStack[subscribed.size()];
        for (int slot = 0; slot < topicsOf[m].length; slot++) {
          topicsOf[m][slot] = topicIndex.get(subscribed.get(slot));
        }
        for (GroupPartition p : previous.get(members[m])) {
          previousOwner[topicIndex.get(p.topic())][p.partition()] = m;
        }
      }
      load = new int[memberCount];
      memberSeen = new int[memberCount];
      topicSeen = new int[topics.length];
      parentMember = new int[memberCount];
      parentTopic = new int[memberCount];
      queue = new int[memberCount];
    }

    SortedMap<String, SortedSet<GroupPartition>> run() {
      keepAndHandOut();
      balance();
      SortedMap<String, SortedSet<GroupPartition>> result = in.emptyAssignment();
      for (int m = 0; m < members.length; m++) {
        SortedSet<GroupPartition> owned = result.get(members[m]);
        for (int slot = 0; slot < topicsOf[m].length; slot++) {
          String topic = topics[topicsOf[m][slot]];
          for (IntStack held : new IntStack[] {kept[m][slot], received[m][slot]}) {
            for (int i = 0; held != null && i < held.size; i++) {
              owned.add(new GroupPartition(topic, held.values[i]));
            }
          }
        }
      }
      return result;
    }

    /** Phase 1. */
    private void keepAndHandOut() {
      for (int t = 0; t < topics.length; t++) {
        for (int p = 0; p < partitionCount[t]; p++) {
          int owner = previousOwner[t][p];
          if (owner >= 0) {
            push(kept, owner, t, p);
          }
        }
      }
      // the most constrained topics first, while the members they can go to are least loaded
      Integer[] order = new Integer[topics.length];
      for (int t = 0; t < order.length; t++) {
        order[t] = t;
      }
      Arrays.sort(order, Comparator.comparingInt((Integer t) -> subscribers[t].length)
          .thenComparingInt(t -> t));
      for (int t : order) {
        for (int p = 0; p < partitionCount[t]; p++) {
          if (previousOwner[t][p] < 0) {
            int lightest = subscribers[t][0];
            for (int m : subscribers[t]) {
              if (load[m] < load[lightest]) { // ascending ids: ties keep the lowest
                lightest = m;
              }
            }
            push(received, lightest, t, p);
          }
        }
      }
    }

    /** Phase 2: until a full pass over the members finds no improving chain. */
    private void balance() {
      boolean changed = true;
      while (changed) {
        changed = false;
        Integer[] heaviestFirst = new Integer[members.length];
        for (int m = 0; m < heaviestFirst.length; m++) {
          heaviestFirst[m] = m;
        }
        Arrays.sort(heaviestFirst, Comparator.comparingInt((Integer m) -> -load[m]).thenComparingInt(m -> m));
        for (int u : heaviestFirst) {
          while (improveFrom(u)) {
            changed = true;
          }
        }
      }
    }

    /**
     * Breadth-first search, level by level, from u over "holds a partition of topic t" -> "subscribes
     * to t"; moves one partition along the path to the lightest member (ties: the first found) of
     * the first level that has one with at least two fewer partitions than u. A topic needs
     * expanding once per search, since all its subscribers are reached the first time. The search
     * stops early at a member with the group's smallest load: nothing in its level can be lighter.
     */
    private boolean improveFrom(int u) {
      int limit = load[u] - 2;
      if (limit < 0) {
        return false;
      }
      int floor = Integer.MAX_VALUE;
      for (int l : load) {
        floor = Math.min(floor, l);
      }
      if (floor > limit) {
        return false;
      }
      stamp++;
      memberSeen[u] = stamp;
      queue[0] = u;
      int levelStart = 0;
      int levelEnd = 1;
      while (levelStart < levelEnd) {
        int tail = levelEnd;
        int best = -1;
        for (int i = levelStart; i < levelEnd; i++) {
          int m = queue[i];
          for (int slot = 0; slot < topicsOf[m].length; slot++) {
            int t = topicsOf[m][slot];
            if (topicSeen[t] == stamp || held(m, slot) == 0) {
              continue;
            }
            topicSeen[t] = stamp;
            for (int next : subscribers[t]) {
              if (memberSeen[next] == stamp) {
                continue;
              }
              memberSeen[next] = stamp;
              parentMember[next] = m;
              parentTopic[next] = t;
              queue[tail++] = next;
              if (load[next] <= limit && (best < 0 || load[next] < load[best])) {
                best = next;
                if (load[best] == floor) {
                  shift(u, best);
                  return true;
                }
              }
            }
          }
        }
        if (best >= 0) {
          shift(u, best);
          return true;
        }
        levelStart = levelEnd;
        levelEnd = tail;
      }
      return false;
    }

    /** One partition along each link of the search path from u to v. */
    private void shift(int u, int v) {
      for (int to = v; to != u; to = parentMember[to]) {
        move(parentMember[to], parentTopic[to], to);
      }
    }

    private void move(int from, int topic, int to) {
      int fromSlot = slot(from, topic);
      IntStack fromReceived = received[from][fromSlot];
      // a partition received in this run costs no stickiness to pass on; one kept from before does
      int p = fromReceived != null && fromReceived.size > 0 ? fromReceived.pop() : kept[from][fromSlot].pop();
      load[from]--;
      push(previousOwner[topic][p] == to ? kept : received, to, topic, p);
    }

    private void push(IntStack[][] stacks, int member, int topic, int partition) {
      int slot = slot(member, topic);
      if (stacks[member][slot] == null) {
        stacks[member][slot] = new IntStack();
      }
      stacks[member][slot].push(partition);
      load[member]++;
    }

    private int held(int member, int slot) {
      IntStack k = kept[member][slot];
      IntStack r = received[member][slot];
      return (k == null ? 0 : k.size) + (r == null ? 0 : r.size);
    }

    private int slot(int member, int topic) {
      return Arrays.binarySearch(topicsOf[member], topic);
    }
  }

  /** A growable stack of ints; its order is the push order, so results stay deterministic. */
  private static final class IntStack {
    private int[] values = new int[4];
    private int size;

    void push(int v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    int pop() {
      return values[--size];
    }
  }
}
