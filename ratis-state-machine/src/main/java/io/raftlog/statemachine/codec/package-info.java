/**
 * Record batch encoding (Kafka v2 via kafka-clients) and translation between core types and the
 * replicated formats of {@code raftlog.log.v1}.
 */
package io.raftlog.statemachine.codec;
