package io.kvconnect.core.model;

/**
 * The modelled cost of a forward pass, in seconds, so that reports show what cache hits save
 * without a GPU. Defaults are shaped like a 1B-parameter model on one data-center GPU.
 *
 * @param prefillTokensPerSecond prompt tokens computed per second
 * @param decodeStepSeconds fixed cost of a step that decodes
 * @param decodeRequestSeconds extra cost per decoding request in a step
 * @param contextTokenSeconds cost per context token read by decoding requests (attention)
 */
public record ModelCost(
        double prefillTokensPerSecond,
        double decodeStepSeconds,
        double decodeRequestSeconds,
        double contextTokenSeconds) {
    /** Validates. */
    public ModelCost {
        if (!(prefillTokensPerSecond > 0)
                || decodeStepSeconds < 0
                || decodeRequestSeconds < 0
                || contextTokenSeconds < 0) {
            throw new IllegalArgumentException("model cost: prefill rate must be positive and times >= 0");
        }
    }

    /** Defaults: 25k prefill tokens/s, 6 ms per decode step, +50 µs per request, +2 ns per context token. */
    public static ModelCost defaults() {
        return new ModelCost(25_000, 0.006, 0.000_05, 0.000_000_002);
    }

    /** The modelled time of one step. */
    public double stepSeconds(long prefillTokens, int decodeRequests, long contextTokens) {
        double t = prefillTokens / prefillTokensPerSecond;
        if (decodeRequests > 0) {
            t += decodeStepSeconds + decodeRequests * decodeRequestSeconds + contextTokens * contextTokenSeconds;
        }
        return t;
    }
}
