/**
 * Typed exceptions of the Raftlog client.
 *
 * <p>Every {@link io.raftlog.api.v1.ErrorCode} maps to exactly one exception class through
 * {@link io.raftlog.client.errors.Errors}. Exceptions that extend
 * {@link io.raftlog.client.errors.RetriableException} describe transient conditions (leader
 * moves, unavailable brokers, timeouts): the producer and consumer retry them internally, so
 * applications only see them once a delivery or request timeout has expired.
 */
package io.raftlog.client.errors;
