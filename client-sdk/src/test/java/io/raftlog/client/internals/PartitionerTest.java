package io.raftlog.client.internals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.raftlog.client.errors.InvalidArgumentException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class PartitionerTest {

    private static int murmur(String s) {
        return Partitioner.murmur2(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void murmur2MatchesKafka() {
        assertEquals(-973932308, murmur("21"));
        assertEquals(-790332482, murmur("foobar"));
        assertEquals(-985981536, murmur("a-little-bit-long-string"));
        assertEquals(-1486304829, murmur("a-little-bit-longer-string"));
        assertEquals(-58897971, murmur("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"));
        assertEquals(479470107, Partitioner.murmur2(new byte[] {'a', 'b', 'c'}));
    }

    @Test
    void toPositiveClearsOnlyTheSignBit() {
        assertEquals(0, Partitioner.toPositive(Integer.MIN_VALUE));
        assertEquals(Integer.MAX_VALUE, Partitioner.toPositive(-1));
        assertEquals(5, Partitioner.toPositive(5));
    }

    @Test
    void keyedRecordsUseMurmur2ModuloPartitions() {
        Partitioner partitioner = new Partitioner();
        // toPositive(-790332482) = 1357151166; % 7 = 1357151166 - 193878738*7 = 0
        assertEquals(1357151166 % 7, partitioner.partition("t", null, "foobar".getBytes(StandardCharsets.UTF_8), 7));
        assertEquals((-973932308 & 0x7fffffff) % 10,
                partitioner.partition("t", null, "21".getBytes(StandardCharsets.UTF_8), 10));
        // The same key always lands on the same partition, whatever was sent before.
        int first = partitioner.partition("t", null, "k".getBytes(StandardCharsets.UTF_8), 5);
        partitioner.partition("t", null, null, 5);
        assertEquals(first, partitioner.partition("t", null, "k".getBytes(StandardCharsets.UTF_8), 5));
    }

    @Test
    void keylessRecordsGoRoundRobinPerTopicStartingAtZero() {
        Partitioner partitioner = new Partitioner();
        assertEquals(0, partitioner.partition("a", null, null, 3));
        assertEquals(1, partitioner.partition("a", null, null, 3));
        assertEquals(0, partitioner.partition("b", null, null, 3));
        assertEquals(2, partitioner.partition("a", null, null, 3));
        assertEquals(0, partitioner.partition("a", null, null, 3));
        assertEquals(1, partitioner.partition("b", null, null, 3));
    }

    @Test
    void explicitPartitionWins() {
        Partitioner partitioner = new Partitioner();
        assertEquals(2, partitioner.partition("t", 2, "foobar".getBytes(StandardCharsets.UTF_8), 3));
        assertEquals(2, partitioner.partition("t", 2, null, 3));
        // An explicit partition does not consume a round-robin slot.
        assertEquals(0, partitioner.partition("t", null, null, 3));
        assertThrows(InvalidArgumentException.class, () -> partitioner.partition("t", 3, null, 3));
        assertThrows(InvalidArgumentException.class, () -> partitioner.partition("t", -1, null, 3));
    }
}
