package io.kvconnect.tools.capacity;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Reference streams for the tests: written by hand, or random with lookups and offers. */
final class Streams {
    private Streams() {}

    /** One lookup per block of {@code blocks} (each its own chain): a plain reference string. */
    static ReferenceStream plain(int... blocks) {
        List<TierTrace.Access> accesses = new ArrayList<>();
        for (int b : blocks) {
            accesses.add(new TierTrace.Lookup(new long[] {b}, 0));
        }
        return ReferenceStream.of(new TierTrace(16, 0, accesses));
    }

    /**
     * A random trace like a chat workload's: sessions whose chains grow turn by turn from shared
     * system prompts, looked up from a random point, with offers of the blocks not looked up.
     */
    static TierTrace randomChat(long seed, int sessions, int turns) {
        Random random = new Random(seed);
        List<TierTrace.Access> accesses = new ArrayList<>();
        long next = 1_000;
        List<List<Long>> chats = new ArrayList<>();
        long[][] systems = new long[3][];
        for (int s = 0; s < systems.length; s++) {
            systems[s] = new long[1 + random.nextInt(4)];
            for (int i = 0; i < systems[s].length; i++) {
                systems[s][i] = next++;
            }
        }
        for (int s = 0; s < sessions; s++) {
            List<Long> chain = new ArrayList<>();
            for (long b : systems[random.nextInt(systems.length)]) {
                chain.add(b);
            }
            chats.add(chain);
        }
        for (int t = 0; t < sessions * turns; t++) {
            List<Long> chain = chats.get(random.nextInt(sessions));
            int grow = 1 + random.nextInt(3);
            for (int i = 0; i < grow; i++) {
                chain.add(next++);
            }
            int gpuHit = random.nextInt(chain.size());
            long[] looked = new long[chain.size() - gpuHit];
            for (int i = 0; i < looked.length; i++) {
                looked[i] = chain.get(gpuHit + i);
            }
            long[] offered = new long[gpuHit];
            for (int i = 0; i < gpuHit; i++) {
                offered[i] = chain.get(i);
            }
            accesses.add(new TierTrace.Lookup(looked, random.nextInt(looked.length + 1)));
            if (offered.length > 0) {
                accesses.add(new TierTrace.Offer(offered));
            }
            long[] output = {next++};
            chain.add(output[0]);
            accesses.add(new TierTrace.Offer(output));
        }
        return new TierTrace(16, 0, accesses);
    }
}
