/**
 * gRPC services of the public API (and the broker-internal one). They validate, translate to the
 * partition and metadata layers and map failures to stable error codes; no logic of their own.
 */
package io.raftlog.broker.rpc;
