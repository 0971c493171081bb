/**
 * The partition log: the record batches of one partition replica, behind {@link
 * io.raftlog.statemachine.store.LogStore}.
 *
 * <p>{@link io.raftlog.statemachine.store.FileLogStore} keeps them on disk in Kafka's format;
 * {@link io.raftlog.statemachine.store.MemoryLogStore} keeps them in memory for tests of the layers
 * above.
 *
 * <h2>On-disk format</h2>
 *
 * <p>A log is a directory of segments. Each segment covers a contiguous offset range starting at
 * its base offset, and consists of two files named by that base offset, zero-padded to 20 digits:
 *
 * <ul>
 *   <li>{@code 00000000000000000000.log}: Kafka v2 record batches (magic 2, CRC32C) concatenated
 *       exactly as appended (or as compaction rewrote them), the same bytes as a Kafka {@code .log}
 *       file. Batch offsets are contiguous across the whole log. Every batch's partition leader
 *       epoch is -1: the field is outside the CRC, and a fixed value lets recovery tell a damaged
 *       one (see {@link io.raftlog.statemachine.store.StoredBatches#STORED_PARTITION_LEADER_EPOCH}).
 *   <li>{@code 00000000000000000000.index}: a sparse offset index, 8-byte big-endian entries of
 *       (base offset of a batch minus the segment base offset: int32, file position of that batch
 *       in the {@code .log}: int32), ascending, one entry per {@link
 *       io.raftlog.statemachine.store.LogStoreConfig#indexIntervalBytes()} of log data. A read
 *       jumps to the last entry at or below the wanted offset and walks batch headers from there.
 * </ul>
 *
 * <p>The last segment is the active one and takes appends; the log rolls to a new segment (based
 * at the log end offset) when a batch would push the active one past {@link
 * io.raftlog.statemachine.store.LogStoreConfig#segmentBytes()}. The log start offset is the base
 * offset of the first segment; retention deletes whole segments. No other file is needed: an
 * index can always be rebuilt from its log, and on open the last segment is validated batch by
 * batch (size bounds, offset continuity, CRC32C, partition leader epoch) and cut at the first
 * torn or corrupt batch.
 *
 * <p>Log compaction ({@link io.raftlog.statemachine.store.Compaction}) rewrites sealed segments in
 * place: records are removed from batches, but every batch keeps its offset range (an emptied batch
 * stays as a bare header), so batch offsets stay contiguous; a record's offset never changes, and
 * record offsets inside a batch may have gaps. Two more names may appear in a log directory:
 * {@code cleaner-offset-checkpoint} (the offset below which the log was cleaned; missing means
 * nothing was) and {@code .cleaning/} (copies being written; deleted on open).
 */
package io.raftlog.statemachine.store;
