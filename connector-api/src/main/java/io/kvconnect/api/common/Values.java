package io.kvconnect.api.common;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Deep, immutable copies of JSON-shaped values: {@code String}, {@code Boolean}, {@code Long},
 * {@code Double}, {@code List} and {@code Map<String, ?>} of those. Integral numbers become
 * {@code Long} and others {@code Double}, so equal documents compare equal whatever parser built
 * them. Used by {@link TransferParams}; the engine normalizes configuration values the same way.
 */
final class Values {
    private Values() {}

    static Map<String, Object> copyObject(String path, Map<String, ?> source) {
        var copy = new LinkedHashMap<String, Object>();
        for (var entry : source.entrySet()) {
            String key = entry.getKey();
            if (key == null || key.isEmpty()) {
                throw new ConfigException(path, "keys must be non-empty strings");
            }
            copy.put(key, copyValue(path + "." + key, entry.getValue()));
        }
        return Collections.unmodifiableMap(copy);
    }

    static Object copyValue(String path, Object value) {
        return switch (value) {
            case null -> throw new ConfigException(path, "null is not a value; leave the key out instead");
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> i.longValue();
            case Short s -> s.longValue();
            case Byte b -> b.longValue();
            case BigInteger b -> {
                if (b.bitLength() > 63) {
                    throw new ConfigException(path, "integer " + b + " does not fit in 64 bits");
                }
                yield b.longValue();
            }
            case BigDecimal d -> isIntegral(d) ? Long.valueOf(d.longValueExact()) : (Object) d.doubleValue();
            case Double d -> normalize(d);
            case Float f -> normalize(f.doubleValue());
            case Map<?, ?> m -> copyObject(path, stringKeys(path, m));
            case List<?> list -> {
                var copy = new ArrayList<>(list.size());
                for (int i = 0; i < list.size(); i++) {
                    copy.add(copyValue(path + "[" + i + "]", list.get(i)));
                }
                yield Collections.unmodifiableList(copy);
            }
            default ->
                throw new ConfigException(
                        path,
                        "unsupported value type " + value.getClass().getName()
                                + "; allowed: string, boolean, number, list, object");
        };
    }

    /** An integral double within long range becomes a Long, as an integral BigDecimal does. */
    private static Object normalize(double d) {
        if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 0x1p63) {
            return (long) d;
        }
        return d;
    }

    private static boolean isIntegral(BigDecimal d) {
        if (d.signum() == 0 || d.scale() <= 0 || d.stripTrailingZeros().scale() <= 0) {
            return d.toBigInteger().bitLength() <= 63;
        }
        return false;
    }

    private static Map<String, ?> stringKeys(String path, Map<?, ?> m) {
        var out = new LinkedHashMap<String, Object>();
        for (var e : m.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new ConfigException(path, "object keys must be strings, got " + e.getKey());
            }
            out.put(key, e.getValue());
        }
        return out;
    }

    static String describe(Object value) {
        return switch (value) {
            case String s -> "'" + s + "'";
            case Map<?, ?> m -> "an object";
            case List<?> l -> "a list";
            default -> String.valueOf(value);
        };
    }
}
