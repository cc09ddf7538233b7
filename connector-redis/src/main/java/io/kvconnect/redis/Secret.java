package io.kvconnect.redis;

import java.util.Arrays;

/**
 * A password, held so that it never reaches a log line, a message or a {@code toString}: only
 * {@link #chars()} gives it out, to the Redis client.
 */
final class Secret {
    private final char[] value;

    Secret(String value) {
        this.value = value.toCharArray();
    }

    /** {@return a copy of the password} For the Redis client only. */
    char[] chars() {
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret s && Arrays.equals(value, s.value);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "(secret)";
    }
}
