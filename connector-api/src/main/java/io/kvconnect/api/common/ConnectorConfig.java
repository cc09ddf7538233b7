package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A connector's configuration: an immutable JSON-shaped object with typed, validating getters.
 *
 * <p>The engine implements it and builds one for the configured connector from the {@code config}
 * object of the configuration file's {@code connector} entry, then hands the same object to
 * {@link io.kvconnect.api.ConnectorProvider#createSchedulerConnector} and {@link
 * io.kvconnect.api.ConnectorProvider#createWorkerConnector}. A connector reads it; it never
 * implements it (a connector's tests get the engine's implementation from the connector test kit's
 * {@code io.kvconnect.testkit.ConnectorConfigs}).
 *
 * <p><b>Paths.</b> Every object knows its full path in the configuration file ({@link #path()}),
 * and every error names the field by its full path ({@link #fieldPath}). The engine gives the
 * configured connector's object the path {@code config.connector.config}; nested objects extend
 * it: {@link #getObject getObject("tier")} is at {@code config.connector.config.tier}, element
 * {@code 1} of {@link #getObjectList getObjectList("connectors")} at {@code
 * config.connector.config.connectors[1]}, and so a composite's second child's own object at {@code
 * config.connector.config.connectors[1].config}.
 *
 * <p><b>Values.</b> Members are JSON-shaped: {@code String}, {@code Boolean}, {@code Long} (every
 * integral number), {@code Double} (every other number), {@code List} and {@code Map<String, ?>}
 * of those; there is no {@code null}. {@link #asMap()} returns them as such.
 *
 * <p><b>Errors.</b> A getter that finds a value of the wrong type or out of range throws a {@link
 * ConfigException} whose {@link ConfigException#path() path} is the field's full path and whose
 * message says what is allowed, such as {@code config.connector.config.capacity: 'lots' is not a
 * byte size such as 512MiB or 8GiB in [1, 1099511627776] bytes}, so an operator can fix the file
 * without reading connector code. A getter with a default returns it when the key is absent and
 * validates the value when it is present. Call {@link #requireOnlyKeys} first, so that a misspelt
 * key is an error rather than a silently ignored setting.
 *
 * <p>Immutable and safe to share between threads: the scheduler side and every worker side may
 * read the same object concurrently.
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public interface ConnectorConfig {

    /**
     * {@return the full path of this object in the configuration file} For example {@code
     * config.connector.config} (see the class comment).
     */
    String path();

    /**
     * {@return the full path of {@code key} inside this object, for error messages} That is
     * {@code path() + "." + key}.
     *
     * @param key a member name
     */
    String fieldPath(String key);

    /** {@return the keys present, in file order} */
    Set<String> keys();

    /**
     * {@return whether {@code key} is present}
     *
     * @param key a member name
     */
    boolean has(String key);

    /** {@return the members, immutable and JSON-shaped (see the class comment)} */
    Map<String, Object> asMap();

    /**
     * Rejects keys other than {@code allowed}.
     *
     * @param allowed the keys this object may have
     * @throws ConfigException naming the first unknown key by its full path and listing the allowed
     *     ones, sorted: {@code <path>.<key>: unknown key; allowed keys: [a, b]}
     */
    void requireOnlyKeys(String... allowed);

    /**
     * {@return the string at {@code key}, or {@code defaultValue} when absent}
     *
     * @param key a member name
     * @param defaultValue returned when {@code key} is absent; may be null
     * @throws ConfigException if the value is not a string
     */
    @Contract("_, !null -> !null")
    @Nullable
    String getString(String key, @Nullable String defaultValue);

    /**
     * {@return the string at {@code key}}
     *
     * @param key a member name
     * @throws ConfigException if {@code key} is absent ({@code is required but missing}) or the value
     *     is not a string
     */
    String requireString(String key);

    /**
     * {@return the boolean at {@code key}, or {@code defaultValue} when absent}
     *
     * @param key a member name
     * @param defaultValue returned when {@code key} is absent
     * @throws ConfigException if the value is not {@code true} or {@code false}
     */
    boolean getBoolean(String key, boolean defaultValue);

    /**
     * {@return the integer at {@code key}, or {@code defaultValue} when absent}
     *
     * @param key a member name
     * @param defaultValue returned when {@code key} is absent (not checked against the range)
     * @param min the smallest allowed value
     * @param max the largest allowed value
     * @throws ConfigException if the value is not an integer or lies outside {@code [min, max]}
     */
    int getInt(String key, int defaultValue, int min, int max);

    /**
     * {@return the integer at {@code key}, or {@code defaultValue} when absent}
     *
     * @param key a member name
     * @param defaultValue returned when {@code key} is absent (not checked against the range)
     * @param min the smallest allowed value
     * @param max the largest allowed value
     * @throws ConfigException if the value is not an integer or lies outside {@code [min, max]}
     */
    long getLong(String key, long defaultValue, long min, long max);

    /**
     * {@return the number at {@code key}, or {@code defaultValue} when absent} An integer is read
     * as a number too.
     *
     * @param key a member name
     * @param defaultValue returned when {@code key} is absent (not checked against the range)
     * @param min the smallest allowed value
     * @param max the largest allowed value
     * @throws ConfigException if the value is not a number, is NaN or lies outside {@code [min, max]}
     */
    double getDouble(String key, double defaultValue, double min, double max);

    /**
     * {@return the byte size at {@code key}, or {@code defaultValue} when absent} A plain integer
     * is a number of bytes; a string is a number (decimals allowed) with an optional unit, decimal
     * ({@code B, kB, MB, GB, TB}) or binary ({@code KiB, MiB, GiB, TiB}), any case, blanks around
     * it and between number and unit ignored: {@code "8GiB"}, {@code "1.5 GB"}. A fractional byte
     * count is rounded half up.
     *
     * @param key a member name
     * @param defaultValue returned when {@code key} is absent (not checked against the range)
     * @param min the smallest allowed size, in bytes
     * @param max the largest allowed size, in bytes
     * @throws ConfigException if the value is neither, or the size lies outside {@code [min, max]}
     */
    long getBytes(String key, long defaultValue, long min, long max);

    /**
     * {@return the duration at {@code key}, or {@code defaultValue} when absent} Written as a
     * string: a number (decimals allowed) and a unit, {@code ms}, {@code s}, {@code m} or {@code h}
     * ({@code "500ms"}, {@code "30s"}, {@code "1.5m"}), any case; rounded to whole milliseconds.
     *
     * @param key a member name
     * @param defaultValue returned when {@code key} is absent (not checked against the range); may
     *     be null
     * @param min the shortest allowed duration
     * @param max the longest allowed duration
     * @throws ConfigException if the value is not such a string or lies outside {@code [min, max]}
     */
    @Contract("_, !null, _, _ -> !null")
    @Nullable
    Duration getDuration(String key, @Nullable Duration defaultValue, Duration min, Duration max);

    /**
     * {@return the enum constant at {@code key}, or {@code defaultValue} when absent} The string is
     * matched to the constants' names without regard to case and with {@code -} read as {@code _},
     * so {@code "lru"} selects {@code LRU} and {@code "fail-requests"} {@code FAIL_REQUESTS}; the
     * error lists the allowed values in that spelling ({@code lru, arc}).
     *
     * @param <E> the enum type
     * @param key a member name
     * @param type the enum's class
     * @param defaultValue returned when {@code key} is absent; may be null
     * @throws ConfigException if the value is not a string naming one of the constants
     */
    @Contract("_, _, !null -> !null")
    <E extends Enum<E>> @Nullable E getEnum(String key, Class<E> type, @Nullable E defaultValue);

    /**
     * {@return the object at {@code key}, if present} Its path is {@code fieldPath(key)}.
     *
     * @param key a member name
     * @throws ConfigException if the value is not an object
     */
    Optional<ConnectorConfig> getObject(String key);

    /**
     * {@return the object at {@code key}, or an empty object at the same path when absent} For an
     * optional nested section whose own keys have defaults, and for a composite's children, whose
     * {@code config} may be left out: the child still gets an object whose errors name its path.
     *
     * @param key a member name
     * @throws ConfigException if the value is present and not an object
     */
    ConnectorConfig getObjectOrEmpty(String key);

    /**
     * {@return the objects of the list at {@code key}; empty when absent} Element {@code i} is at
     * path {@code fieldPath(key) + "[" + i + "]"}.
     *
     * @param key a member name
     * @throws ConfigException if the value is not a list, or naming the first element that is not an
     *     object
     */
    List<ConnectorConfig> getObjectList(String key);

    /**
     * {@return the strings of the list at {@code key}; empty when absent}
     *
     * @param key a member name
     * @throws ConfigException if the value is not a list, or naming the first element that is not a
     *     string
     */
    List<String> getStringList(String key);
}
