package io.kvconnect.core.workload;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.kvconnect.api.common.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Parses and validates one trace line (the keys are documented on {@link TraceReader}).
 *
 * <p>The line is read token by token, so that every problem can be reported with the column where
 * it is and what was expected there, in the reader's own words. Nothing of the line's text (no
 * token, key or value) ever appears in a message: the JSON library's own messages quote the
 * offending token, so they are never passed on.
 */
final class TraceLineParser {
    static final SortedSet<String> KEYS = new TreeSet<>(java.util.List.of(
            "session",
            "arrival_s",
            "system_prompt",
            "system_prompt_tokens",
            "user_tokens",
            "output_tokens",
            "think_s"));

    private static final int MAX_NAME = 256;
    private static final String NAME_ALLOWED = "; allowed: a non-blank string of at most " + MAX_NAME + " characters";
    private static final long MAX_USER_TOKENS = 1_000_000;
    private static final long MAX_SYSTEM_PROMPT_TOKENS = 1_000_000;
    private static final long MAX_OUTPUT_TOKENS = 100_000;
    private static final double MAX_ARRIVAL_S = 1e9;
    private static final double MAX_THINK_S = 1e6;
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private final TraceSpot spot;
    private final Map<String, Value> values = new HashMap<>();
    private int objectColumn = 1;

    // What the parser expects next, for the message if the JSON breaks there.
    private Expecting state = Expecting.OBJECT;

    private TraceLineParser(TraceSpot spot) {
        this.spot = spot;
    }

    /**
     * Parses {@code text}, the line at {@code spot} without its line break.
     *
     * @throws ConfigException naming the spot, the column and what was expected there
     */
    static TraceLine parse(TraceSpot spot, String text) {
        var parser = new TraceLineParser(spot);
        parser.read(text);
        return parser.line();
    }

