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

    /** Per update: the request id (a token) or the {@link RequestUpdate.Finished}; may be longer than {@link #size}. */
    private final Object[] slots;
    /** Per update {@code i}: the token at {@code 2i}, the output count at {@code 2i + 1}; zeros for a finish. */
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
        Objects.checkIndex(i, size);
        return slots[i] instanceof RequestUpdate.Finished f
                ? f
                : new RequestUpdate.TokenAdded((String) slots[i], values[2 * i], values[2 * i + 1]);
    }

    /** Whether update {@code i} is a finished request; otherwise it is a sampled token. */
    public boolean isFinished(int i) {
        Objects.checkIndex(i, size);
        return slots[i] instanceof RequestUpdate.Finished;
    }

    /** The request of update {@code i}. */
    public String requestId(int i) {
        Objects.checkIndex(i, size);
        return slots[i] instanceof RequestUpdate.Finished f ? f.requestId() : (String) slots[i];
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

    private void requireToken(int i) {
        if (isFinished(i)) {
            throw new IllegalStateException("update " + i + " is a finished request, not a token");
        }
    }

    /**
     * Collects updates in order and hands them over as {@link RequestUpdates}: each {@link #take}
     * hands over the arrays it filled, without a copy, and starts new ones sized for the largest
     * take lately. So only the handed-over batch is new (about 12 bytes per update, where an update
     * object and its slot in a list took 28), and a step of 256 tokens never grows its arrays
     * through copies.
     *
     * <p><b>Why not reuse the arrays.</b> The batch must be new anyway (its receiver owns it), so a
     * kept array would add a copy per take; and a kept array is old to the garbage collector, so
     * each of a step's 256 request ids stored into it would pay G1's card-marking write barrier,
     * which made reused step lists slower than new ones before (see {@code StepEntries}). A new
     * array is young: storing into it is the barrier's cheap case. The peak decays by 1/64 per
     * take, so the arrays shrink again slowly after a burst.
     *
     * <p><b>Thread.</b> Not thread-safe: the scheduler's engine thread only.
     */
    static final class Builder {
        private static final int MIN_CAPACITY = 16;

        private Object[] slots = new Object[MIN_CAPACITY];
        private int[] values = new int[2 * MIN_CAPACITY];
        private int size;
        /** The most updates taken at once lately, decaying. */
        private int peak;

        /** Appends a sampled token of {@code requestId}, the {@code numOutputTokens}-th. */
        void token(String requestId, int token, int numOutputTokens) {
            Objects.requireNonNull(requestId, "requestId");
            ensure(size + 1);
            slots[size] = requestId;
            values[2 * size] = token;
            values[2 * size + 1] = numOutputTokens;
            size++;
        }

        /** Appends an update of either kind. */
        void add(RequestUpdate u) {
            switch (u) {
                case RequestUpdate.TokenAdded t -> token(t.requestId(), t.token(), t.numOutputTokens());
                case RequestUpdate.Finished f -> {
                    ensure(size + 1);
                    slots[size] = f;
                    values[2 * size] = 0;
                    values[2 * size + 1] = 0;
                    size++;
                }
            }
        }

        void addAll(RequestUpdates u) {
            ensure(size + u.size);
            System.arraycopy(u.slots, 0, slots, size, u.size);
            System.arraycopy(u.values, 0, values, 2 * size, 2 * u.size);
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
            RequestUpdates taken = new RequestUpdates(slots, values, size);
            peak = Math.max(size, peak - (peak >> 6));
            int capacity = Math.max(MIN_CAPACITY, peak + (peak >> 5) + 4);
            slots = new Object[capacity];
            values = new int[2 * capacity];
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
