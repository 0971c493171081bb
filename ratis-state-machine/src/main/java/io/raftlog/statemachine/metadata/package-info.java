/**
 * Deterministic cluster metadata: the metadata image as a function of the metadata log, replica
 * placement and topic validation rules.
 */
package io.raftlog.statemachine.metadata;
