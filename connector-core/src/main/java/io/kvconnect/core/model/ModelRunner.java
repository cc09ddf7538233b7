package io.kvconnect.core.model;

import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.core.memory.KvMemory;
import io.kvconnect.core.sched.ScheduledWork;
import io.kvconnect.core.sched.SchedulerOutput;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One worker's verifying model. For each scheduled position and layer it writes the KV that
 * {@link KvContent} defines for each of the rank's KV heads into the request's blocks; for each request that samples, it reads one
 * word of every position's KV in every layer back from the cache and folds it into a digest; the
 * executor sums the digests of all ranks and derives the token. Wrong, stale or missing KV
 * therefore changes the output.
 *
 * <p>With verification on, every read word is compared with its expected value, and every
 * position this runner did not write itself (prefix hits and loaded KV) is checked in full, every
 * word of every layer, the first time the request reads it. Mismatches are collected with block,
 * layer, position and request.
 *
 * <p><b>Thread.</b> The worker's own thread only. The runner keeps each running request's tokens
 * and block table, like a real model runner's input batch.
 */
public final class ModelRunner {
    private static final int MAX_REPORTED = 100;

    private final KvMemory memory;
    private final int rank;
    private final boolean verify;
    private final int blockSize;
    private final int numLayers;
    private final long bytesPerToken;
    private final int wordsPerToken;
    private final int headsPerRank;
    private final int wordsPerHead;
    private final int firstHead;
    /** Whether this rank's heads count in the digest (with replicated heads, only the first replica's do). */
    private final boolean contributes;
    private final Map<String, State> states = new HashMap<>();
    private final List<KvMismatch> mismatches = new ArrayList<>();
    /** Wrong reads per request since the last {@link #takeMismatchCounts()}. */
    private final Map<String, Integer> mismatchCounts = new HashMap<>();
    private long verifiedBlockReads;
    private List<ScheduledWork> stepWork = List.of();
    private State[] stepStates = new State[0];
    private long[] digests = new long[0];

    /**
     * @param memory this worker's KV cache
     * @param rank this worker's tensor-parallel rank
     * @param verify whether to check every read against the expected content
     */
    public ModelRunner(KvMemory memory, int rank, boolean verify) {
        this.memory = memory;
        this.rank = rank;
        this.verify = verify;
        this.blockSize = memory.layout().blockSize();
        this.numLayers = memory.layout().numLayers();
        this.bytesPerToken = memory.layout().bytesPerBlockPerLayer() / blockSize;
        this.wordsPerToken = (int) (bytesPerToken / Long.BYTES);
        int heads = memory.layout().model().numKvHeads();
        int tp = memory.layout().tensorParallelSize();
        if (heads % tp != 0 && tp % heads != 0) {
            throw new IllegalArgumentException("tensor-parallel size " + tp + " must divide the " + heads
                    + " KV heads or be a multiple of them");
        }
        this.headsPerRank = Math.max(1, heads / tp);
        int replicas = Math.max(1, tp / heads);
        this.firstHead = heads >= tp ? rank * headsPerRank : rank / replicas;
        this.contributes = rank % replicas == 0;
        this.wordsPerHead = wordsPerToken / headsPerRank;
        if (wordsPerHead == 0) {
            throw new IllegalArgumentException("the verifying model needs at least 8 bytes of KV per head, token and "
                    + "layer, got " + bytesPerToken / headsPerRank);
        }
    }

    /** Number of layers. */
    public int numLayers() {
        return numLayers;
    }

