package io.raftlog.cli;

/**
 * One input line of {@code produce}: with a key separator, the text before its first occurrence
 * is the key and the rest the value; a line without the separator is keyless.
 *
 * @param key the key, or {@code null} for a keyless record (an empty key stays an empty key)
 * @param value the value
 */
public record KeyValueLine(String key, String value) {

    public static KeyValueLine parse(String line, String separator) {
        if (separator == null) {
            return new KeyValueLine(null, line);
        }
        int at = line.indexOf(separator);
        if (at < 0) {
            return new KeyValueLine(null, line);
        }
        return new KeyValueLine(line.substring(0, at), line.substring(at + separator.length()));
    }
}
