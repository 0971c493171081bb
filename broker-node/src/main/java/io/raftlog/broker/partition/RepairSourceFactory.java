package io.raftlog.broker.partition;

import io.raftlog.statemachine.ratis.ReplicaRepairSource;
import java.util.function.Supplier;
import org.apache.ratis.server.RaftServer;

/**
 * Builds, for each local partition replica, the way it reaches the other replicas of its partition
 * when its segment files must be repaired (see {@code PartitionStateMachine}).
 */
@FunctionalInterface
public interface RepairSourceFactory {

  /**
   * @param division the replica's Raft division (null while it is starting): its group names the
   *     peers to copy from
   * @return the source, or null when this broker cannot repair replicas
   */
  ReplicaRepairSource create(PartitionDescriptor partition, Supplier<RaftServer.Division> division);
}
