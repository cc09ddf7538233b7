package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Transfer parameters: the JSON-shaped object that travels with a request between engines and
 * the router. A prefill engine's connector returns them from
 * {@code SchedulerConnector.requestFinished} and the engine attaches them to the request's final
 * response; the router passes them with the request to the decode engine, whose connector reads
 * them from {@code RequestView.transferParams()}.
 *
 * <p>Values are JSON-shaped (String, Boolean, Long, Double, List, Map) so that they survive any
 * wire format. Instances are immutable; {@link #with} returns a copy.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public final class TransferParams {
    private static final TransferParams EMPTY = new TransferParams(Map.of());

    private final Map<String, Object> values;

    private TransferParams(Map<String, Object> values) {
        this.values = values;
    }

    /** {@return no parameters} */
    public static TransferParams empty() {
        return EMPTY;
    }

    /**
     * {@return parameters made of JSON-shaped values}
     *
     * @param values the members: String, Boolean, integral or floating-point numbers, List and
     *     string-keyed Map of those (deep-copied)
     * @throws ConfigException if a value is null or not JSON-shaped
     */
    public static TransferParams of(Map<String, ?> values) {
        return values.isEmpty() ? EMPTY : new TransferParams(Values.copyObject("transfer_params", values));
    }

    /** {@return whether there are no parameters} */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** {@return the raw, immutable members} */
    public Map<String, Object> asMap() {
        return values;
    }

    /**
     * {@return the value at {@code key}, if present}
     *
     * @param key a member name
     */
    public Optional<Object> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /**
     * {@return the string at {@code key}, if present and a string}
     *
     * @param key a member name
     */
    public Optional<String> getString(String key) {
        return values.get(key) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    /**
     * {@return the integer at {@code key}, if present and integral}
     *
     * @param key a member name
     */
    public Optional<Long> getLong(String key) {
        return values.get(key) instanceof Long l ? Optional.of(l) : Optional.empty();
    }

    /**
     * {@return the boolean at {@code key}; {@code false} when absent or not a boolean}
     *
     * @param key a member name
     */
    public boolean getFlag(String key) {
        return values.get(key) instanceof Boolean b && b;
    }

    /**
     * {@return a copy with {@code key} set to {@code value}}
     *
     * @param key a member name
     * @param value a JSON-shaped value (deep-copied)
     * @throws ConfigException if {@code value} is null or not JSON-shaped
     */
    public TransferParams with(String key, Object value) {
        var copy = new LinkedHashMap<String, Object>(values);
        copy.put(key, value);
        return of(copy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransferParams other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
