/**
 * Ratis adapters: the partition and metadata state machines, their snapshots and safe Raft log
 * purge, and long-poll waiters. They decode entries, delegate to the pure packages and wrap results.
 */
package io.raftlog.statemachine.ratis;
