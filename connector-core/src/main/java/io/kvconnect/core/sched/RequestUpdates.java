package io.kvconnect.core.sched;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * Request updates in the order they happened, stored by column: a step of 256 decoding requests
 * samples 256 tokens, and an object per token was the largest part of a step's garbage. A token
 * is a request id (the request's own string, not a copy), the token and the output count, in
 * arrays; a finished request keeps its {@link RequestUpdate.Finished}.
 *
 * <p>Two ways to read it:
 *
 * <ul>
 *   <li>As a {@code List<RequestUpdate>}: {@link #get} makes the update object on each call
 *       (equal to, but not the same as, the one before). For tests and for code that keeps updates.
 *   <li>By index, without objects: {@link #isFinished}, {@link #requestId}, {@link #token}, {@link
 *       #numOutputTokens}, {@link #finished}. The engine's own loops read it this way.
 * </ul>
 *
 * <p>Read-only and never changed after it is handed over: whoever receives it owns it, across
 * steps too. Any thread may read it once it is handed over.
 */
public final class RequestUpdates extends AbstractList<RequestUpdate> implements RandomAccess {
    /** No updates. */
    public static final RequestUpdates EMPTY = new RequestUpdates(new Object[0], new int[0], 0);

    /** The count of a finish in {@link #values}: a token's count is at least 1. */
    private static final int FINISHED = 0;

    /** Per update: the request id (a token) or the {@link RequestUpdate.Finished}. */
    private final Object[] slots;
    /**
     * Per update {@code i}: the token at {@code 2i}, the output count at {@code 2i + 1}; for a
     * finish, {@link #FINISHED} as its count. The kind is read here, not from the slot: a slot's
     * request id is the request's own string, somewhere in the old generation, and reading its
     * class to tell the kinds apart would touch a cache line per token that is otherwise not read.
     */
    private final int[] values;

    private final int size;

    private RequestUpdates(Object[] slots, int[] values, int size) {
        this.slots = slots;
        this.values = values;
        this.size = size;
    }

    /** The updates of {@code parts}, one after the other; the one part itself when there is one. */
    public static RequestUpdates concat(List<RequestUpdates> parts) {
        int nonEmpty = 0;
        RequestUpdates last = EMPTY;
        for (RequestUpdates p : parts) {
            if (!p.isEmpty()) {
                nonEmpty++;
                last = p;
            }
        }
        if (nonEmpty <= 1) {
            return last;
        }
        Builder b = new Builder();
        for (RequestUpdates p : parts) {
            b.addAll(p);
        }
        return b.take();
    }

    @Override
    public int size() {
        return size;
    }

    /** The update at {@code i}, as a new object each call (see the class comment). */
    @Override
    public RequestUpdate get(int i) {
        return isFinished(i)
                ? (RequestUpdate.Finished) slots[i]
                : new RequestUpdate.TokenAdded((String) slots[i], values[2 * i], values[2 * i + 1]);
    }

    /** Whether update {@code i} is a finished request; otherwise it is a sampled token. */
    public boolean isFinished(int i) {
        Objects.checkIndex(i, size);
        return values[2 * i + 1] == FINISHED;
    }

    /** The request of update {@code i}. */
    public String requestId(int i) {
        return isFinished(i) ? ((RequestUpdate.Finished) slots[i]).requestId() : (String) slots[i];
    }

    /**
     * The token of update {@code i}.
     *
     * @throws IllegalStateException if update {@code i} is a finished request
     */
    public int token(int i) {
        requireToken(i);
        return values[2 * i];
    }

    /**
     * The request's output tokens so far, the token of update {@code i} included.
     *
     * @throws IllegalStateException if update {@code i} is a finished request
     */
    public int numOutputTokens(int i) {
        requireToken(i);
        return values[2 * i + 1];
    }

    /**
     * Update {@code i}, a finished request.
     *
     * @throws IllegalStateException if update {@code i} is a sampled token
     */
    public RequestUpdate.Finished finished(int i) {
        if (!isFinished(i)) {
            throw new IllegalStateException("update " + i + " is a token, not a finished request");
        }
        return (RequestUpdate.Finished) slots[i];
    }

    /**
     * {@code numOutputTokens} of a token, which counts the token itself; shared with {@link
     * RequestUpdate.TokenAdded}, and what lets {@link #FINISHED} mark a finish.
     *
     * @throws IllegalArgumentException if it is below 1
     */
    static int checkOutputCount(int numOutputTokens) {
        if (numOutputTokens < 1) {
            throw new IllegalArgumentException(
                    "numOutputTokens counts this token too: at least 1, got " + numOutputTokens);
        }
        return numOutputTokens;
    }

    private void requireToken(int i) {
        if (isFinished(i)) {
            throw new IllegalStateException("update " + i + " is a finished request, not a token");
        }
    }

    /**
     * Collects updates in order and hands them over as {@link RequestUpdates}. Its arrays are kept
     * and reused: each {@link #take} copies what it holds into arrays of exactly that size, so only
     * the handed-over batch is new (about 12 bytes per update, where an update object and its slot
     * in a list took 28), and the builder never grows through copies once it has seen its largest
     * step.
     *
     * <p><b>Why a copy.</b> Handing over the filled arrays and starting new ones sized for the
     * recent peak was tried: it saves the copy but fills fresh memory an element at a time while
     * the step runs, and it was not faster (in alternated runs of 300,000 warm-up steps it was
     * slower when the pool's KV events were built too), and it allocates the peak's size rather
     * than the step's.
     *
     * <p><b>Thread.</b> Not thread-safe: the scheduler's engine thread only.
     */
    static final class Builder {
        private Object[] slots = new Object[16];
        private int[] values = new int[32];
        private int size;
        /** Whether a finish was appended since the last take (see {@link #take}). */
        private boolean holdsFinished;

        /** Appends a sampled token of {@code requestId}, the {@code numOutputTokens}-th. */
        void token(String requestId, int token, int numOutputTokens) {
            Objects.requireNonNull(requestId, "requestId");
            append(requestId, token, checkOutputCount(numOutputTokens));
        }

        /** Appends an update of either kind. */
        void add(RequestUpdate u) {
            switch (u) {
                case RequestUpdate.TokenAdded t -> token(t.requestId(), t.token(), t.numOutputTokens());
                case RequestUpdate.Finished f -> {
                    append(f, 0, FINISHED);
                    holdsFinished = true;
                }
            }
        }

        private void append(Object slot, int token, int count) {
            ensure(size + 1);
            // The slots array lives long (an old object to the collector), and storing a reference
            // into it costs a write barrier; from one step to the next the same requests sample in
            // the same order, so the slot mostly holds this very id already.
            if (slots[size] != slot) {
                slots[size] = slot;
            }
            values[2 * size] = token;
            values[2 * size + 1] = count;
            size++;
        }

        void addAll(RequestUpdates u) {
            ensure(size + u.size);
            System.arraycopy(u.slots, 0, slots, size, u.size);
            System.arraycopy(u.values, 0, values, 2 * size, 2 * u.size);
            for (int i = 0; i < u.size && !holdsFinished; i++) {
                holdsFinished = u.isFinished(i); // so that take() clears the slots, as after add()
            }
            size += u.size;
        }

        boolean isEmpty() {
            return size == 0;
        }

        /** Everything appended since the last take, in order; the builder is empty afterwards. */
        RequestUpdates take() {
            if (size == 0) {
                return EMPTY;
            }
            RequestUpdates taken =
                    new RequestUpdates(Arrays.copyOf(slots, size), Arrays.copyOf(values, 2 * size), size);
            // A finish holds its request's output tokens: it must not stay reachable from here until
            // its slot is overwritten. A request id may (the builder keeps at most its largest step's
            // ids): clearing 256 slots every step was about 3% of the step's CPU samples.
            if (holdsFinished) {
                Arrays.fill(slots, 0, size, null);
                holdsFinished = false;
            }
            size = 0;
            return taken;
        }

        private void ensure(int n) {
            if (n > slots.length) {
                int capacity = Math.max(n, slots.length * 2);
                slots = Arrays.copyOf(slots, capacity);
                values = Arrays.copyOf(values, 2 * capacity);
            }
        }
    }
}
