/**
 * The consumer's fetch machinery, behind {@link io.raftlog.client.Consumer}.
 *
 * <ul>
 *   <li>{@link io.raftlog.client.internals.consumer.Fetcher}: the per-partition state machine
 *       (positions, resets, prefetch buffers, retries). Confined to the application thread.</li>
 *   <li>{@link io.raftlog.client.internals.consumer.ConsumerTransport}: the two RPCs it needs
 *       (Fetch, ListOffsets) as cancellable futures; gRPC in production, a fake in unit tests.</li>
 *   <li>{@link io.raftlog.client.internals.consumer.Routing}: which broker to ask for a partition,
 *       from the metadata cache.</li>
 *   <li>{@link io.raftlog.client.internals.consumer.RecordBatchDecoder}: Kafka v2 record batches
 *       (possibly lz4/gzip-compressed, possibly compacted) to
 *       {@link io.raftlog.client.internals.consumer.DecodedRecord}s and the offset to fetch next.</li>
 *   <li>{@link io.raftlog.client.internals.consumer.Waiter}: how the application thread sleeps until a
 *       response arrives; a fake in tests so nothing sleeps for real.</li>
 * </ul>
 *
 * <p>Not a stable API.
 */
package io.raftlog.client.internals.consumer;
