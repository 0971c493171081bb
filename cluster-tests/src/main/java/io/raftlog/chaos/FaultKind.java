package io.raftlog.chaos;

/** The faults the harness can inject. */
public enum FaultKind {
  /** SIGKILL the leader of a partition, restart it after the hold time. */
  KILL_LEADER(false),
  /** SIGKILL a random broker, restart it after the hold time. */
  KILL_RANDOM(false),
  /** SIGSTOP the leader of a partition for longer than the election timeout, then SIGCONT. */
  PAUSE_LEADER(false),
  /** Cut the leader of a partition off from every other broker (clients still reach it), then heal. */
  ISOLATE_LEADER(true),
  /** Split the brokers into a minority holding a partition's leader and a majority, then heal. */
  SPLIT(true),
  /** Two halves that cannot see each other and one broker that sees both, then heal. */
  BRIDGE(true),
  /**
   * The leader's responses to clients are dropped (requests still arrive and are processed), then the
   * leader is killed so the producers' retries go to a new leader; then heal and restart.
   */
  DROP_RESPONSES(true),
  /** SIGKILL a follower, truncate or flip bits in the tail of its newest segment file, restart it. */
  CORRUPT_FOLLOWER(false),
  /** SIGKILL every broker at once, then start them all again. */
  KILL_ALL(false),
  /**
   * SIGKILL a random consumer-group member process in the middle of a batch (records processed,
   * not committed yet), then start a replacement after the hold time. Needs group members
   * ({@code --group-members N}); skipped otherwise.
   */
  KILL_MEMBER(false),
  /** SIGKILL the broker coordinating the consumer groups (the metadata leader), restart it. */
  KILL_COORDINATOR(false),
  /**
   * SIGKILL a follower, delete its whole replica of the partition (segment files, Raft log,
   * snapshots) as a lost disk would, restart it: it must copy its state back from the other
   * replicas and end up identical.
   */
  WIPE_FOLLOWER(false),
  /**
   * Membership change under kills: reassign the partition to its replicas minus one (the Raft group
   * shrinks), SIGKILL its leader in the middle and restart it, wait for the move to complete; then
   * reassign it back with the removed broker first (it rejoins with no data, catches up and becomes
   * the preferred leader), SIGKILL a random broker in the middle, restart it, wait again.
   */
  REASSIGN(false);

  private final boolean needsNetworkNamespaces;

  FaultKind(boolean needsNetworkNamespaces) {
    this.needsNetworkNamespaces = needsNetworkNamespaces;
  }

  public boolean needsNetworkNamespaces() {
    return needsNetworkNamespaces;
  }

  /** Only meaningful when the run has consumer-group member processes. */
  public boolean needsGroupMembers() {
    return this == KILL_MEMBER;
  }

  /** The name used on the command line and in the history: kill-leader, pause-leader, ... */
  public String cliName() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  public static FaultKind parse(String text) {
    for (FaultKind k : values()) {
      if (k.cliName().equals(text) || k.name().equalsIgnoreCase(text)) {
        return k;
      }
    }
    throw new IllegalArgumentException("unknown fault '" + text + "'; known: "
        + String.join(", ", java.util.Arrays.stream(values()).map(FaultKind::cliName).toList()));
  }
}
