package org.adjoint.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JsonTest {

    @Test
    void parsesEveryKindOfValueKeepingKeyOrder() {
        Object value = Json.parse(" {\"z\": [1, -2.5e3, 0], \"a\": {\"t\": true, \"f\": false, \"n\": null}, \"s\": \"x\"} ");
        Map<?, ?> map = (Map<?, ?>) value;
        assertEquals(List.of("z", "a", "s"), List.copyOf(map.keySet()));
        assertEquals(List.of(new BigDecimal("1"), new BigDecimal("-2.5e3"), new BigDecimal("0")), map.get("z"));
        Map<?, ?> inner = (Map<?, ?>) map.get("a");
        assertEquals(Boolean.TRUE, inner.get("t"));
        assertEquals(Boolean.FALSE, inner.get("f"));
        assertSame(Json.NULL, inner.get("n"));
        assertEquals("x", map.get("s"));
    }

    @Test
    void integersBeyondSixtyFourBitsStayExact() {
        assertEquals(new BigDecimal("123456789012345678901234567890"), Json.parse("123456789012345678901234567890"));
    }

    @Test
    void decodesEveryEscapeIncludingSurrogatePairs() {
        assertEquals("\" \\ / \b \f \n \r \t é 😀", Json.parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\""));
        assertEquals("😀 raw", Json.parse("\"😀 raw\""));
    }

    @Test
    void writesWhatItParses() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("name \"quoted\"\n\u0001 é 😀", List.of(1, 2L, true, "s"));
        value.put("empty", Map.of());
        String text = Json.write(value);
        assertEquals("{\"name \\\"quoted\\\"\\n\\u0001 é 😀\":[1,2,true,\"s\"],\"empty\":{}}", text);
        Map<?, ?> back = (Map<?, ?>) Json.parse(text);
        assertEquals(List.copyOf(value.keySet()), List.copyOf(back.keySet()));
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("",
                        "at character 0: unexpected end of input, expected a value"),
                Arguments.of("{",
                        "at character 1: expected a string key but found the end of input"),
                Arguments.of("{\"a\" 1}",
                        "at character 5: expected ':' but found '1'"),
                Arguments.of("{\"a\":1,}",
                        "at character 7: expected a string key but found '}'"),
                Arguments.of("{\"a\":1 \"b\":2}",
                        "at character 7: expected ',' or '}' but found '\"'"),
                Arguments.of("[1 2]",
                        "at character 3: expected ',' or ']' but found '2'"),
                Arguments.of("{\"a\":1}x",
                        "at character 7: unexpected 'x' after the value"),
                Arguments.of("{\"a\":1,\"a\":2}",
                        "at character 7: duplicate key \"a\""),
                Arguments.of("01",
                        "at character 1: unexpected '1' after the value"),
                Arguments.of("-",
                        "at character 1: expected a digit but found the end of input"),
                Arguments.of("1.",
                        "at character 2: expected a digit after the decimal point but found the end of input"),
                Arguments.of("1e",
                        "at character 2: expected a digit in the exponent but found the end of input"),
                Arguments.of("+1",
                        "at character 0: expected a value but found '+'"),
                Arguments.of("tru",
                        "at character 0: expected a value but found 't'"),
                Arguments.of("NaN",
                        "at character 0: expected a value but found 'N'"),
                Arguments.of("'a'",
                        "at character 0: expected a value but found '''"),
                Arguments.of("\"abc",
                        "at character 0: unterminated string"),
                Arguments.of("\"\\x\"",
                        "at character 1: invalid escape \\x in a string"),
                Arguments.of("\"\\u12zz\"",
                        "at character 3: invalid \\u escape \"12zz\""),
                Arguments.of("\"\\u12",
                        "at character 3: incomplete \\u escape"),
                Arguments.of("\"\\uDE00\"",
                        "at character 1: unpaired low surrogate \\uDE00"),
                Arguments.of("\"\\uD83D\"",
                        "at character 1: high surrogate \\uD83D is not followed by a low surrogate escape"),
                Arguments.of("\"\\uD83D\\u0041\"",
                        "at character 1: high surrogate \\uD83D is followed by \\u0041, not a low surrogate"),
                Arguments.of("1e999999999999",
                        "at character 0: number 1e999999999999 is out of range"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void rejectsMalformedInputSayingWhereAndWhy(String text, String message) {
        var error = assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
        assertEquals(message, error.getMessage());
    }

    @Test
    void rejectsRawControlCharactersInStrings() {
        var error = assertThrows(IllegalArgumentException.class, () -> Json.parse("\"a\nb\""));
        assertEquals("at character 2: unescaped control character U+000A in a string", error.getMessage());
    }

    @Test
    void refusesANumberTooLongToParseQuickly() {
        // Regression (found by fuzzing): BigDecimal parses in quadratic time, and a header of one
        // 4-million-digit number held the reader for nearly four minutes.
        String huge = "[1, " + "9".repeat(4_000_000) + "]";
        var error = assertTimeoutPreemptively(FileFuzzer.CASE_TIMEOUT,
                () -> assertThrows(IllegalArgumentException.class, () -> Json.parse(huge)));
        assertEquals("at character 4: number of 4000000 characters is longer than the 1000 allowed", error.getMessage());
        String longest = "1" + "0".repeat(Json.MAX_NUMBER_CHARS - 1);
        assertEquals(new BigDecimal(longest), Json.parse(longest));
    }

    @Test
    void refusesDeepNestingInsteadOfOverflowingTheStack() {
        String deep = "[".repeat(100_000);
        var error = assertThrows(IllegalArgumentException.class, () -> Json.parse(deep));
        assertEquals("at character 64: nesting deeper than 64 levels", error.getMessage());
        Json.parse("[".repeat(64) + "]".repeat(64));
    }
}
