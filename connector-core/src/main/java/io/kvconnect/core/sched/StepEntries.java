package io.kvconnect.core.sched;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * The entries of the step being planned: each scheduled request with its work, in batch order.
 * The planner keeps one of these per step parity and refills it two steps later (see {@link
 * ScheduledWork} on why that is safe).
 *
 * <p><b>Why not two ArrayLists.</b> The arrays here live long, so the garbage collector counts
 * them as old, and storing a reference into an old object costs a write barrier that marks a card
 * for the collector to scan. Clearing a list and adding 256 requests again paid that 512 times per
 * step, which made reusing lists slower than making new ones. But from one step to the step after
 * next, the running requests are mostly the same, in the same order: {@link #add} stores a
 * reference only where it differs from what the slot held, and {@link #clear} only resets the size.
 * Slots past the size keep their old references until overwritten; at most the two steps' largest
 * batches are kept reachable that way.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class StepEntries {
    private Request[] requests = new Request[16];
    private ScheduledWork[] work = new ScheduledWork[16];
    private int size;
    // Each reads the array field when called: add() may have replaced the array since.
    private final List<Request> requestView = new RequestsView();
    private final List<ScheduledWork> workView = new WorkView();

    /** Forgets the entries (the slots keep their references, see the class comment). */
    void clear() {
        size = 0;
    }

    /** Appends {@code r} with its work {@code w}. */
    void add(Request r, ScheduledWork w) {
        if (size == requests.length) {
            requests = Arrays.copyOf(requests, size * 2);
            work = Arrays.copyOf(work, size * 2);
        }
        if (requests[size] != r) {
            requests[size] = r;
        }
        if (work[size] != w) {
            work[size] = w;
        }
        size++;
    }

    /**
     * Removes {@code r}'s entry, if it has one.
     *
     * @return the tokens its work had, or 0 if it had no entry
     */
    int remove(Request r) {
        for (int i = 0; i < size; i++) {
            if (requests[i] == r) {
                int tokens = work[i].numTokens();
                System.arraycopy(requests, i + 1, requests, i, size - i - 1);
                System.arraycopy(work, i + 1, work, i, size - i - 1);
                size--;
                return tokens;
            }
        }
        return 0;
    }

    int size() {
        return size;
    }

    /** The work of the entry added last. */
    ScheduledWork last() {
        if (size == 0) {
            throw new IllegalStateException("no entries");
        }
        return work[size - 1];
    }

    /** The requests, entry by entry; a read-only view that follows later changes. */
    List<Request> requests() {
        return requestView;
    }

    /** The work, entry by entry; a read-only view that follows later changes. */
    List<ScheduledWork> work() {
        return workView;
    }

    // Two small classes rather than one list over a function that reads either array: each is
    // read per entry and step (by the planner, the connectors, the applier), and a list whose get()
    // calls through a function paid that call with a type check at each read.

    /** The requests, read-only, up to the current size. */
    private final class RequestsView extends AbstractList<Request> implements RandomAccess {
        @Override
        public Request get(int index) {
            Objects.checkIndex(index, size);
            return requests[index];
        }

        @Override
        public int size() {
            return size;
        }
    }

    /** The work, read-only, up to the current size. */
    private final class WorkView extends AbstractList<ScheduledWork> implements RandomAccess {
        @Override
        public ScheduledWork get(int index) {
            Objects.checkIndex(index, size);
            return work[index];
        }

        @Override
        public int size() {
            return size;
        }
    }
}
