/**
 * The {@code raftlog} command-line client (picocli): topic and consumer-group administration,
 * cluster inspection, produce from stdin and consume to stdout. Output formats are contracts used
 * by scripts.
 */
package io.raftlog.cli;
