/**
 * The producer's machinery, Kafka-style: {@code Producer = RecordAccumulator + Sender}.
 *
 * <ul>
 *   <li>{@link io.raftlog.client.internals.producer.RecordAccumulator}: per-partition deques of
 *       {@link io.raftlog.client.internals.producer.ProducerBatch}es, memory-bounded by a
 *       {@link io.raftlog.client.internals.producer.BufferPool}; no I/O.</li>
 *   <li>{@link io.raftlog.client.internals.producer.Sender}: one thread that drains ready batches,
 *       assigns idempotence sequences
 *       ({@link io.raftlog.client.internals.producer.PartitionSequences}), groups batches per leader
 *       broker, sends them through a {@link io.raftlog.client.internals.producer.ProducerTransport}
 *       and handles the answers (retries, timeouts, producer-id resets).</li>
 *   <li>{@link io.raftlog.client.internals.producer.GrpcProducerTransport}: one ordered
 *       {@code ProduceStream} per broker.</li>
 * </ul>
 *
 * <p>Tests drive {@code Sender.runOnce(nowMs)} by hand with a fake clock, a fake transport and a
 * fake {@link io.raftlog.client.internals.producer.ProducerMetadata}.
 */
package io.raftlog.client.internals.producer;
