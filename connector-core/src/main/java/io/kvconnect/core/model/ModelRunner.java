package io.kvconnect.core.model;

import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.core.memory.KvMemory;
import io.kvconnect.core.sched.SampledTokens;
import io.kvconnect.core.sched.ScheduledWork;
import io.kvconnect.core.sched.SchedulerOutput;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One worker's verifying model. It behaves like a transformer where that matters to connectors:
 *
 * <ul>
 *   <li><b>Writes.</b> For each scheduled position and layer it writes, for each of the rank's KV
 *       heads, the KV that {@link KvContent} defines for the token prefix, changed by a taint
 *       when what the step read in the layer below was wrong. So one wrong block read in a step
 *       contaminates every position computed after it in that step, and every step that reads
 *       those positions later.</li>
 *   <li><b>Reads (attention).</b> In every layer, each request of the step reads one word of every
 *       position it attends to, {@code [0, end)}, for each head: the word's deviation from its
 *       expected value feeds the taint of the next layer's writes, and, for a request that samples,
 *       the word goes into its digest. The executor sums the digests of all ranks and derives the
 *       token. The word read rotates with position and layer, so a wrong word anywhere in a slot
 *       shows in some layer. Cost: proportional to the positions a step computes and reads.</li>
 * </ul>
 *
 * <p>Taint stays within a rank's heads (a real tensor-parallel model would spread it to every rank
 * in the all-reduce after attention); each rank checks its own blocks, so detection is the same.
 *
 * <p><b>Verification.</b> With verification on, every position this runner did not write itself
 * (prefix hits and loaded KV) is checked in full, every word of every layer, the first time the
 * request reads it; every word read is compared; and every write computed from wrong input is
 * reported. Mismatches carry request, block, layer, position, rank and {@link KvMismatch.Kind}.
 *
 * <p><b>Thread.</b> The worker's own thread only. The runner keeps each running request's tokens
 * and block table, like a real model runner's input batch.
 */
public final class ModelRunner {
    private static final int MAX_REPORTED = 100;
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED;

    private final KvMemory memory;
    private final int rank;
    private final boolean verify;
    private final long eosThreshold;
    private final int blockSize;
    private final int numLayers;
    private final long bytesPerToken;
    private final int headsPerRank;
    private final int wordsPerHead;
    private final int firstHead;
    /** Whether this rank's heads count in the digest (with replicated heads, only the first replica's do). */
    private final boolean contributes;

    private final Map<String, State> states = new HashMap<>();
    private final List<KvMismatch> mismatches = new ArrayList<>();
    /** Mismatches per request since the last {@link #takeMismatchCounts()}: wrong loads, contaminated, overwritten. */
    private final Map<String, long[]> mismatchCounts = new HashMap<>();

    private long verifiedBlockReads;
    private List<ScheduledWork> stepWork = List.of();
    /** The step of {@link #stepWork}. */
    private long step = -1;

    private State[] stepStates = new State[0];
    private long[] digests = new long[0];
    /** Blocks the step reads and writes, for memory the model works on through staging (device memory). */
    private int[] stepReadBlocks = new int[0];

    private int[] stepWrittenBlocks = new int[0];

    /**
     * @param memory this worker's KV cache
     * @param rank this worker's tensor-parallel rank
     * @param verify whether to check every read against the expected content
     * @param eosRate the probability per sampled position that the end-of-sequence token comes, in [0, 1]
     */
    public ModelRunner(KvMemory memory, int rank, boolean verify, double eosRate) {
        this.memory = memory;
        this.rank = rank;
        this.verify = verify;
        this.eosThreshold = KvContent.eosThreshold(eosRate);
        this.blockSize = memory.layout().blockSize();
        this.numLayers = memory.layout().numLayers();
        this.bytesPerToken = memory.layout().bytesPerBlockPerLayer() / blockSize;
        int wordsPerToken = (int) (bytesPerToken / Long.BYTES);
        int heads = memory.layout().model().numKvHeads();
        int tp = memory.layout().tensorParallelSize();
        if (heads % tp != 0 && tp % heads != 0) {
            throw new IllegalArgumentException(
                    "tensor-parallel size " + tp + " must divide the " + heads + " KV heads or be a multiple of them");
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
        step = out.step();
        if (stepStates.length < stepWork.size()) {
            stepStates = new State[stepWork.size()];
        }
        digests = new long[stepWork.size()];
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            State s;
            if (w.kind() != ScheduledRequest.Kind.CONTINUING) {
                s = new State(w.requestId(), w.prefixTokens(), w.blockTable(), w.start());
                states.put(w.requestId(), s);
            } else {
                s = states.get(w.requestId());
                if (s == null) {
                    throw new IllegalStateException(
                            "worker " + rank + " has no state for continuing request " + w.requestId());
                }
                s.truncate(w.start());
                s.addBlocks(w);
            }
            for (int k = 0; k < w.numKnownTokens(); k++) {
                s.append(w.token(k));
            }
            if (s.numTokens < w.start() + w.numTokens()) {
                // Asynchronous scheduling: the last position is the token this worker sampled last step.
                if (s.lastSampledPosition != s.numTokens || s.numTokens + 1 != w.start() + w.numTokens()) {
                    throw new IllegalStateException("worker " + rank + ": request " + w.requestId() + " needs position "
                            + s.numTokens + " but sampled position " + s.lastSampledPosition);
                }
                s.append(s.lastSampledToken);
            }
            s.prepareTaint(w.numTokens());
            stepStates[i] = s;
        }
        if (memory.staged()) {
            stageBlocks();
        }
    }

