/**
 * Consumer groups as deterministic state of the metadata log: membership, the server-side
 * assignors, the reconciliation that hands a partition to a new owner only after the previous one
 * gave it up, and committed offsets. No Ratis or gRPC imports; time comes from the commands.
 */
package io.raftlog.statemachine.group;
