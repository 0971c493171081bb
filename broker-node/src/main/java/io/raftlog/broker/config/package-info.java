/**
 * The broker's typed configuration: every key with its default, documentation and validation.
 */
package io.raftlog.broker.config;
