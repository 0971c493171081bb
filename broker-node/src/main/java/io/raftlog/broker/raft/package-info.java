/**
 * The broker's single Ratis server (multi-raft): Ratis properties, deterministic group and peer ids,
 * adding and removing groups, and the in-process Ratis clients used to reach other leaders.
 */
package io.raftlog.broker.raft;
