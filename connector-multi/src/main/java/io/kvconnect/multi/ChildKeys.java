package io.kvconnect.multi;

import java.util.Comparator;

/**
 * Child instance keys: {@code <index>:<connector name>}, such as {@code 0:offload} and {@code
 * 1:offload}. The index makes two children of the same type distinct; the name makes stats and
 * errors readable. Nested composites prefix their children's stats with their own key, as in {@code
 * 1:multi.0:offload.stored_blocks}.
 */
final class ChildKeys {
    /** Orders keys by child index (numerically), then by text: {@code 2:a} before {@code 10:a}. */
    static final Comparator<String> ORDER =
            Comparator.comparingLong(ChildKeys::index).thenComparing(Comparator.naturalOrder());

    private ChildKeys() {}

    /** The key of child {@code index} whose connector is called {@code name}. */
    static String of(int index, String name) {
        return index + ":" + name;
    }

    private static long index(String key) {
        int colon = key.indexOf(':');
        if (colon <= 0) {
            return Long.MAX_VALUE;
        }
        try {
            return Long.parseLong(key, 0, colon, 10);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
