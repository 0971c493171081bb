package io.raftlog.client.internals;

import io.raftlog.client.errors.InvalidTopicException;

/**
 * The client's copy of the broker's topic-name rules ({@code TopicRules.checkName} in
 * ratis-state-machine, which the SDK may not import), so that a name no topic can have fails at
 * once, without a request, with the broker's own message. The rules are Kafka's: not empty, not
 * {@code .} or {@code ..}, at most 249 UTF-16 chars, only ASCII letters, digits, {@code .},
 * {@code _} and {@code -}; checked in that order.
 *
 * <p>Must never refuse a name the broker accepts: the broker stays the authority (its
 * INVALID_ARGUMENT answers are reported too), and {@code TopicNameRulesAgreementTest} in
 * broker-node compares both implementations, messages included. Stateless and thread-safe.
 */
public final class TopicNames {

    /** Longest legal name, in UTF-16 chars (as {@link String#length()} counts). */
    public static final int MAX_LENGTH = 249;

    private TopicNames() {
    }

    /** Why no topic can be called {@code name}, in the broker's words; {@code null} if it is legal. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "topic name must not be empty";
        }
        if (name.equals(".") || name.equals("..")) {
            return "topic name cannot be '.' or '..'";
        }
        if (name.length() > MAX_LENGTH) {
            return "topic name is " + name.length() + " characters long; at most " + MAX_LENGTH + " are allowed";
        }
        for (int at = 0; at < name.length(); at++) {
            char c = name.charAt(at);
            if (!isLegal(c)) {
                return "topic name '" + printable(name) + "' is illegal: character '" + printable(String.valueOf(c))
                        + "' (U+" + String.format("%04X", (int) c) + ") at index " + at
                        + "; use only ASCII letters, digits, '.', '_' and '-'";
            }
        }
        return null;
    }

    /**
     * Throws if no topic can be called {@code name}.
     *
     * @throws InvalidTopicException naming the rule and the first illegal character
     */
    public static void validate(String name) {
        String problem = problem(name);
        if (problem != null) {
            throw new InvalidTopicException(name, problem);
        }
    }

    private static boolean isLegal(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '_' || c == '-';
    }

    /** Control and non-ASCII chars escaped Java-style (backslash, u, four hex digits), as the broker prints names. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
