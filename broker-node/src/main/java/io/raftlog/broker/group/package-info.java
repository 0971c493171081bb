/**
 * The consumer-group coordinator: runs on the metadata leader, turns heartbeats that change
 * something into group commands of the metadata log, answers the others from the applied group
 * state, and expels members whose session timed out. The group rules themselves are in {@code
 * io.raftlog.statemachine.group}.
 */
package io.raftlog.broker.group;