    private void read(String text) {
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw spot.error(column(p), "expected '{': each line is one JSON object");
            }
            objectColumn = column(p);
            state = Expecting.FIRST_KEY;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                // Inside an object the parser yields only keys or the end; anything else is a syntax error.
                readField(p);
                state = Expecting.NEXT_KEY;
            }
            state = Expecting.END;
            if (p.nextToken() != null) {
                throw spot.error(column(p), "expected the end of the line after the object");
            }
        } catch (JsonProcessingException e) {
            int column =
                    e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getColumnNr());
            throw spot.error(column, "not valid JSON: expected " + state.expected());
        } catch (NumberFormatException e) {
            throw spot.error(1, "not valid JSON: a number cannot be read");
        } catch (IOException e) {
            throw new UncheckedIOException("reading a string cannot fail", e);
        }
    }

    private void readField(JsonParser p) throws IOException {
        String key = p.currentName();
        int keyColumn = column(p);
        if (!KEYS.contains(key)) {
            throw spot.error(keyColumn, "unknown key; allowed keys: " + KEYS);
        }
        if (values.containsKey(key)) {
            throw spot.error(keyColumn, key + ": given twice; allowed: each key once");
        }
        state = Expecting.VALUE;
        JsonToken t = p.nextToken();
        int column = column(p);
        Value value =
                switch (t) {
                    case VALUE_STRING -> new Value(Kind.STRING, p.getText(), null, column);
                    case VALUE_NUMBER_INT ->
                        new Value(Kind.NUMBER, null, new BigDecimal(p.getBigIntegerValue()), column);
                    case VALUE_NUMBER_FLOAT -> new Value(Kind.NUMBER, null, p.getDecimalValue(), column);
                    case VALUE_TRUE, VALUE_FALSE -> new Value(Kind.BOOLEAN, null, null, column);
                    case VALUE_NULL -> new Value(Kind.NULL, null, null, column);
                    case START_ARRAY -> skip(p, Kind.LIST, column);
                    case START_OBJECT -> skip(p, Kind.OBJECT, column);
                    default -> throw spot.error(column, key + ": expected a value");
                };
        values.put(key, value);
    }

    private Value skip(JsonParser p, Kind kind, int column) throws IOException {
        state = Expecting.NESTED;
        p.skipChildren();
        return new Value(kind, null, null, column);
    }

    private TraceLine line() {
        var columns = new HashMap<String, Integer>();
        values.forEach((k, v) -> columns.put(k, v.column()));
        return new TraceLine(
                spot,
                requiredName("session"),
                (int) integer("user_tokens", 1, MAX_USER_TOKENS, true),
                (int) integer("output_tokens", 1, MAX_OUTPUT_TOKENS, true),
                number("arrival_s", MAX_ARRIVAL_S, Double.NaN),
                number("think_s", MAX_THINK_S, 0),
                optionalName("system_prompt"),
                (int) integer("system_prompt_tokens", 1, MAX_SYSTEM_PROMPT_TOKENS, false),
                columns);
    }

    /** A name field that must be there. */
    private String requiredName(String key) {
        Value v = values.get(key);
        if (v == null) {
            throw spot.error(objectColumn, key + ": is required but missing" + NAME_ALLOWED);
        }
        return name(key, v);
    }

    /** A name field, or null when absent. */
    private @Nullable String optionalName(String key) {
        Value v = values.get(key);
        return v == null ? null : name(key, v);
    }

    /** The name {@code v} of field {@code key}. */
    private String name(String key, Value v) {
        if (v.kind() != Kind.STRING) {
            throw spot.error(v.column(), key + ": expected a string, got " + v.kind().description + NAME_ALLOWED);
        }
        String s = v.string();
        if (s.isBlank()) {
            throw spot.error(v.column(), key + ": is blank" + NAME_ALLOWED);
        }
        if (s.length() > MAX_NAME) {
            throw spot.error(v.column(), key + ": is " + s.length() + " characters long" + NAME_ALLOWED);
        }
        return s;
    }

    /** An integer field in [min, max]; 0 when absent and optional. */
    private long integer(String key, long min, long max, boolean required) {
        String allowed = "an integer in [" + min + ", " + max + "]";
        Value v = values.get(key);
        if (v == null) {
            if (required) {
                throw spot.error(objectColumn, key + ": is required but missing; allowed: " + allowed);
            }
            return 0;
        }
        if (v.kind() != Kind.NUMBER) {
            throw spot.error(v.column(), key + ": expected " + allowed + ", got " + v.kind().description);
        }
        BigDecimal n = v.decimal();
        // Range first: comparing is cheap even for a number like 1e999999999, scaling it is not.
        if (n.compareTo(BigDecimal.valueOf(min)) < 0 || n.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw spot.error(v.column(), key + ": out of range; allowed: " + allowed);
        }
        if (n.stripTrailingZeros().scale() > 0) {
            throw spot.error(v.column(), key + ": not a whole number; allowed: " + allowed);
        }
        return n.longValueExact();
    }

    /** A number field in [0, max]; {@code absent} when absent. */
    private double number(String key, double max, double absent) {
        String allowed = "a number in [0, "
                + BigDecimal.valueOf(max).stripTrailingZeros().toPlainString() + "]";
        Value v = values.get(key);
        if (v == null) {
            return absent;
        }
        if (v.kind() != Kind.NUMBER) {
            throw spot.error(v.column(), key + ": expected " + allowed + ", got " + v.kind().description);
        }
        double d = v.decimal().doubleValue();
        if (!(d >= 0 && d <= max)) {
            throw spot.error(v.column(), key + ": out of range; allowed: " + allowed);
        }
        return d;
    }

    private static int column(JsonParser p) {
        return Math.max(1, p.currentTokenLocation().getColumnNr());
    }

    /** Where in a line the parser is, as what it expects there. */
    private enum Expecting {
        OBJECT("'{': each line is one JSON object"),
        FIRST_KEY("a key in double quotes, or '}'"),
        NEXT_KEY("',' and a key in double quotes, or '}'"),
        VALUE("a value: a string in double quotes, a number, true, false, null, a list or an object"),
        NESTED("a complete list or object as the value"),
        END("the end of the line after the object");

        private final String expected;

        Expecting(String expected) {
            this.expected = expected;
        }

        String expected() {
            return expected;
        }
    }

    /** What kind of JSON value a key has; its description is the reader's, never the value. */
    private enum Kind {
        STRING("a string"),
        NUMBER("a number"),
        BOOLEAN("true or false"),
        NULL("null"),
        LIST("a list"),
        OBJECT("an object");

        final String description;

        Kind(String description) {
            this.description = description;
        }
    }

    /**
     * One key's value: its kind, its text (strings) or number (numbers; both null for the other
     * kinds), and where it starts.
     */
    private record Value(
            Kind kind, @Nullable String text, @Nullable BigDecimal number, int column) {
        /** The text of a value of kind {@link Kind#STRING}. */
        String string() {
            return Objects.requireNonNull(text, "not a string");
        }

        /** The number of a value of kind {@link Kind#NUMBER}. */
        BigDecimal decimal() {
            return Objects.requireNonNull(number, "not a number");
        }
    }
}
