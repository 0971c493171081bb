/**
 * Client internals: metadata cache, partitioner, retry/backoff and future helpers. Not a stable
 * API; public only so the public package and tests can use them.
 */
package io.raftlog.client.internals;
