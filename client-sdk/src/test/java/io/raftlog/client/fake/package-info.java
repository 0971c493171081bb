/**
 * An in-process fake Raftlog cluster for client tests: N brokers on the gRPC in-process
 * transport sharing one tiny in-memory log per partition, with fault injection.
 */
package io.raftlog.client.fake;