    /**
     * Takes in a step: forgets finished and preempted requests and brings each scheduled
     * request's tokens and block table up to date.
     */
    public void beginStep(SchedulerOutput out) {
        for (String id : out.finishedRequestIds()) {
            states.remove(id);
        }
        for (String id : out.preemptedRequestIds()) {
            states.remove(id);
        }
        stepWork = out.work();
        stepStates = new State[stepWork.size()];
        digests = new long[stepWork.size()];
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            State s;
            if (w.kind() != ScheduledRequest.Kind.CONTINUING) {
                s = new State(w.requestId(), w.prefixTokens(), w.blockTable());
                states.put(w.requestId(), s);
            } else {
                s = states.get(w.requestId());
                if (s == null) {
                    throw new IllegalStateException("worker " + rank + " has no state for continuing request "
                            + w.requestId());
                }
                s.truncate(w.start());
                s.addBlocks(w.blockTable());
            }
            for (int t : w.tokens()) {
                s.append(t);
            }
            if (s.numTokens < w.start() + w.numTokens()) {
                // Asynchronous scheduling: the last position is the token this worker sampled last step.
                if (s.lastSampledPosition != s.numTokens || s.numTokens + 1 != w.start() + w.numTokens()) {
                    throw new IllegalStateException("worker " + rank + ": request " + w.requestId()
                            + " needs position " + s.numTokens + " but sampled position " + s.lastSampledPosition);
                }
                s.append(s.lastSampledToken);
            }
            stepStates[i] = s;
        }
    }

    /** Computes one layer of the step: writes the scheduled positions' KV, then reads and verifies. */
    public void computeLayer(int layer) {
        // Writes first for every request, then reads, as a real forward pass does per layer.
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            State s = stepStates[i];
            for (int p = w.start(); p < w.start() + w.numTokens(); p++) {
                write(s, p, layer);
            }
        }
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            State s = stepStates[i];
            if (verify) {
                for (int p = s.verifiedThrough; p < w.start(); p++) {
                    verifyFull(s, p, layer);
                }
            }
            if (w.samples()) {
                digests[i] += readDigest(s, w.start() + w.numTokens(), layer);
            }
        }
    }

    /** Ends the step's compute: positions written or verified need no full check again. */
    public void endCompute() {
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            State s = stepStates[i];
            s.verifiedThrough = Math.max(s.verifiedThrough, w.start() + w.numTokens());
            if (verify && s.verifiedThrough > 0) {
                verifiedBlockReads += (w.start() + w.numTokens() + blockSize - 1) / blockSize;
            }
        }
    }

    /** This rank's digest for each work entry of the step (0 for entries that do not sample). */
    public long[] partialDigests() {
        return digests.clone();
    }

    /** Records the tokens sampled this step (from the summed digests) as each request's next token. */
    public Map<String, Integer> sample(long[] summedDigests) {
        Map<String, Integer> tokens = new HashMap<>();
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            if (!w.samples()) {
                continue;
            }
            int end = w.start() + w.numTokens();
            int token = KvContent.sample(summedDigests[i], end);
            State s = stepStates[i];
            s.lastSampledToken = token;
            s.lastSampledPosition = end;
            tokens.put(w.requestId(), token);
        }
        return tokens;
    }

    /** Mismatches found so far (the first {@value #MAX_REPORTED}) and clears them. */
    public List<KvMismatch> takeMismatches() {
        List<KvMismatch> taken = List.copyOf(mismatches);
        mismatches.clear();
        return taken;
    }

    /** Wrong reads per request since the last call, and clears them. */
    public Map<String, Integer> takeMismatchCounts() {
        if (mismatchCounts.isEmpty()) {
            return Map.of();
        }
        Map<String, Integer> taken = Map.copyOf(mismatchCounts);
        mismatchCounts.clear();
        return taken;
    }

    /** Block reads verified so far. */
    public long verifiedBlockReads() {
        return verifiedBlockReads;
    }

    /** Requests this runner keeps state for (for leak checks). */
    public int trackedRequests() {
        return states.size();
    }

    private void write(State s, int p, int layer) {
        MemorySegment slot = slot(s, p, layer);
        for (int h = 0; h < headsPerRank; h++) {
            long v = KvContent.value(s.positionHashes[p], layer, firstHead + h);
            int base = h * wordsPerHead;
            for (int i = 0; i < wordsPerHead; i++) {
                slot.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, base + i, KvContent.word(v, i));
            }
        }
    }

    private long readDigest(State s, int end, int layer) {
        long digest = 0;
        for (int p = 0; p < end; p++) {
            MemorySegment slot = slot(s, p, layer);
            for (int h = 0; h < headsPerRank; h++) {
                long word = slot.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, (long) h * wordsPerHead);
                if (verify && word != KvContent.word(KvContent.value(s.positionHashes[p], layer, firstHead + h), 0)) {
                    mismatch(s, p, layer);
                }
                digest += KvContent.contribution(word, p);
            }
        }
        return contributes ? digest : 0;
    }

    private void verifyFull(State s, int p, int layer) {
        MemorySegment slot = slot(s, p, layer);
        for (int h = 0; h < headsPerRank; h++) {
            long v = KvContent.value(s.positionHashes[p], layer, firstHead + h);
            int base = h * wordsPerHead;
            for (int i = 0; i < wordsPerHead; i++) {
                if (slot.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, base + i) != KvContent.word(v, i)) {
                    mismatch(s, p, layer);
                    return;
                }
            }
        }
    }

    private void mismatch(State s, int p, int layer) {
        mismatchCounts.merge(s.requestId, 1, Integer::sum);
        if (mismatches.size() < MAX_REPORTED) {
            mismatches.add(new KvMismatch(s.requestId, s.blocks[p / blockSize], layer, p, rank));
        }
    }

    private MemorySegment slot(State s, int p, int layer) {
        int blockIndex = p / blockSize;
        if (blockIndex >= s.numBlocks) {
            throw new IllegalStateException("request " + s.requestId + " has no block for position " + p);
        }
        return memory.blockLayer(s.blocks[blockIndex], layer)
                .asSlice((p % blockSize) * bytesPerToken, bytesPerToken);
    }

    /** A request as this worker knows it. */
    private static final class State {
        final String requestId;
        int[] tokens;
        long[] positionHashes;
        int numTokens;
        int[] blocks;
        int numBlocks;
        int verifiedThrough;
        int lastSampledToken;
        int lastSampledPosition = -1;

        State(String requestId, int[] prefix, int[] blockTable) {
            this.requestId = requestId;
            this.tokens = new int[Math.max(16, prefix.length * 2)];
            this.positionHashes = new long[tokens.length];
            this.blocks = Arrays.copyOf(blockTable, Math.max(4, blockTable.length * 2));
            this.numBlocks = blockTable.length;
            for (int t : prefix) {
                append(t);
            }
        }

        void append(int token) {
            if (numTokens == tokens.length) {
                tokens = Arrays.copyOf(tokens, numTokens * 2);
                positionHashes = Arrays.copyOf(positionHashes, numTokens * 2);
            }
            long prev = numTokens == 0 ? KvContent.ROOT : positionHashes[numTokens - 1];
            tokens[numTokens] = token;
            positionHashes[numTokens] = KvContent.positionHash(prev, token);
            numTokens++;
        }

        void truncate(int n) {
            if (n < numTokens) {
                numTokens = n;
                verifiedThrough = Math.min(verifiedThrough, n);
            }
        }

        void addBlocks(int[] more) {
            if (numBlocks + more.length > blocks.length) {
                blocks = Arrays.copyOf(blocks, Math.max(blocks.length * 2, numBlocks + more.length));
            }
            System.arraycopy(more, 0, blocks, numBlocks, more.length);
            numBlocks += more.length;
        }
    }
}
