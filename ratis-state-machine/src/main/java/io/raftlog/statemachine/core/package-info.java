/**
 * Deterministic partition logic with no framework imports: offset assignment and idempotent-producer
 * deduplication. Every replica applies the same batches in the same order and reaches the same state.
 */
package io.raftlog.statemachine.core;
