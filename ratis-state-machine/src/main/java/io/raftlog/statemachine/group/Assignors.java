package io.raftlog.statemachine.group;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The server-side assignors by name, and how a group picks one from its members' preferences. */
public final class Assignors {

  /** Sticky: balanced like round robin, but moves as few partitions as it can on a rebalance. */
  public static final String DEFAULT = StickyAssignor.NAME;

  /** Sorted by name; the assignors are stateless, so one instance each is shared. */
  private static final Map<String, PartitionAssignor> BY_NAME;

  static {
    Map<String, PartitionAssignor> m = new TreeMap<>();
    for (PartitionAssignor a : List.of(new RangeAssignor(), new RoundRobinAssignor(), new StickyAssignor())) {
      m.put(a.name(), a);
    }
    BY_NAME = m;
  }

  private static final List<String> NAMES = List.copyOf(BY_NAME.keySet());

  private Assignors() {}

  /**
   * @param name case-insensitive
   * @throws IllegalArgumentException for an unknown name, naming the valid ones
   */
  public static PartitionAssignor byName(String name) {
    PartitionAssignor a = name == null ? null : BY_NAME.get(name.toLowerCase(Locale.ROOT));
    if (a == null) {
      throw new IllegalArgumentException(
          "unknown assignor '" + name + "'; use one of: " + String.join(", ", NAMES));
    }
    return a;
  }

  public static boolean isKnown(String name) {
    return name != null && BY_NAME.containsKey(name.toLowerCase(Locale.ROOT));
  }

  /** The valid names, sorted. */
  public static List<String> names() {
    return NAMES;
  }

  /**
   * The group's assignor: the name most members prefer. A member that names no assignor, or one
   * this server does not know, votes for {@link #DEFAULT}, so that one client with a typo or an
   * older version cannot make the group fail. Ties go to the alphabetically first name, so every
   * replica picks the same one.
   *
   * @param preferred one entry per member (null or empty for no preference)
   * @return a known name, in lower case; {@link #DEFAULT} when there are no members
   */
  public static String choose(Collection<String> preferred) {
    Map<String, Integer> votes = new TreeMap<>();
    for (String name : preferred) {
      String vote = isKnown(name) ? name.toLowerCase(Locale.ROOT) : DEFAULT;
      votes.merge(vote, 1, Integer::sum);
    }
    String best = DEFAULT;
    int bestVotes = 0;
    // sorted iteration plus strict '>' keeps the alphabetically first of the tied names
    for (Map.Entry<String, Integer> e : votes.entrySet()) {
      if (e.getValue() > bestVotes) {
        best = e.getKey();
        bestVotes = e.getValue();
      }
    }
    return best;
  }
}
