package org.adjoint.io;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON that file headers need, strict to RFC 8259. Values parse to {@link LinkedHashMap}
 * (objects, in document order), {@link List}, {@link String}, {@link BigDecimal} (every
 * number, so that integers of any size stay exact), {@link Boolean} and {@link #NULL}.
 * A number literal may have at most {@value #MAX_NUMBER_CHARS} characters.
 */
final class Json {

    /** JSON {@code null}: a marker, so that a map lookup can tell it from a missing key. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    // Deep enough for any real header; recursion beyond it could overflow the thread's stack.
    private static final int MAX_DEPTH = 64;

    // BigDecimal parses a literal in time quadratic in its length (a million digits: 14 s), so a
    // header of one long number could stall a reader for hours. Sizes and offsets have at most
    // 20 digits; RFC 8259 lets a parser limit the range and precision of numbers.
    static final int MAX_NUMBER_CHARS = 1000;

    private final String text;
    private int position;

    private Json(String text) {
        this.text = text;
    }

    /**
     * Parses one JSON value that may be surrounded by whitespace.
     *
     * @throws IllegalArgumentException naming the offset and what was expected there
     */
    static Object parse(String text) {
        Json parser = new Json(text);
        parser.skipWhitespace();
        Object value = parser.value(0);
        parser.skipWhitespace();
        if (parser.position < text.length()) {
            throw parser.error("unexpected " + parser.describeNext() + " after the value");
        }
        return value;
    }

    /** Writes maps (with string keys), lists, strings, integers and booleans, without whitespace. */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        switch (value) {
            case Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    writeString((String) entry.getKey(), out);
                    out.append(':');
                    write(entry.getValue(), out);
                }
                out.append('}');
            }
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(list.get(i), out);
                }
                out.append(']');
            }
            case String string -> writeString(string, out);
            case Integer number -> out.append(number.intValue());
            case Long number -> out.append(number.longValue());
            case Boolean bool -> out.append(bool.booleanValue());
            default -> throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON");
        }
    }

    private static void writeString(String string, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < string.length(); i++) {
            char c = string.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private Object value(int depth) {
        if (position >= text.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = text.charAt(position);
        return switch (c) {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("expected a value but found " + describeNext());
            }
        };
    }

    private Map<String, Object> object(int depth) {
        checkDepth(depth);
        position++;
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            position++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a string key but found " + describeNext());
            }
            int keyStart = position;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object value = value(depth);
            if (map.containsKey(key)) {
                position = keyStart;
                throw error("duplicate key \"" + key + "\"");
            }
            map.put(key, value);
            skipWhitespace();
            if (peek() == ',') {
                position++;
            } else if (peek() == '}') {
                position++;
                return map;
            } else {
                throw error("expected ',' or '}' but found " + describeNext());
            }
        }
    }

    private List<Object> array(int depth) {
        checkDepth(depth);
        position++;
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            position++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth));
            skipWhitespace();
            if (peek() == ',') {
                position++;
            } else if (peek() == ']') {
                position++;
                return list;
            } else {
                throw error("expected ',' or ']' but found " + describeNext());
            }
        }
    }

    private String string() {
        int start = position;
        position++;
        StringBuilder out = new StringBuilder();
        while (true) {
            if (position >= text.length()) {
                position = start;
                throw error("unterminated string");
            }
            char c = text.charAt(position);
            if (c == '"') {
                position++;
                return out.toString();
            }
            if (c < 0x20) {
                throw error("unescaped control character U+" + hex4(c) + " in a string");
            }
            if (c != '\\') {
                out.append(c);
                position++;
                continue;
            }
            position++;
            char escaped = position < text.length() ? text.charAt(position) : '\0';
            position++;
            switch (escaped) {
                case '"' -> out.append('"');
                case '\\' -> out.append('\\');
                case '/' -> out.append('/');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> out.append(unicodeEscape());
                default -> {
                    position -= 2;
                    throw error("invalid escape \\" + (escaped == '\0' ? "" : String.valueOf(escaped))
                            + " in a string");
                }
            }
        }
    }

    /** The characters of a {@code \}{@code uXXXX} escape (just past the {@code u}), joining surrogate pairs. */
    private String unicodeEscape() {
        int escapeStart = position - 2;
        char first = hexCharacter();
        if (Character.isLowSurrogate(first)) {
            position = escapeStart;
            throw error("unpaired low surrogate \\u" + hex4(first));
        }
        if (!Character.isHighSurrogate(first)) {
            return String.valueOf(first);
        }
        if (!text.startsWith("\\u", position)) {
            position = escapeStart;
            throw error("high surrogate \\u" + hex4(first) + " is not followed by a low surrogate escape");
        }
        position += 2;
        char second = hexCharacter();
        if (!Character.isLowSurrogate(second)) {
            position = escapeStart;
            throw error("high surrogate \\u" + hex4(first) + " is followed by \\u" + hex4(second)
                    + ", not a low surrogate");
        }
        return new String(new char[] {first, second});
    }

    private char hexCharacter() {
        if (position + 4 > text.length()) {
            throw error("incomplete \\u escape");
        }
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(text.charAt(position + i), 16);
            if (digit < 0) {
                throw error("invalid \\u escape \"" + text.substring(position, position + 4) + "\"");
            }
            value = value * 16 + digit;
        }
        position += 4;
        return (char) value;
    }

    private BigDecimal number() {
        int start = position;
        if (peek() == '-') {
            position++;
        }
        if (peek() == '0') {
            position++;
        } else if (isDigit(peek())) {
            digits();
        } else {
            throw error("expected a digit but found " + describeNext());
        }
        if (peek() == '.') {
            position++;
            if (!isDigit(peek())) {
                throw error("expected a digit after the decimal point but found " + describeNext());
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            position++;
            if (peek() == '+' || peek() == '-') {
                position++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent but found " + describeNext());
            }
            digits();
        }
        if (position - start > MAX_NUMBER_CHARS) {
            int length = position - start;
            position = start;
            throw error("number of " + length + " characters is longer than the " + MAX_NUMBER_CHARS + " allowed");
        }
        String literal = text.substring(start, position);
        try {
            return new BigDecimal(literal);
        } catch (NumberFormatException e) {
            position = start;
            throw error("number " + literal + " is out of range");
        }
    }

    private void digits() {
        while (isDigit(peek())) {
            position++;
        }
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, position)) {
            throw error("expected a value but found " + describeNext());
        }
        position += word.length();
        return value;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "' but found " + describeNext());
        }
        position++;
    }

    private void checkDepth(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }
    }

    private int peek() {
        return position < text.length() ? text.charAt(position) : -1;
    }

    private void skipWhitespace() {
        while (position < text.length()) {
            char c = text.charAt(position);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            position++;
        }
    }

    private String describeNext() {
        if (position >= text.length()) {
            return "the end of input";
        }
        char c = text.charAt(position);
        return c < 0x20 || c > 0x7e ? "U+" + hex4(c) : "'" + c + "'";
    }

    private static String hex4(char c) {
        return String.format("%04X", (int) c);
    }

    private IllegalArgumentException error(String reason) {
        return new IllegalArgumentException("at character " + position + ": " + reason);
    }
}
