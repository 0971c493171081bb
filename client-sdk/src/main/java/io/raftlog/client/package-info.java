/**
 * Public API of the Raftlog Java client: {@link io.raftlog.client.Admin},
 * {@link io.raftlog.client.Producer} and {@link io.raftlog.client.Consumer}, their configurations
 * and the value types they exchange.
 *
 * <p>Nothing in this package exposes gRPC or protobuf types. Failures surface as subclasses of
 * {@link io.raftlog.client.errors.RaftlogException}.
 */
package io.raftlog.client;
