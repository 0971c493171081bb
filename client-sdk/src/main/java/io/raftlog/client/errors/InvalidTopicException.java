package io.raftlog.client.errors;

/**
 * The topic name is one no topic can have: empty, {@code .} or {@code ..}, longer than 249
 * characters, or with a character outside {@code [a-zA-Z0-9._-]}. The message names the rule and
 * the first illegal character, in the broker's words.
 *
 * <p>Raised without any request when the client's copy of the broker's rules already refuses the
 * name, and otherwise when a broker answers INVALID_ARGUMENT for the topic in a metadata answer.
 * Not retriable: the same name fails the same way. A subclass of
 * {@link InvalidArgumentException}, so code catching that sees it too.
 */
public class InvalidTopicException extends InvalidArgumentException {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public InvalidTopicException(String topic, String message) {
        super(message);
        this.topic = topic;
    }

    public InvalidTopicException(String topic, String message, Throwable cause) {
        super(message, cause);
        this.topic = topic;
    }

    /** The refused name, as the application gave it. */
    public String topic() {
        return topic;
    }
}
