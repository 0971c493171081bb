package io.raftlog.client;

/**
 * Where an acknowledged record was stored.
 *
 * @param topic topic
 * @param partition partition
 * @param offset offset of the record, -1 with {@code acks=0} (the broker does not report it)
 * @param timestampMs the create time sent with the record (0 when the broker assigned it)
 */
public record RecordMetadata(String topic, int partition, long offset, long timestampMs) {
}
