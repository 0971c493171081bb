package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class KeyValueLineTest {

    @Test
    void splitsAtTheFirstSeparator() {
        assertEquals(new KeyValueLine("k", "v:w"), KeyValueLine.parse("k:v:w", ":"));
        assertEquals(new KeyValueLine("user-1", "x"), KeyValueLine.parse("user-1::x", "::"));
    }

    @Test
    void lineWithoutSeparatorIsKeyless() {
        assertEquals(new KeyValueLine(null, "plain"), KeyValueLine.parse("plain", ":"));
        assertEquals(new KeyValueLine(null, "a:b"), KeyValueLine.parse("a:b", null));
    }

    @Test
    void emptyKeyAndEmptyValueArePreserved() {
        assertEquals(new KeyValueLine("", "v"), KeyValueLine.parse(":v", ":"));
        assertEquals(new KeyValueLine("k", ""), KeyValueLine.parse("k:", ":"));
    }
}
