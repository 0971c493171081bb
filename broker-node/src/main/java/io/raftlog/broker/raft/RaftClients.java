package io.raftlog.broker.raft;

import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.retry.ExponentialBackoffRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/** Builds the broker's in-process Ratis clients (used to reach a group led by another broker). */
public final class RaftClients {

  private RaftClients() {}

  /**
   * A client with a bounded exponential backoff instead of Ratis' default retry-forever, so a
   * request fails within roughly {@code maxAttempts} backoffs when a group has no leader.
   */
  public static RaftClient create(RaftGroup group, int maxMessageBytes) {
    RaftProperties p = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    RaftClientConfigKeys.Async.setOutstandingRequestsMax(p, 100);
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(maxMessageBytes));
    RetryPolicy retry = ExponentialBackoffRetry.newBuilder()
        .setBaseSleepTime(TimeDuration.valueOf(50, TimeUnit.MILLISECONDS))
        .setMaxSleepTime(TimeDuration.valueOf(1, TimeUnit.SECONDS))
        .setMaxAttempts(15)
        .build();
    return RaftClient.newBuilder().setRaftGroup(group).setProperties(p).setRetryPolicy(retry).build();
  }
}
