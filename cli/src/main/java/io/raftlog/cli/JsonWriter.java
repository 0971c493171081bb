package io.raftlog.cli;

/**
 * A minimal streaming JSON writer (objects, arrays, strings, numbers, booleans) with RFC 8259
 * string escaping. Commas are inserted automatically. Not thread-safe.
 */
public final class JsonWriter {
    private final StringBuilder sb = new StringBuilder();
    /** Whether the next value in the current container needs a leading comma. */
    private boolean needComma;

    public JsonWriter beginObject() {
        separator();
        sb.append('{');
        needComma = false;
        return this;
    }

    public JsonWriter endObject() {
        sb.append('}');
        needComma = true;
        return this;
    }

    public JsonWriter beginArray() {
        separator();
        sb.append('[');
        needComma = false;
        return this;
    }

    public JsonWriter endArray() {
        sb.append(']');
        needComma = true;
        return this;
    }

    /** Writes a member name; the next call writes its value. */
    public JsonWriter name(String name) {
        separator();
        quote(name);
        sb.append(':');
        needComma = false;
        return this;
    }

    public JsonWriter value(String value) {
        separator();
        if (value == null) {
            sb.append("null");
        } else {
            quote(value);
        }
        needComma = true;
        return this;
    }

    public JsonWriter value(long value) {
        separator();
        sb.append(value);
        needComma = true;
        return this;
    }

    public JsonWriter value(boolean value) {
        separator();
        sb.append(value);
        needComma = true;
        return this;
    }

    public JsonWriter value(Iterable<? extends Number> numbers) {
        beginArray();
        for (Number n : numbers) {
            value(n.longValue());
        }
        return endArray();
    }

    private void separator() {
        if (needComma) {
            sb.append(',');
        }
    }

    private void quote(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    // Control characters must be escaped; U+2028/2029 too, so the output is also valid JavaScript.
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