    /** The distinct blocks the step reads (every position attended) and writes (its computed positions). */
    private void stageBlocks() {
        BitSet read = new BitSet();
        BitSet written = new BitSet();
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            State s = stepStates[i];
            int end = w.start() + w.numTokens();
            int last = Math.min(s.numBlocks, Math.ceilDiv(end, blockSize));
            for (int b = 0; b < last; b++) {
                read.set(s.blocks[b]);
                if (b >= w.start() / blockSize) {
                    written.set(s.blocks[b]);
                }
            }
        }
        stepReadBlocks = read.stream().toArray();
        stepWrittenBlocks = written.stream().toArray();
    }

    /**
     * Computes one layer of the step: writes the scheduled positions' KV (tainted by what the layer
     * below read), then every request attends to its positions in this layer.
     */
    public void computeLayer(int layer) {
        if (memory.staged()) {
            memory.beforeLayer(layer, stepReadBlocks);
        }
        // Writes first for every request, then reads, as a real forward pass does per layer.
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            State s = stepStates[i];
            for (int p = w.start(); p < w.start() + w.numTokens(); p++) {
                write(s, p, layer, layer == 0 ? 0 : s.taint[p - w.start()]);
            }
        }
        for (int i = 0; i < stepWork.size(); i++) {
            digests[i] += attend(stepWork.get(i), stepStates[i], layer);
        }
        if (memory.staged()) {
            memory.afterLayer(layer, stepWrittenBlocks);
        }
    }

    /** Ends the step's compute: positions written or verified need no full check again. */
    public void endCompute() {
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            State s = stepStates[i];
            s.verifiedThrough = Math.max(s.verifiedThrough, w.start() + w.numTokens());
            if (verify && s.verifiedThrough > 0) {
                verifiedBlockReads += Math.ceilDiv(w.start() + w.numTokens(), blockSize);
            }
        }
    }

    /** This rank's digest for each work entry of the step (0 for entries that do not sample). */
    public long[] partialDigests() {
        return digests.clone();
    }

    /** Records the tokens sampled this step (from the summed digests) as each request's next token. */
    public SampledTokens sample(long[] summedDigests) {
        int[] tokens = new int[stepWork.size()];
        for (int i = 0; i < stepWork.size(); i++) {
            ScheduledWork w = stepWork.get(i);
            if (!w.samples()) {
                tokens[i] = SampledTokens.NONE;
                continue;
            }
            int end = w.start() + w.numTokens();
            int token = KvContent.sample(summedDigests[i], end, eosThreshold);
            State s = stepStates[i];
            s.lastSampledToken = token;
            s.lastSampledPosition = end;
            tokens[i] = token;
        }
        return SampledTokens.byPosition(step, tokens);
    }

    /** Mismatches found so far (the first {@value #MAX_REPORTED}) and clears them. */
    public List<KvMismatch> takeMismatches() {
        List<KvMismatch> taken = List.copyOf(mismatches);
        mismatches.clear();
        return taken;
    }

    /** Mismatches per request since the last call, and clears them. */
    public Map<String, MismatchCounts> takeMismatchCounts() {
        if (mismatchCounts.isEmpty()) {
            return Map.of();
        }
        Map<String, MismatchCounts> taken = HashMap.newHashMap(mismatchCounts.size());
        mismatchCounts.forEach((id, c) -> taken.put(id, new MismatchCounts(c[0], c[1], c[2])));
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

    private void write(State s, int p, int layer, long taint) {
        MemorySegment slot = slot(s, p, layer);
        for (int h = 0; h < headsPerRank; h++) {
            long v = KvContent.tainted(KvContent.value(s.positionHashes[p], layer, firstHead + h), taint, h);
            int base = h * wordsPerHead;
            for (int i = 0; i < wordsPerHead; i++) {
                slot.setAtIndex(WORD, base + i, KvContent.word(v, i));
            }
        }
        if (layer == 0) {
            s.clearContaminated(p);
        }
        if (taint != 0) {
            s.markContaminated(p);
            if (verify) {
                mismatch(s, p, layer, KvMismatch.Kind.CONTAMINATED);
            }
        }
    }

    /**
     * One request's attention in one layer: reads one word per head of every position in
     * {@code [0, end)}, leaves the taint of each computed position in the state for the next
     * layer's writes, and returns what the reads add to the digest (0 if the request does not
     * sample or this rank does not contribute).
     */
    private long attend(ScheduledWork w, State s, int layer) {
        int start = w.start();
        int end = start + w.numTokens();
        long digest = 0;
        long taint = 0;
        for (int q = 0; q < end; q++) {
            MemorySegment slot = slot(s, q, layer);
            int wi = (q + layer) % wordsPerHead;
            long deviation = 0;
            for (int h = 0; h < headsPerRank; h++) {
                long word = slot.getAtIndex(WORD, (long) h * wordsPerHead + wi);
                long expected = KvContent.word(KvContent.value(s.positionHashes[q], layer, firstHead + h), wi);
                deviation += KvContent.deviation(word, expected, h);
                digest += KvContent.contribution(word, q);
            }
            // A position the request did not compute itself is checked in full on its first read.
            if (verify && deviation == 0 && q >= s.verifiedThrough && q < start && !matchesInFull(s, q, layer)) {
                deviation = 1;
            }
            if (deviation != 0) {
                taint += KvContent.taintStep(deviation, q);
                if (verify) {
                    readMismatch(s, q, layer, start, end);
                }
            }
            if (q >= start) {
                s.taint[q - start] = taint;
            }
        }
        return w.samples() && contributes ? digest : 0;
    }

    /** Reports a wrong read of position {@code q}, classified by who computed it. */
    private void readMismatch(State s, int q, int layer, int start, int end) {
        if (q < s.selfFrom) {
            mismatch(s, q, layer, KvMismatch.Kind.WRONG_LOAD);
        } else if (s.isContaminated(q)) {
            // Written from wrong input: reported as it was written if that was in this very step.
            if (q < start || q >= end) {
                mismatch(s, q, layer, KvMismatch.Kind.CONTAMINATED);
            }
        } else {
            mismatch(s, q, layer, KvMismatch.Kind.OVERWRITTEN);
        }
    }

    private boolean matchesInFull(State s, int p, int layer) {
        MemorySegment slot = slot(s, p, layer);
        for (int h = 0; h < headsPerRank; h++) {
            long v = KvContent.value(s.positionHashes[p], layer, firstHead + h);
            int base = h * wordsPerHead;
            for (int i = 0; i < wordsPerHead; i++) {
                if (slot.getAtIndex(WORD, base + i) != KvContent.word(v, i)) {
                    return false;
                }
            }
        }
        return true;
    }

    private void mismatch(State s, int p, int layer, KvMismatch.Kind kind) {
        mismatchCounts.computeIfAbsent(s.requestId, id -> new long[3])[kind.ordinal()]++;
        if (mismatches.size() < MAX_REPORTED) {
            mismatches.add(new KvMismatch(s.requestId, s.blocks[p / blockSize], layer, p, rank, kind));
        }
    }

    private MemorySegment slot(State s, int p, int layer) {
        int blockIndex = p / blockSize;
        if (blockIndex >= s.numBlocks) {
            throw new IllegalStateException("request " + s.requestId + " has no block for position " + p);
        }
        return memory.blockLayer(s.blocks[blockIndex], layer).asSlice((p % blockSize) * bytesPerToken, bytesPerToken);
    }

    /** A request as this worker knows it. */
    private static final class State {
        final String requestId;
        int[] tokens;
        long[] positionHashes;
        int numTokens;
        int[] blocks;
        int numBlocks;
        /** Positions below this were verified in full or written by this runner. */
        int verifiedThrough;
        /** Positions from here on were computed by this runner; below came from a prefix hit or a load. */
        int selfFrom;
        /** Positions this runner computed from wrong input (created on first need). */
        @Nullable
        BitSet contaminated;
        /** The taint of each position computed in the current step, for the next layer's writes. */
        long[] taint = new long[16];

        int lastSampledToken;
        int lastSampledPosition = -1;

        State(String requestId, int[] prefix, int[] blockTable, int firstComputed) {
            this.requestId = requestId;
            this.tokens = new int[Math.max(16, prefix.length * 2)];
            this.positionHashes = new long[tokens.length];
            this.blocks = Arrays.copyOf(blockTable, Math.max(4, blockTable.length * 2));
            this.numBlocks = blockTable.length;
            this.selfFrom = firstComputed;
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

        /** The KV from {@code n} on will be computed again, by this runner. */
        void truncate(int n) {
            if (n < numTokens) {
                numTokens = n;
                verifiedThrough = Math.min(verifiedThrough, n);
            }
            selfFrom = Math.min(selfFrom, n);
        }

        /** Appends the entry's new blocks, read by index (no array per step). */
        void addBlocks(ScheduledWork w) {
            int n = w.numBlocks();
            if (numBlocks + n > blocks.length) {
                blocks = Arrays.copyOf(blocks, Math.max(blocks.length * 2, numBlocks + n));
            }
            for (int i = 0; i < n; i++) {
                blocks[numBlocks + i] = w.block(i);
            }
            numBlocks += n;
        }

        void prepareTaint(int positions) {
            if (taint.length < positions) {
                taint = new long[Math.max(positions, taint.length * 2)];
            }
        }

        void markContaminated(int p) {
            if (contaminated == null) {
                contaminated = new BitSet();
            }
            contaminated.set(p);
        }

        void clearContaminated(int p) {
            if (contaminated != null) {
                contaminated.clear(p);
            }
        }

        boolean isContaminated(int p) {
            return contaminated != null && contaminated.get(p);
        }
    }
}
