package io.raftlog.client;

import java.util.Collection;
import java.util.List;

/**
 * Where {@link Admin#resetGroupOffsets} moves a group's committed offsets: to the log start
 * ({@link #earliest()}), to the log end ({@link #latest()}) or to a given offset
 * ({@link #toOffset(long)}), for every partition of the topic or only for
 * {@link #partitions()} (see {@link #forPartitions}). Immutable.
 */
public sealed interface GroupOffsetReset {

    /** The partitions to reset; empty means every partition of the topic. */
    List<Integer> partitions();

    /** The same reset restricted to {@code partitions} (empty: every partition). */
    GroupOffsetReset forPartitions(Collection<Integer> partitions);

    /** To each partition's log start offset, for every partition. */
    static GroupOffsetReset earliest() {
        return new Earliest(List.of());
    }

    /** To each partition's log end offset (high watermark), for every partition. */
    static GroupOffsetReset latest() {
        return new Latest(List.of());
    }

    /** To {@code offset} ({@code >= 0}), for every partition. */
    static GroupOffsetReset toOffset(long offset) {
        return new ToOffset(offset, List.of());
    }

    /** Reset to the log start offset. */
    record Earliest(List<Integer> partitions) implements GroupOffsetReset {
        public Earliest {
            partitions = checkPartitions(partitions);
        }

        @Override
        public GroupOffsetReset forPartitions(Collection<Integer> partitions) {
            return new Earliest(List.copyOf(partitions));
        }
    }

    /** Reset to the log end offset. */
    record Latest(List<Integer> partitions) implements GroupOffsetReset {
        public Latest {
            partitions = checkPartitions(partitions);
        }

        @Override
        public GroupOffsetReset forPartitions(Collection<Integer> partitions) {
            return new Latest(List.copyOf(partitions));
        }
    }

    /** Reset to a given offset. */
    record ToOffset(long offset, List<Integer> partitions) implements GroupOffsetReset {
        public ToOffset {
            if (offset < 0) {
                throw new IllegalArgumentException("offset must be >= 0: " + offset);
            }
            partitions = checkPartitions(partitions);
        }

        @Override
        public GroupOffsetReset forPartitions(Collection<Integer> partitions) {
            return new ToOffset(offset, List.copyOf(partitions));
        }
    }

    private static List<Integer> checkPartitions(List<Integer> partitions) {
        List<Integer> copy = List.copyOf(partitions);
        for (int p : copy) {
            if (p < 0) {
                throw new IllegalArgumentException("partition must be >= 0: " + p);
            }
        }
        return copy;
    }
}
