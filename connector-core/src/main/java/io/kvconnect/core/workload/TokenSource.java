package io.kvconnect.core.workload;

import java.util.SplittableRandom;

/**
 * Deterministic synthetic token contents. Each stream is keyed by the seed and a name (a system
 * prompt's name, or a session id and turn index), so a prompt's tokens do not depend on how many
 * other prompts or sessions were generated before it, and the synthetic generator and the trace
 * reader produce the same tokens for the same names.
 */
final class TokenSource {
    /** Upper bound on the tokens one workload holds (2 GB of ints), so a typo cannot exhaust the heap. */
    static final long MAX_TOTAL_TOKENS = 500_000_000L;

    private TokenSource() {}

    /** The tokens of the shared system prompt {@code name}: {@code length} ids in [1, vocabSize). */
    static int[] systemPrompt(long seed, String name, int length, int vocabSize) {
        return tokens(streamSeed(seed, "system\u0000" + name), length, vocabSize);
    }

    /** The user tokens of turn {@code turn} of {@code session}: {@code length} ids in [1, vocabSize). */
    static int[] userTurn(long seed, String session, int turn, int length, int vocabSize) {
        return tokens(streamSeed(seed, "user\u0000" + session + "\u0000" + turn), length, vocabSize);
    }

    private static int[] tokens(long streamSeed, int length, int vocabSize) {
        var random = new SplittableRandom(streamSeed);
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            out[i] = random.nextInt(1, vocabSize); // 0 is reserved
        }
        return out;
    }

    /**
     * Mixes the seed with a 64-bit FNV-1a hash of the key. A string's own hashCode is only 32 bits
     * and collides easily ("Aa" and "BB"), which would give two sessions identical turns.
     */
    private static long streamSeed(long seed, String key) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < key.length(); i++) {
            h = (h ^ key.charAt(i)) * 0x100000001b3L;
        }
        return mix(seed ^ mix(h));
    }

    /** The MurmurHash3 64-bit finalizer: spreads every input bit over the output. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
