package io.raftlog.client.internals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.client.errors.InvalidArgumentException;
import io.raftlog.client.errors.InvalidTopicException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client's copy of the broker's topic-name rules. Agreement with the broker's own
 * implementation, message for message, is checked in broker-node (TopicNameRulesAgreementTest).
 */
@Timeout(10)
class TopicNamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "orders", "Orders-2024_v1.0", "...", "a..b", ".hidden", "_", "-", "0", "x.y-z_W",
        "__consumer_offsets"})
    void legalNamesPass(String name) {
        assertNull(TopicNames.problem(name));
        TopicNames.validate(name);
    }

    @Test
    void lengthLimitIs249() {
        assertNull(TopicNames.problem("a".repeat(249)));
        assertEquals("topic name is 250 characters long; at most 249 are allowed", TopicNames.problem("a".repeat(250)));
    }

    @Test
    void emptyDotAndDotDot() {
        assertEquals("topic name must not be empty", TopicNames.problem(""));
        assertEquals("topic name must not be empty", TopicNames.problem(null));
        assertEquals("topic name cannot be '.' or '..'", TopicNames.problem("."));
        assertEquals("topic name cannot be '.' or '..'", TopicNames.problem(".."));
    }

    @Test
    void firstIllegalCharacterIsNamedAndEscaped() {
        assertEquals("topic name 'bad name!' is illegal: character ' ' (U+0020) at index 3; "
                + "use only ASCII letters, digits, '.', '_' and '-'", TopicNames.problem("bad name!"));
        String tab = TopicNames.problem("tab\there");
        assertTrue(tab.startsWith("topic name 'tab\\u0009here' is illegal: character '\\u0009' (U+0009) at index 3;"),
                tab);
        assertFalse(tab.contains("\t"), "no raw control characters in the message");
        assertTrue(TopicNames.problem("tópico").contains("character '\\u00f3' (U+00F3) at index 1"));
        // A character outside the BMP is named by its first UTF-16 unit, as the broker does.
        assertTrue(TopicNames.problem("x😀").contains("(U+D83D) at index 1"), TopicNames.problem("x😀"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"with space", "slash/es", "back\\slash", "colon:", "star*", "主题", "a+b", "\u00a0",
        "a\u0000b", "new\nline"})
    void illegalCharactersAreRefused(String name) {
        assertNotNull(TopicNames.problem(name), name);
    }

    @Test
    void validateThrowsAnInvalidTopicExceptionNamingTheTopic() {
        InvalidTopicException e = assertThrows(InvalidTopicException.class, () -> TopicNames.validate("bad name!"));
        assertEquals("bad name!", e.topic());
        assertEquals(TopicNames.problem("bad name!"), e.getMessage());
        assertFalse(e.isRetriable());
        assertTrue(e instanceof InvalidArgumentException, "callers catching InvalidArgumentException see it too");
    }
}
