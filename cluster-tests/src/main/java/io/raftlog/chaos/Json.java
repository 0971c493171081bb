package io.raftlog.chaos;

/**
 * The little JSON the history and the group members' output files need: string quoting, and a
 * reader for the flat objects those files hold (strings, whole numbers, booleans, null, arrays and
 * nested objects of these).
 */
final class Json {

  private Json() {}

  /**
   * Parses one JSON object. Numbers become {@code Long}, arrays {@code List<Object>}, objects
   * {@code Map<String, Object>} (insertion order). Throws {@link IllegalArgumentException} on
   * anything else, including a truncated line.
   */
  static java.util.Map<String, Object> parseObject(String text) {
    Parser p = new Parser(text);
    p.skipSpace();
    Object v = p.value();
    p.skipSpace();
    if (!(v instanceof java.util.Map<?, ?>) || p.pos != text.length()) {
      throw new IllegalArgumentException("not one JSON object: " + text);
    }
    @SuppressWarnings("unchecked")
    java.util.Map<String, Object> map = (java.util.Map<String, Object>) v;
    return map;
  }

  private static final class Parser {
    private final String s;
    private int pos;

    Parser(String s) {
      this.s = s;
    }

    void skipSpace() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    private char peek() {
      if (pos >= s.length()) {
        throw new IllegalArgumentException("JSON ends early at character " + pos);
      }
      return s.charAt(pos);
    }

    private void expect(char c) {
      if (peek() != c) {
        throw new IllegalArgumentException("expected '" + c + "' at character " + pos + " of: " + s);
      }
      pos++;
    }

    Object value() {
      char c = peek();
      switch (c) {
        case '{' -> {
          pos++;
          java.util.Map<String, Object> map = new java.util.LinkedHashMap<>();
          skipSpace();
          if (peek() == '}') {
            pos++;
            return map;
          }
          while (true) {
            skipSpace();
            String key = string();
            skipSpace();
            expect(':');
            skipSpace();
            map.put(key, value());
            skipSpace();
            if (peek() == ',') {
              pos++;
            } else {
              expect('}');
              return map;
            }
          }
        }
        case '[' -> {
          pos++;
          java.util.List<Object> list = new java.util.ArrayList<>();
          skipSpace();
          if (peek() == ']') {
            pos++;
            return list;
          }
          while (true) {
            skipSpace();
            list.add(value());
            skipSpace();
            if (peek() == ',') {
              pos++;
            } else {
              expect(']');
              return list;
            }
          }
        }
        case '"' -> {
          return string();
        }
        default -> {
          if (s.startsWith("true", pos)) {
            pos += 4;
            return Boolean.TRUE;
          }
          if (s.startsWith("false", pos)) {
            pos += 5;
            return Boolean.FALSE;
          }
          if (s.startsWith("null", pos)) {
            pos += 4;
            return null;
          }
          int start = pos;
          if (peek() == '-') {
            pos++;
          }
          while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
            pos++;
          }
          if (start == pos || (s.charAt(start) == '-' && pos == start + 1)) {
            throw new IllegalArgumentException("unexpected '" + c + "' at character " + start + " of: " + s);
          }
          return Long.parseLong(s.substring(start, pos));
        }
      }
    }

    String string() {
      expect('"');
      StringBuilder sb = new StringBuilder();
      while (true) {
        char c = peek();
        pos++;
        if (c == '"') {
          return sb.toString();
        }
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        char e = peek();
        pos++;
        switch (e) {
          case '"', '\\', '/' -> sb.append(e);
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'u' -> {
            if (pos + 4 > s.length()) {
              throw new IllegalArgumentException("JSON ends inside an escape");
            }
            sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
            pos += 4;
          }
          default -> throw new IllegalArgumentException("bad escape '\\" + e + "' in: " + s);
        }
      }
    }
  }

  static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
