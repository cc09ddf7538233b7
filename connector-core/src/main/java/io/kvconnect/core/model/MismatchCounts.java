package io.kvconnect.core.model;

/**
 * How many KV slots of each {@link KvMismatch.Kind} one request met in one step (or, summed, in a
 * run).
 *
 * @param wrongLoads reads of wrong KV in blocks the request did not compute
 * @param contaminated slots the request computed from wrong input, written or read back
 * @param overwritten reads of KV the request computed itself that had changed since
 */
public record MismatchCounts(long wrongLoads, long contaminated, long overwritten) {
    /** No mismatch. */
    public static final MismatchCounts NONE = new MismatchCounts(0, 0, 0);

    /** Checks. */
    public MismatchCounts {
        if (wrongLoads < 0 || contaminated < 0 || overwritten < 0) {
            throw new IllegalArgumentException("counts must be >= 0");
        }
    }

    /** One mismatch of {@code kind}. */
    public static MismatchCounts of(KvMismatch.Kind kind) {
        return switch (kind) {
            case WRONG_LOAD -> new MismatchCounts(1, 0, 0);
            case CONTAMINATED -> new MismatchCounts(0, 1, 0);
            case OVERWRITTEN -> new MismatchCounts(0, 0, 1);
        };
    }

    /** The sum of both. */
    public MismatchCounts plus(MismatchCounts o) {
        return new MismatchCounts(
                wrongLoads + o.wrongLoads, contaminated + o.contaminated, overwritten + o.overwritten);
    }

    /** Every mismatch, whatever its kind. */
    public long total() {
        return wrongLoads + contaminated + overwritten;
    }

    @Override
    public String toString() {
        return total() + " (" + wrongLoads + " wrong loads, " + contaminated + " contaminated, " + overwritten
                + " overwritten)";
    }
}
