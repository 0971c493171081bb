/**
 * This broker's side of cluster metadata: the view of the applied metadata image (and broker
 * liveness), the client that proposes metadata commands, and registration plus heartbeats.
 */
package io.raftlog.broker.metadata;
