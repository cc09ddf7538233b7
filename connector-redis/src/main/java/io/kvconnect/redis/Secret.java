package io.kvconnect.redis;

import java.util.Arrays;

/**
 * A password or a value secret, held so that it never reaches a log line, a message or a {@code
 * toString}: only {@link #chars()} gives it out, to the Redis client, and {@link #utf8()}, to the
 * values' MAC.
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

    /** {@return the secret's UTF-8 bytes, a copy} For the values' MAC key only ({@link ValueSeal}). */
    byte[] utf8() {
        return new String(value).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** {@return its length in characters} For checking a minimum length without giving it out. */
    int length() {
        return value.length;
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
