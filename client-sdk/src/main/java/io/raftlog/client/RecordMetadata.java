package io.raftlog.client;

/**
 * Where an acknowledged record was stored.
 *
 * @param topic topic
 * @param partition partition
 * @param offset offset of the record, -1 with {@code acks=0} (the broker does not report it)
 * @param timestampMs the create time of the record: the one set on the {@code ProducerRecord}, or the
 *     send time when it had none
 */
public record RecordMetadata(String topic, int partition, long offset, long timestampMs) {
}
