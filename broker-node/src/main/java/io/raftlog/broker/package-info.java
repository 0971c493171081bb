/**
 * The broker process: {@link io.raftlog.broker.BrokerMain} parses configuration and starts a
 * {@link io.raftlog.broker.Broker}, which wires the Ratis server, metadata, partitions and the public
 * gRPC server together and owns their lifecycle.
 */
package io.raftlog.broker;
