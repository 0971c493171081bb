/**
 * Consumer groups, behind {@link io.raftlog.client.Consumer#subscribe} and the commit methods.
 *
 * <ul>
 *   <li>{@link io.raftlog.client.internals.consumer.group.GroupTransport}: the GroupService RPCs as
 *       futures against a given broker; gRPC in production, a fake in unit tests.</li>
 *   <li>{@link io.raftlog.client.internals.consumer.group.CoordinatorClient}: finds and caches the
 *       coordinator, follows NOT_COORDINATOR hints, retries coordinator requests with backoff.
 *       {@link io.raftlog.client.Admin}'s group methods use it too.</li>
 *   <li>{@link io.raftlog.client.internals.consumer.group.MembershipManager}: member id and epoch,
 *       target assignment and heartbeats, on a background {@link
 *       io.raftlog.client.internals.consumer.group.Scheduler} thread.</li>
 *   <li>{@link io.raftlog.client.internals.consumer.group.ConsumerCoordinator}: the application-thread
 *       side: reconciliation with the rebalance listener, commits, committed offsets.</li>
 * </ul>
 *
 * <p>Time, the scheduler and the waiter are injected, so tests drive everything with a fake clock
 * and run scheduled tasks by hand. Not a stable API.
 */
package io.raftlog.client.internals.consumer.group;
