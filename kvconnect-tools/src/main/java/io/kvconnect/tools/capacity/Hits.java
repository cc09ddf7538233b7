package io.kvconnect.tools.capacity;

/**
 * What a policy of one capacity hit on a {@link ReferenceStream}.
 *
 * @param capacity blocks the tier holds
 * @param lookups counted references (block lookups)
 * @param blockHits lookups that found their block resident, each block on its own
 * @param prefixHits lookups that found their block and every block before it in the same chain
 *     resident: what a tier can load, since a block is useless after a missing one
 */
public record Hits(long capacity, long lookups, long blockHits, long prefixHits) {
    /** Checks. */
    public Hits {
        if (prefixHits > blockHits || blockHits > lookups || prefixHits < 0) {
            throw new IllegalArgumentException(
                    "need 0 <= prefixHits <= blockHits <= lookups: " + prefixHits + ", " + blockHits + ", " + lookups);
        }
    }

    /** Block hits per lookup, 0 without lookups. */
    public double blockHitRate() {
        return lookups == 0 ? 0 : (double) blockHits / lookups;
    }

    /** Prefix hits per lookup, 0 without lookups. */
    public double prefixHitRate() {
        return lookups == 0 ? 0 : (double) prefixHits / lookups;
    }
}
