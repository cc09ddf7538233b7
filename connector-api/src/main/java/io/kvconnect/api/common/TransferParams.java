package io.kvconnect.api.common;

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
@Stability(Stability.Level.EVOLVING)
public final class TransferParams {
    private static final TransferParams EMPTY = new TransferParams(Map.of());

    private final Map<String, Object> values;

    private TransferParams(Map<String, Object> values) {
        this.values = values;
    }

    /** No parameters. */
    public static TransferParams empty() {
        return EMPTY;
    }

    /**
     * Parameters from JSON-shaped values (deep-copied).
     *
     * @throws ConfigException if a value is null or not JSON-shaped
     */
    public static TransferParams of(Map<String, ?> values) {
        return values.isEmpty() ? EMPTY : new TransferParams(Values.copyObject("transfer_params", values));
    }

    /** Whether there are no parameters. */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** The raw, immutable members. */
    public Map<String, Object> asMap() {
        return values;
    }

    /** The value at {@code key}, if present. */
    public Optional<Object> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** The string at {@code key}, if present and a string. */
    public Optional<String> getString(String key) {
        return values.get(key) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    /** The integer at {@code key}, if present and integral. */
    public Optional<Long> getLong(String key) {
        return values.get(key) instanceof Long l ? Optional.of(l) : Optional.empty();
    }

    /** The boolean at {@code key}; {@code false} when absent or not a boolean. */
    public boolean getFlag(String key) {
        return values.get(key) instanceof Boolean b && b;
    }

    /** A copy with {@code key} set to {@code value} (JSON-shaped). */
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
