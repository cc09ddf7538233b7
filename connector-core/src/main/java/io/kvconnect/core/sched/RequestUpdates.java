package io.kvconnect.core.sched;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;
import org.jspecify.annotations.Nullable;

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
 * <p><b>Owned or lent.</b> A batch is never changed, but it is one of two kinds:
 *
 * <ul>
 *   <li><i>Owned</i>: whoever receives it may keep it for as long as it likes. {@link
 *       Scheduler#addRequest}, {@link Scheduler#abort} and {@link #concat} of several parts hand
 *       these over.
 *   <li><i>Lent</i>: the updates of {@link Scheduler#update}, which are read in the scheduler's own
 *       arrays instead of a copy of them (at 256 requests the copy was half of the step's garbage).
 *       A lent batch can be read until the scheduler's next {@code update} call, which reuses the
 *       arrays; reading it after that throws {@link IllegalStateException}, so that a batch kept too
 *       long fails loudly instead of showing another step's updates. {@link #keep()} gives an owned
 *       copy. Calls between the two updates (new requests, aborts, the next schedule) never write
 *       into lent arrays.
 * </ul>
 *
 * <p>Any thread may read a batch once it is handed over; a lent one only while the engine thread
 * does not call {@code update}.
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

    /** The builder whose arrays these are, for a lent batch; {@code null} for an owned one. */
    private final @Nullable Builder lender;

    /** The lender's {@link Builder#generation} when lent: a later one means the arrays are reused. */
    private final int generation;

    private RequestUpdates(Object[] slots, int[] values, int size) {
        this(slots, values, size, null, 0);
    }

    private RequestUpdates(Object[] slots, int[] values, int size, @Nullable Builder lender, int generation) {
        this.slots = slots;
        this.values = values;
        this.size = size;
        this.lender = lender;
        this.generation = generation;
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
        requireCurrent();
        return size;
    }

    /**
     * {@return these updates as an owned batch: this one if it is owned, else a copy}
     *
     * @throws IllegalStateException if this batch was lent and its arrays are reused already
     */
    public RequestUpdates keep() {
        requireCurrent();
        return lender == null
                ? this
                : new RequestUpdates(Arrays.copyOf(slots, size), Arrays.copyOf(values, 2 * size), size);
    }

    /** Whether this batch was lent (see the class comment). */
    public boolean isLent() {
        return lender != null;
    }

    private void requireCurrent() {
        if (lender != null && lender.generation != generation) {
            throw new IllegalStateException("these request updates were lent until the scheduler's next update, "
                    + "which has reused their arrays: keep() a batch that must outlive its step");
        }
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
        requireCurrent();
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
     * Collects updates in order and hands them over as {@link RequestUpdates}, owned ({@link
     * #take}, a copy) or lent ({@link #lend}, its own arrays). Its arrays are kept and reused, so
     * the builder never grows through copies once it has seen its largest step.
     *
     * <p><b>Lending.</b> After {@link #lend} the builder's arrays belong to the lent batch until
     * {@link #reclaim}. Updates that arrive in between go into new arrays (the lent ones stay as
     * they are); that happens only when a request finishes outside an update (a refused arrival,
     * an abort, a failed hook), so a steady run of steps writes into the same arrays every step
     * and allocates only the small batch object that lets a stale read be told.
     *
     * <p><b>Thread.</b> Not thread-safe: the scheduler's engine thread only.
     */
    static final class Builder {
        private Object[] slots = new Object[16];
        private int[] values = new int[32];
        private int size;
        /** Whether a finish was appended since the last take or lend (see {@link #take}). */
        private boolean holdsFinished;

        /**
         * Bumped by {@link #reclaim}: every batch lent before it reads as stale. Read by lent
         * batches on any thread that reads them, so only while the engine thread does not reclaim.
         */
        private int generation;
        /** Whether {@link #slots} and {@link #values} are lent out and must not be written. */
        private boolean lent;
        /**
         * The slots {@link #reclaim} clears, as {@link #take} does after a copy: the lent batch's
         * size if it holds a finish, else none.
         */
        private int clearOnReclaim;

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
            int n = u.size(); // refuses a stale lent batch
            ensure(size + n);
            System.arraycopy(u.slots, 0, slots, size, n);
            System.arraycopy(u.values, 0, values, 2 * size, 2 * n);
            for (int i = 0; i < n && !holdsFinished; i++) {
                holdsFinished = u.isFinished(i); // so that take() clears the slots, as after add()
            }
            size += n;
        }

        boolean isEmpty() {
            return size == 0;
        }

        /** Everything appended since the last take or lend, as an owned copy; the builder is empty afterwards. */
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

        /**
         * Everything appended since the last take or lend, lent in the builder's own arrays until
         * the next {@link #reclaim}; the builder is empty afterwards.
         */
        RequestUpdates lend() {
            if (size == 0) {
                return EMPTY;
            }
            RequestUpdates lentOut = new RequestUpdates(slots, values, size, this, generation);
            lent = true;
            clearOnReclaim = holdsFinished ? size : 0;
            holdsFinished = false;
            size = 0;
            return lentOut;
        }

        /** Ends every lent batch: they read as stale from now on, and their arrays are written again. */
        void reclaim() {
            generation++;
            if (lent) {
                Arrays.fill(slots, 0, clearOnReclaim, null); // as in take(): no finish kept reachable
                lent = false;
            }
        }

        private void ensure(int n) {
            if (lent) {
                // Updates between a lend and its reclaim: the lent batch keeps its arrays.
                slots = new Object[Math.max(n, slots.length)];
                values = new int[2 * slots.length];
                lent = false;
            } else if (n > slots.length) {
                int capacity = Math.max(n, slots.length * 2);
                slots = Arrays.copyOf(slots, capacity);
                values = Arrays.copyOf(values, 2 * capacity);
            }
        }
    }
}
