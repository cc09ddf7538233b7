package io.kvconnect.core.config;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The engine's {@link ConnectorConfig}: an immutable JSON-shaped object with the typed, validating
 * getters the API's contract describes. The engine reads its whole configuration file through it
 * (its own sections too), so its messages and the connectors' have one form.
 *
 * <p>Built from JSON-shaped values, which are deep-copied and normalized ({@link JsonValues}):
 * integral numbers become {@code Long}, others {@code Double}, so equal documents compare equal
 * whatever parser built them. Two objects are equal when their paths and members are.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class JsonConnectorConfig implements ConnectorConfig {
    private static final Pattern BYTES =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]i?b|b)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)", Pattern.CASE_INSENSITIVE);

    private final String path;
    private final Map<String, Object> values;

    private JsonConnectorConfig(String path, Map<String, Object> values) {
        this.path = path;
        this.values = values;
    }

    /**
     * Makes a configuration from JSON-shaped values (strings, booleans, numbers, lists and
     * string-keyed maps of those). The map is deep-copied.
     *
     * @param path the full path of this object in the configuration file, used in error messages;
     *     for example {@code "config.connector.config"}
     * @param values the object's members
     * @return the configuration
     * @throws ConfigException if a value is null or of an unsupported type
     * @throws IllegalArgumentException if {@code path} is blank
     */
    public static JsonConnectorConfig of(String path, Map<String, ?> values) {
        requireNonEmpty(path);
        return new JsonConnectorConfig(path, JsonValues.copyObject(path, values));
    }

    /**
     * An empty configuration at the given path.
     *
     * @param path the full path of the object in the configuration file
     * @return the configuration
     * @throws IllegalArgumentException if {@code path} is blank
     */
    public static JsonConnectorConfig empty(String path) {
        return of(path, Map.of());
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public Set<String> keys() {
        return values.keySet();
    }

    @Override
    public boolean has(String key) {
        return values.containsKey(key);
    }

    @Override
    public Map<String, Object> asMap() {
        return values;
    }

    @Override
    public void requireOnlyKeys(String... allowed) {
        var known = new HashSet<>(Arrays.asList(allowed));
        for (String key : values.keySet()) {
            if (!known.contains(key)) {
                throw new ConfigException(fieldPath(key), "unknown key; allowed keys: " + new TreeSet<>(known));
            }
        }
    }

    @Override
    public @Nullable String getString(String key, @Nullable String defaultValue) {
        return has(key) ? requireString(key) : defaultValue;
    }

    @Override
    public String requireString(String key) {
        if (require(key) instanceof String s) {
            return s;
        }
        throw wrongType(key, "a string");
    }

    @Override
    public boolean getBoolean(String key, boolean defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        if (values.get(key) instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, "true or false");
    }

    @Override
    public int getInt(String key, int defaultValue, int min, int max) {
        return (int) getLong(key, defaultValue, min, max);
    }

    @Override
    public long getLong(String key, long defaultValue, long min, long max) {
        if (!has(key)) {
            return defaultValue;
        }
        if (values.get(key) instanceof Long l) {
            return inRange(key, l, min, max, Long.toString(l));
        }
        throw wrongType(key, "an integer in [" + min + ", " + max + "]");
    }

    @Override
    public double getDouble(String key, double defaultValue, double min, double max) {
        if (!has(key)) {
            return defaultValue;
        }
        double d =
                switch (values.get(key)) {
                    case Long l -> l;
                    case Double x -> x;
                    default -> throw wrongType(key, "a number in [" + min + ", " + max + "]");
                };
        if (Double.isNaN(d) || d < min || d > max) {
            throw new ConfigException(fieldPath(key), d + " is out of range; allowed: [" + min + ", " + max + "]");
        }
        return d;
    }

    @Override
    public long getBytes(String key, long defaultValue, long min, long max) {
        if (!has(key)) {
            return defaultValue;
        }
        String allowed = "a byte size such as 512MiB or 8GiB in [" + min + ", " + max + "] bytes";
        return switch (values.get(key)) {
            case Long l -> inRange(key, l, min, max, l + " bytes");
            case String s -> {
                var m = BYTES.matcher(s.strip());
                if (!m.matches()) {
                    throw new ConfigException(fieldPath(key), "'" + s + "' is not " + allowed);
                }
                // Exact decimal arithmetic: "4.1 MB" is 4100000 bytes, not a rounding error below it.
                BigDecimal bytes = new BigDecimal(m.group(1))
                        .multiply(unitBytes(m.group(2)))
                        .setScale(0, RoundingMode.HALF_UP);
                if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                    throw new ConfigException(fieldPath(key), "'" + s + "' is too large; allowed: " + allowed);
                }
                yield inRange(key, bytes.longValueExact(), min, max, "'" + s + "'");
            }
            default -> throw wrongType(key, allowed);
        };
    }

    @Override
    public @Nullable Duration getDuration(String key, @Nullable Duration defaultValue, Duration min, Duration max) {
        if (!has(key)) {
            return defaultValue;
        }
        String allowed = "a duration such as 500ms, 30s or 2m in [" + min + ", " + max + "]";
        if (!(values.get(key) instanceof String s)) {
            throw wrongType(key, allowed);
        }
        var m = DURATION.matcher(s.strip());
        if (!m.matches()) {
            throw new ConfigException(fieldPath(key), "'" + s + "' is not " + allowed);
        }
        BigDecimal millis = new BigDecimal(m.group(1))
                .multiply(BigDecimal.valueOf(
                        switch (m.group(2).toLowerCase(Locale.ROOT)) {
                            case "ms" -> 1;
                            case "s" -> 1_000;
                            case "m" -> 60_000;
                            default -> 3_600_000;
                        }))
                .setScale(0, RoundingMode.HALF_UP);
        if (millis.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new ConfigException(fieldPath(key), "'" + s + "' is too large; allowed: " + allowed);
        }
        var d = Duration.ofMillis(millis.longValueExact());
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new ConfigException(fieldPath(key), "'" + s + "' is out of range; allowed: " + allowed);
        }
        return d;
    }

    @Override
    public <E extends Enum<E>> @Nullable E getEnum(String key, Class<E> type, @Nullable E defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        String allowed = Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                .collect(Collectors.joining(", "));
        if (values.get(key) instanceof String s) {
            String wanted = s.strip().replace('-', '_');
            for (E constant : type.getEnumConstants()) {
                if (constant.name().equalsIgnoreCase(wanted)) {
                    return constant;
                }
            }
            throw new ConfigException(fieldPath(key), "'" + s + "' is not allowed; allowed values: " + allowed);
        }
        throw wrongType(key, "one of: " + allowed);
    }

    @Override
    public Optional<ConnectorConfig> getObject(String key) {
        if (!has(key)) {
            return Optional.empty();
        }
        if (values.get(key) instanceof Map<?, ?> m) {
            return Optional.of(nested(fieldPath(key), m));
        }
        throw wrongType(key, "an object");
    }

    @Override
    public ConnectorConfig getObjectOrEmpty(String key) {
        return getObject(key).orElseGet(() -> new JsonConnectorConfig(fieldPath(key), Map.of()));
    }

    @Override
    public List<ConnectorConfig> getObjectList(String key) {
        if (!has(key)) {
            return List.of();
        }
        if (!(values.get(key) instanceof List<?> list)) {
            throw wrongType(key, "a list of objects");
        }
        var out = new ArrayList<ConnectorConfig>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String itemPath = fieldPath(key) + "[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                throw new ConfigException(itemPath, "expected an object, got " + JsonValues.describe(list.get(i)));
            }
            out.add(nested(itemPath, m));
        }
        return List.copyOf(out);
    }

    @Override
    public List<String> getStringList(String key) {
        if (!has(key)) {
            return List.of();
        }
        if (!(values.get(key) instanceof List<?> list)) {
            throw wrongType(key, "a list of strings");
        }
        var out = new ArrayList<String>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s)) {
                throw new ConfigException(
                        fieldPath(key) + "[" + i + "]", "expected a string, got " + JsonValues.describe(list.get(i)));
            }
            out.add(s);
        }
        return List.copyOf(out);
    }

    @Override
    public String fieldPath(String key) {
        return path + "." + key;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonConnectorConfig other && path.equals(other.path) && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return path.hashCode() * 31 + values.hashCode();
    }

    @Override
    public String toString() {
        return path + "=" + values;
    }

    private static ConnectorConfig nested(String path, Map<?, ?> m) {
        // Already deep-copied and validated at construction; only the static type is lost.
        @SuppressWarnings("unchecked")
        var typed = (Map<String, Object>) m;
        return new JsonConnectorConfig(path, typed);
    }

    private Object require(String key) {
        Object v = values.get(key);
        if (v == null) {
            throw new ConfigException(fieldPath(key), "is required but missing");
        }
        return v;
    }

    private long inRange(String key, long v, long min, long max, String shown) {
        if (v < min || v > max) {
            throw new ConfigException(fieldPath(key), shown + " is out of range; allowed: [" + min + ", " + max + "]");
        }
        return v;
    }

    /** Called for a key that is present, with a value of another type than {@code expected}. */
    private ConfigException wrongType(String key, String expected) {
        return new ConfigException(
                fieldPath(key), "expected " + expected + ", got " + JsonValues.describe(require(key)));
    }

    private static BigDecimal unitBytes(String unit) {
        if (unit == null) {
            return BigDecimal.ONE;
        }
        long kib = 1024;
        return BigDecimal.valueOf(
                switch (unit.toLowerCase(Locale.ROOT)) {
                    case "b" -> 1L;
                    case "kb" -> 1_000L;
                    case "mb" -> 1_000_000L;
                    case "gb" -> 1_000_000_000L;
                    case "tb" -> 1_000_000_000_000L;
                    case "kib" -> kib;
                    case "mib" -> kib * kib;
                    case "gib" -> kib * kib * kib;
                    default -> kib * kib * kib * kib;
                });
    }

    private static void requireNonEmpty(String path) {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("path must name the configuration object");
        }
    }
}
