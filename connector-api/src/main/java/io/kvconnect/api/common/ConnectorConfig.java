package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
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

/**
 * A connector's configuration: an immutable JSON-shaped object with typed, validating getters.
 *
 * <p>The engine builds one for each configured connector from the configuration file (the
 * {@code config} object of a connector entry) and hands it to
 * {@link io.kvconnect.api.ConnectorProvider#createSchedulerConnector} and
 * {@link io.kvconnect.api.ConnectorProvider#createWorkerConnector}. Every getter that finds a value of the wrong
 * type or out of range throws a {@link ConfigException} whose message names the full path of the
 * field (see {@link #path()}) and the allowed values, so an operator can fix the file without
 * reading connector code. Connectors should call {@link #requireOnlyKeys} first so that a
 * misspelt key is an error rather than a silently ignored setting.
 *
 * <p>Instances are immutable and safe to share between threads.
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public final class ConnectorConfig {
    private static final Pattern BYTES = Pattern.compile(
            "(\\d+(?:\\.\\d+)?)\\s*([kmgt]i?b|b)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile(
            "(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)", Pattern.CASE_INSENSITIVE);

    private final String path;
    private final Map<String, Object> values;

    private ConnectorConfig(String path, Map<String, Object> values) {
        this.path = path;
        this.values = values;
    }

    /**
     * Makes a configuration from JSON-shaped values (strings, booleans, numbers, lists and
     * string-keyed maps of those). The map is deep-copied.
     *
     * @param path the full path of this object in the configuration file, used in error messages;
     *     for example {@code "connectors[0].config"}
     * @param values the object's members
     * @throws ConfigException if a value is null or of an unsupported type
     */
    public static ConnectorConfig of(String path, Map<String, ?> values) {
        requireNonEmpty(path);
        return new ConnectorConfig(path, Values.copyObject(path, values));
    }

    /** {@return an empty configuration at the given path} */
    public static ConnectorConfig empty(String path) {
        return of(path, Map.of());
    }

    /** {@return the full path of this object in the configuration file} */
    public String path() {
        return path;
    }

    /** {@return the keys present, in file order} */
    public Set<String> keys() {
        return values.keySet();
    }

    /** {@return whether {@code key} is present} */
    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** {@return the raw, immutable members (JSON-shaped: String, Boolean, Long, Double, List, Map)} */
    public Map<String, Object> asMap() {
        return values;
    }

    /**
     * Rejects keys other than {@code allowed}.
     *
     * @throws ConfigException naming the first unknown key and listing the allowed ones
     */
    public void requireOnlyKeys(String... allowed) {
        var known = new HashSet<>(Arrays.asList(allowed));
        for (String key : values.keySet()) {
            if (!known.contains(key)) {
                throw new ConfigException(fieldPath(key),
                        "unknown key; allowed keys: " + new TreeSet<>(known));
            }
        }
    }

    /** {@return the string at {@code key}, or {@code defaultValue} when absent} */
    public String getString(String key, String defaultValue) {
        return has(key) ? requireString(key) : defaultValue;
    }

    /** {@return the string at {@code key}; it must be present} */
    public String requireString(String key) {
        if (require(key) instanceof String s) {
            return s;
        }
        throw wrongType(key, "a string");
    }

    /** {@return the boolean at {@code key}, or {@code defaultValue} when absent} */
    public boolean getBoolean(String key, boolean defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        if (values.get(key) instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, "true or false");
    }

    /** {@return the integer at {@code key} within {@code [min, max]}, or {@code defaultValue} when absent} */
    public int getInt(String key, int defaultValue, int min, int max) {
        return (int) getLong(key, defaultValue, min, max);
    }

    /** {@return the integer at {@code key} within {@code [min, max]}, or {@code defaultValue} when absent} */
    public long getLong(String key, long defaultValue, long min, long max) {
        if (!has(key)) {
            return defaultValue;
        }
        if (values.get(key) instanceof Long l) {
            return inRange(key, l, min, max, Long.toString(l));
        }
        throw wrongType(key, "an integer in [" + min + ", " + max + "]");
    }

    /** {@return the number at {@code key} within {@code [min, max]}, or {@code defaultValue} when absent} */
    public double getDouble(String key, double defaultValue, double min, double max) {
        if (!has(key)) {
            return defaultValue;
        }
        double d = switch (values.get(key)) {
            case Long l -> l;
            case Double x -> x;
            default -> throw wrongType(key, "a number in [" + min + ", " + max + "]");
        };
        if (Double.isNaN(d) || d < min || d > max) {
            throw new ConfigException(fieldPath(key), d + " is out of range; allowed: [" + min + ", " + max + "]");
        }
        return d;
    }

    /**
     * A byte size within {@code [min, max]}: a plain integer (bytes) or a string with a unit,
     * decimal ({@code kB, MB, GB, TB}) or binary ({@code KiB, MiB, GiB, TiB}), such as
     * {@code "8GiB"} or {@code "1.5 GB"}.
     */
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
                BigDecimal bytes = new BigDecimal(m.group(1)).multiply(unitBytes(m.group(2)))
                        .setScale(0, RoundingMode.HALF_UP);
                if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                    throw new ConfigException(fieldPath(key), "'" + s + "' is too large; allowed: " + allowed);
                }
                yield inRange(key, bytes.longValueExact(), min, max, "'" + s + "'");
            }
            default -> throw wrongType(key, allowed);
        };
    }

    /**
     * A duration within {@code [min, max]}, written as a number with a unit: {@code ms}, {@code s},
     * {@code m} or {@code h} (for example {@code "30s"}).
     */
    public Duration getDuration(String key, Duration defaultValue, Duration min, Duration max) {
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
        BigDecimal millis = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            default -> 3_600_000;
        })).setScale(0, RoundingMode.HALF_UP);
        if (millis.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new ConfigException(fieldPath(key), "'" + s + "' is too large; allowed: " + allowed);
        }
        var d = Duration.ofMillis(millis.longValueExact());
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new ConfigException(fieldPath(key), "'" + s + "' is out of range; allowed: " + allowed);
        }
        return d;
    }

    /**
     * The enum constant at {@code key}, matched without regard to case and with {@code -} read
     * as {@code _} (so {@code "lru"} selects {@code LRU}), or {@code defaultValue} when absent.
     */
    public <E extends Enum<E>> E getEnum(String key, Class<E> type, E defaultValue) {
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

    /** {@return the nested object at {@code key}, if present} */
    public Optional<ConnectorConfig> getObject(String key) {
        if (!has(key)) {
            return Optional.empty();
        }
        if (values.get(key) instanceof Map<?, ?> m) {
            return Optional.of(nested(fieldPath(key), m));
        }
        throw wrongType(key, "an object");
    }

    /** {@return the list of objects at {@code key}; empty when absent} */
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
                throw new ConfigException(itemPath, "expected an object, got " + Values.describe(list.get(i)));
            }
            out.add(nested(itemPath, m));
        }
        return List.copyOf(out);
    }

    /** {@return the list of strings at {@code key}; empty when absent} */
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
                throw new ConfigException(fieldPath(key) + "[" + i + "]",
                        "expected a string, got " + Values.describe(list.get(i)));
            }
            out.add(s);
        }
        return List.copyOf(out);
    }

    /** {@return the full path of {@code key} inside this object, for error messages} */
    public String fieldPath(String key) {
        return path + "." + key;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConnectorConfig other && path.equals(other.path) && values.equals(other.values);
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
        return new ConnectorConfig(path, typed);
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

    private ConfigException wrongType(String key, String expected) {
        return new ConfigException(fieldPath(key), "expected " + expected + ", got " + Values.describe(values.get(key)));
    }

    private static BigDecimal unitBytes(String unit) {
        if (unit == null) {
            return BigDecimal.ONE;
        }
        long kib = 1024;
        return BigDecimal.valueOf(switch (unit.toLowerCase(Locale.ROOT)) {
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
