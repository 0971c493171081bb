package io.raftlog.chaos;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.raftlog.api.v1.ErrorCode;
import io.raftlog.api.v1.FindCoordinatorRequest;
import io.raftlog.api.v1.FindCoordinatorResponse;
import io.raftlog.api.v1.GroupServiceGrpc;
import io.raftlog.client.Admin;
import io.raftlog.client.PartitionInfo;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Injects and heals the faults of a {@link Schedule} on a {@link LocalCluster}, recording each in
 * the {@link History}. Every fault is healed before {@link #apply} returns, also when it fails.
 */
final class Nemeses {

  private final LocalCluster cluster;
  private final Admin admin;
  private final String topic;
  private final History history;
  private final List<Integer> brokerIds;
  private final GroupMembers members;

  /** @param members the run's consumer-group members, or null when it has none */
  Nemeses(LocalCluster cluster, Admin admin, String topic, History history, GroupMembers members) {
    this.cluster = cluster;
    this.admin = admin;
    this.topic = topic;
    this.history = history;
    this.brokerIds = List.copyOf(cluster.brokers().keySet());
    this.members = members;
  }

  /** Injects the step's fault, holds it, heals it. Returns the fault's duration in ms. */
  long apply(Schedule.Step step) {
    Random random = new Random(step.targetSeed());
    String kind = step.kind().cliName();
    long start = history.now();
    switch (step.kind()) {
      case KILL_LEADER, KILL_RANDOM -> {
        int id = step.kind() == FaultKind.KILL_LEADER ? leaderOr(step.partition(), random) : pick(brokerIds, random);
        cluster.kill(id);
        fault(kind, "SIGKILL broker " + id + (step.kind() == FaultKind.KILL_LEADER ? " (leader of partition "
            + step.partition() + ")" : ""));
        hold(step.holdMs());
        cluster.restart(id);
        heal(kind, "restarted broker " + id);
      }
      case PAUSE_LEADER -> {
        int id = leaderOr(step.partition(), random);
        cluster.pause(id);
        fault(kind, "SIGSTOP broker " + id + " (leader of partition " + step.partition() + ") for " + step.holdMs()
            + " ms");
        try {
          hold(step.holdMs());
        } finally {
          cluster.resume(id);
        }
        heal(kind, "SIGCONT broker " + id);
      }
      case ISOLATE_LEADER -> {
        int id = leaderOr(step.partition(), random);
        healingNetwork(() -> {
          cluster.isolate(id);
          fault(kind, "broker " + id + " (leader of partition " + step.partition() + ") cut off from the other brokers");
          hold(step.holdMs());
        });
        heal(kind, "network healed");
      }
      case SPLIT -> {
        int leader = leaderOr(step.partition(), random);
        List<Integer> minority = new ArrayList<>(List.of(leader));
        List<Integer> majority = new ArrayList<>(brokerIds);
        majority.remove(Integer.valueOf(leader));
        while (minority.size() < (brokerIds.size() - 1) / 2) {
          minority.add(majority.remove(random.nextInt(majority.size())));
        }
        healingNetwork(() -> {
          cluster.split(minority, majority);
          fault(kind, "minority " + minority + " (with the leader of partition " + step.partition()
              + ") split from majority " + majority);
          hold(step.holdMs());
        });
        heal(kind, "network healed");
      }
      case BRIDGE -> {
        int leader = leaderOr(step.partition(), random);
        List<Integer> others = new ArrayList<>(brokerIds);
        others.remove(Integer.valueOf(leader));
        int bridge = others.remove(random.nextInt(others.size()));
        // The leader's side and the far side; the bridge sees both.
        List<Integer> near = new ArrayList<>(List.of(leader));
        while (near.size() < others.size()) {
          near.add(others.remove(random.nextInt(others.size())));
        }
        List<Integer> far = others;
        healingNetwork(() -> {
          cluster.split(near, far);
          fault(kind, near + " and " + far + " cut apart; broker " + bridge + " sees both");
          hold(step.holdMs());
        });
        heal(kind, "network healed");
      }
      case DROP_RESPONSES -> {
        int id = leaderOr(step.partition(), random);
        try {
          healingNetwork(() -> {
            cluster.dropClientTraffic(id);
            fault(kind, "responses of broker " + id + " (leader of partition " + step.partition()
                + ") to clients dropped");
            hold(step.holdMs());
            cluster.kill(id);
            fault(kind, "SIGKILL broker " + id + " while its responses are dropped");
            hold(step.holdMs());
          });
        } finally {
          if (cluster.process(id).isEmpty()) {
            cluster.restart(id);
          }
        }
        heal(kind, "network healed, broker " + id + " restarted");
      }
      case CORRUPT_FOLLOWER -> {
        int follower = followerOf(step.partition(), random);
        cluster.kill(follower);
        fault(kind, "SIGKILL follower " + follower + " of partition " + step.partition());
        fault(kind, "broker " + follower + ": " + damageSegmentTail(cluster.dataDir(follower), step.partition(), random));
        cluster.restart(follower);
        heal(kind, "restarted broker " + follower);
      }
      case WIPE_FOLLOWER -> {
        int follower = followerOf(step.partition(), random);
        cluster.kill(follower);
        fault(kind, "SIGKILL follower " + follower + " of partition " + step.partition());
        fault(kind, "broker " + follower + ": " + wipeReplica(cluster.dataDir(follower), step.partition()));
        cluster.restart(follower);
        heal(kind, "restarted broker " + follower);
      }
      case REASSIGN -> {
        PartitionInfo p = partition(step.partition());
        List<Integer> before = p.targetReplicas().isEmpty() ? p.replicas() : p.targetReplicas();
        int leaving = pick(before, random);
        List<Integer> smaller = new ArrayList<>(before);
        smaller.remove(Integer.valueOf(leaving));
        List<Integer> back = new ArrayList<>(List.of(leaving));
        back.addAll(smaller);
        reassignUnderKill(kind, step, random, smaller, true);
        reassignUnderKill(kind, step, random, back, false);
        heal(kind, "partition " + step.partition() + " back on " + back + " (was " + before + ")");
      }
      case KILL_COORDINATOR -> {
        int found = coordinator();
        int id = brokerIds.contains(found) ? found : pick(brokerIds, random);
        cluster.kill(id);
        fault(kind, "SIGKILL broker " + id + (id == found ? " (the group coordinator)"
            : " (no coordinator known right now: a random broker)"));
        hold(step.holdMs());
        cluster.restart(id);
        heal(kind, "restarted broker " + id);
      }
      case KILL_MEMBER -> {
        if (members == null) {
          throw new IllegalStateException("kill-member needs group members (--group-members N)");
        }
        List<Integer> live = members.liveSlots();
        if (live.isEmpty()) {
          throw new IllegalStateException("no group member is running");
        }
        int slot = pick(live, random);
        // Mid-batch: its last line is a processed record, so the batch is processed and not committed
        // yet. Then 0-119 ms more: mostly still processing (commit not sent), sometimes with the
        // commit in flight or just done.
        boolean midBatch = members.awaitMidBatch(slot, 5_000);
        long into = random.nextInt(120);
        hold(into);
        String how = midBatch ? into + " ms after it wrote a batch's processed records (processing takes "
            + GroupMembers.PROCESSING_MS + " ms, then commitSync)" : "with no batch in progress within 5 s";
        String label = members.kill(slot, how);
        fault(kind, "SIGKILL group member " + label + " " + how);
        hold(step.holdMs());
        String replacement = members.start(slot, "replaces " + label);
        heal(kind, "started group member " + replacement + " in place of " + label);
      }
      case KILL_ALL -> {
        for (int id : brokerIds) {
          cluster.kill(id);
        }
        fault(kind, "SIGKILL every broker " + brokerIds);
        hold(step.holdMs());
        cluster.startAll();
        heal(kind, "every broker started again");
      }
    }
    return history.now() - start;
  }

  /**
   * How long a reassignment may take after its kill was healed: a replica whose staging stalls
   * (Ratis gives up after ~2 min without progress) is staged again by a leader of a new term.
   */
  private static final long REASSIGN_DEADLINE_MS = 300_000;

  /**
   * Reassigns the step's partition to {@code target}, SIGKILLs a broker (the partition's leader, or
   * a random one) a random moment later, restarts it after the hold time and waits until the
   * reassignment has completed with every target replica in sync.
   */
  private void reassignUnderKill(String kind, Schedule.Step step, Random random, List<Integer> target,
      boolean killLeader) {
    int partition = step.partition();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    FinalRead.retry(deadline, "reassigning partition " + partition,
        t -> admin.blocking().reassignPartitions(t, Map.of(partition, target)), topic);
    fault(kind, "reassigning partition " + partition + " to " + target);
    hold(random.nextInt(1_500));
    int victim = killLeader ? leaderOr(partition, random) : pick(brokerIds, random);
    cluster.kill(victim);
    fault(kind, "SIGKILL broker " + victim + (killLeader ? " (leader of partition " + partition + ")" : "")
        + " during the reassignment");
    hold(step.holdMs());
    cluster.restart(victim);
    heal(kind, "restarted broker " + victim);
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REASSIGN_DEADLINE_MS);
    PartitionInfo p = null;
    while (System.nanoTime() < until) {
      try {
        p = partition(partition);
        if (p.targetReplicas().isEmpty() && p.replicas().equals(target) && p.isr().size() == target.size()) {
          heal(kind, "partition " + partition + " reassigned to " + target + ", all in sync");
          return;
        }
      } catch (IllegalStateException e) {
        // no description within 10 s (brokers restarting): ask again until the deadline
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500)); // polling the cluster's state
    }
    throw new IllegalStateException("reassignment of partition " + partition + " to " + target + " not complete "
        + REASSIGN_DEADLINE_MS + " ms after the kill was healed; last seen: " + p);
  }

  /**
   * The broker that coordinates consumer groups now, as FindCoordinator on the brokers says (the
   * first broker that answers with one), or -1 when none knows within 10 s.
   */
  private int coordinator() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Map<Integer, LocalCluster.Broker> brokers = cluster.brokers();
    while (System.nanoTime() < deadline) {
      for (LocalCluster.Broker b : brokers.values()) {
        ManagedChannel channel = NettyChannelBuilder.forAddress(b.host(), b.port()).usePlaintext().build();
        try {
          FindCoordinatorResponse r = GroupServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
              .findCoordinator(FindCoordinatorRequest.newBuilder().setGroupId(ChaosRun.GROUP).build());
          if (r.getError().getCode() == ErrorCode.NONE && r.hasCoordinator()) {
            return r.getCoordinator().getBrokerId();
          }
        } catch (StatusRuntimeException e) {
          // this broker is down or starting: ask the next one
        } finally {
          channel.shutdownNow();
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // retrying until the deadline
    }
    return -1;
  }

  /** Undoes everything a failed run may have left: network cuts, paused and dead brokers. */
  void healAll(boolean netns) {
    if (netns) {
      cluster.heal();
    }
    boolean anyDown = false;
    for (int id : brokerIds) {
      if (cluster.process(id).isPresent()) {
        cluster.resume(id);
      } else {
        anyDown = true;
      }
    }
    // Only when a fault left a broker down: "start" also waits until the whole cluster reports
    // healthy, ~20 s of CLI probes after pauses, while the run's own recovery check (an
    // acknowledged write on every partition) follows anyway.
    if (anyDown) {
      cluster.startAll();
    }
  }

  private interface Action {
    void run();
  }

  private void healingNetwork(Action action) {
    try {
      action.run();
    } finally {
      cluster.heal();
    }
  }

  private void fault(String kind, String detail) {
    history.add(new Event.Nemesis(history.now(), false, kind, detail));
    System.out.printf("[%6.1fs] fault %s: %s%n", history.now() / 1000.0, kind, detail);
  }

  private void heal(String kind, String detail) {
    history.add(new Event.Nemesis(history.now(), true, kind, detail));
    System.out.printf("[%6.1fs] heal  %s: %s%n", history.now() / 1000.0, kind, detail);
  }

  private static void hold(long ms) {
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms)); // the fault lasts this long by design
  }

  private static int pick(List<Integer> ids, Random random) {
    return ids.get(random.nextInt(ids.size()));
  }

  private PartitionInfo partition(int partition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    return FinalRead.retry(deadline, "the description of " + topic,
        t -> admin.blocking().describeTopic(t), topic).partitions().stream()
        .filter(p -> p.partition() == partition).findFirst()
        .orElseThrow(() -> new IllegalStateException(topic + " has no partition " + partition));
  }

  /** The partition's leader, or a random broker when there is none right now. */
  private int leaderOr(int partition, Random random) {
    int leader;
    try {
      leader = partition(partition).leader();
    } catch (IllegalStateException e) {
      leader = -1;
    }
    return brokerIds.contains(leader) ? leader : pick(brokerIds, random);
  }

  private int followerOf(int partition, Random random) {
    PartitionInfo p = partition(partition);
    List<Integer> followers = new ArrayList<>(p.replicas());
    followers.remove(Integer.valueOf(p.leader()));
    return pick(followers.isEmpty() ? brokerIds : followers, random);
  }

  /**
   * Truncates or flips a byte in the newest segment file of the partition's replica under
   * {@code dataDir} (the broker is down). Returns what was done.
   */
  String damageSegmentTail(Path dataDir, int partition, Random random) {
    Path segment = newestSegment(dataDir, partition);
    if (segment == null) {
      return "no segment file of partition " + partition + " to damage";
    }
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      if (size == 0) {
        return segment.getFileName() + " is empty; nothing to damage";
      }
      long window = Math.min(size, 4096);
      if (random.nextBoolean()) {
        long cut = 1 + random.nextLong(window);
        ch.truncate(size - cut);
        ch.force(true);
        return "truncated " + cut + " bytes off " + segment + " (was " + size + " bytes)";
      }
      long position = size - 1 - random.nextLong(window);
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, position);
      byte before = b.get(0);
      byte after = (byte) (before ^ (1 << random.nextInt(8)));
      ch.write(ByteBuffer.wrap(new byte[] {after}), position);
      ch.force(true);
      return "flipped a bit at byte " + position + " of " + segment + " (" + size + " bytes)";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot damage " + segment, e);
    }
  }

  /**
   * Deletes the broker's replica of the partition as a lost disk would: its directory under
   * data/partitions (segment files) and its Raft group directory under data/raft (Raft log,
   * snapshots), both named by the group's UUID.
   */
  String wipeReplica(Path dataDir, int partition) {
    Path replica = replicaDir(dataDir, partition);
    if (replica == null) {
      return "no replica of partition " + partition + " to delete";
    }
    Path raftGroup = dataDir.resolve("raft").resolve(replica.getFileName().toString());
    try {
      long files = deleteTree(replica) + deleteTree(raftGroup);
      return "deleted its replica of partition " + partition + " (" + files + " files under " + replica + " and "
          + raftGroup + ")";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the replica under " + replica, e);
    }
  }

  private static long deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return 0;
    }
    long files = 0;
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
        files++;
      }
    }
    return files;
  }

  /** The last .log file of the partition's replica directory (data/partitions/UUID/log/). */
  private Path newestSegment(Path dataDir, int partition) {
    Path dir = replicaDir(dataDir, partition);
    if (dir == null) {
      return null;
    }
    try (Stream<Path> files = Files.list(dir.resolve("log"))) {
      return files.filter(f -> f.getFileName().toString().endsWith(".log"))
          .max(Comparator.comparing(f -> f.getFileName().toString())).orElse(null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the segment files under " + dir, e);
    }
  }

  /** The partition's replica directory on this broker (data/partitions/UUID), or null. */
  private Path replicaDir(Path dataDir, int partition) {
    Path partitions = dataDir.resolve("partitions");
    if (!Files.isDirectory(partitions)) {
      return null;
    }
    try (Stream<Path> dirs = Files.list(partitions)) {
      for (Path dir : dirs.toList()) {
        Path descriptor = dir.resolve("partition.properties");
        if (!Files.isRegularFile(descriptor)) {
          continue;
        }
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(descriptor)) {
          props.load(r);
        }
        if (!topic.equals(props.getProperty("topic"))
            || !Integer.toString(partition).equals(props.getProperty("partition"))) {
          continue;
        }
        return dir;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot look for the segment files under " + partitions, e);
    }
    return null;
  }
}
