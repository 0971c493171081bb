/**
 * gRPC transport: one {@link io.grpc.ManagedChannel} per broker address, shared by all requests
 * of a client instance.
 */
package io.raftlog.client.transport;
