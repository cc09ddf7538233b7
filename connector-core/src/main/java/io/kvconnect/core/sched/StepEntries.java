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
 * <p><b>Each slot owns its work entry.</b> {@link #nextWork()} hands out the entry of the next
 * slot for the planner to fill, and the entries of new slots are made together, in slot order, so
 * they lie side by side in memory in the order every loop over a step reads them. The planner, the
 * workers and the applier each read 256 entries per step at 256 requests; when every request kept
 * entries of its own, each lay where its request was made and the first read of it in every loop
 * was a cache miss. An entry is refilled only by the step that owns its slot's set again, two
 * steps later, which is what makes reading a stale step's output fail (see {@link ScheduledWork}).
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class StepEntries {
    private Request[] requests = new Request[16];
    private ScheduledWork[] work = newEntries(new ScheduledWork[16], 0);
    private int size;
    // Each reads the array field when called: add() may have replaced the array since.
    private final List<Request> requestView = new RequestsView();
    private final List<ScheduledWork> workView = new WorkView();

    /** Forgets the entries (the slots keep their references, see the class comment). */
    void clear() {
        size = 0;
    }

    /**
     * The entry of the slot the next {@link #add} fills, for the planner to fill with the next
     * request's work (see the class comment); unchanged until then.
     */
    ScheduledWork nextWork() {
        ensureRoom();
        return work[size];
    }

    /**
     * Appends {@code r} with its work {@code w}: normally {@link #nextWork()}, filled; any other
     * entry takes that slot's place from now on.
     */
    void add(Request r, ScheduledWork w) {
        ensureRoom();
        if (requests[size] != r) {
            requests[size] = r;
        }
        if (work[size] != w) {
            work[size] = w;
        }
        size++;
    }

    /**
     * Removes {@code r}'s entry, if it has one. Its work entry moves to the first free slot, so
     * that every slot still owns an entry of its own.
     *
     * @return the tokens its work had, or 0 if it had no entry
     */
    int remove(Request r) {
        for (int i = 0; i < size; i++) {
            if (requests[i] == r) {
                ScheduledWork removed = work[i];
                int tokens = removed.numTokens();
                System.arraycopy(requests, i + 1, requests, i, size - i - 1);
                System.arraycopy(work, i + 1, work, i, size - i - 1);
                size--;
                work[size] = removed;
                return tokens;
            }
        }
        return 0;
    }

    private void ensureRoom() {
        if (size == requests.length) {
            requests = Arrays.copyOf(requests, size * 2);
            work = newEntries(Arrays.copyOf(work, size * 2), size);
        }
    }

    /** Fills {@code slots[from, slots.length)} with new entries, made one after the other. */
    private static ScheduledWork[] newEntries(ScheduledWork[] slots, int from) {
        for (int i = from; i < slots.length; i++) {
            slots[i] = new ScheduledWork();
        }
        return slots;
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
