package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * A step's entries: each slot owns a work entry of its own, handed out by {@code nextWork()}, so
 * that no two requests of one step ever share an entry, through growth and removals.
 */
class StepEntriesTest {
    private final BlockHasher hasher = new BlockHasher(4);
    private final KvCacheManager kv = new KvCacheManager(new BlockPool(8, 4, true));

    private Request request(String id) {
        return new Request(id, Parts.prompt(8), 4, 0, 0, TransferParams.empty(), Optional.empty(), hasher, kv);
    }

    private void addFilled(StepEntries entries, Request r, long step, int tokens) {
        entries.add(
                r,
                ScheduledWork.of(entries.nextWork(), r, step, ScheduledRequest.Kind.CONTINUING, tokens, new int[0], 0));
    }

    @Test
    void theNextWorkIsTheSlotsOwnAndStaysUntilAdded() {
        StepEntries entries = new StepEntries();
        ScheduledWork first = entries.nextWork();
        assertSame(first, entries.nextWork(), "unchanged until an add");
        addFilled(entries, request("a"), 1, 1);
        assertSame(first, entries.work().get(0));
        assertNotSame(first, entries.nextWork(), "the next slot owns another entry");
        entries.clear();
        assertSame(first, entries.nextWork(), "a cleared set hands out its first slot's entry again");
    }

    @Test
    void anEntryRefilledWithoutBlocksShowsNoneOfItsEarlierOnes() {
        StepEntries entries = new StepEntries();
        Request r = request("a");
        int[] owned = {5, 6, 7};
        ScheduledWork w =
                ScheduledWork.of(entries.nextWork(), r, 1, ScheduledRequest.Kind.CONTINUING, 1, owned, 1, 2, 0);
        assertEquals(2, w.numBlocks());
        assertEquals(6, w.block(0));
        assertArrayEquals(new int[] {6, 7}, w.blockTable());
        ScheduledWork again = ScheduledWork.of(w, r, 3, ScheduledRequest.Kind.CONTINUING, 1, new int[0], 0);
        assertSame(w, again);
        assertEquals(0, again.numBlocks());
        assertArrayEquals(new int[0], again.blockTable());
        assertThrows(IndexOutOfBoundsException.class, () -> again.block(0));
    }

    @Property(tries = 200)
    void noTwoEntriesOfAStepAreOneObject(
            @ForAll @Size(min = 1, max = 60) List<@IntRange(min = 0, max = 99) Integer> ops) {
        StepEntries entries = new StepEntries();
        List<Request> added = new ArrayList<>();
        int n = 0;
        for (int op : ops) {
            if (op < 25 && !added.isEmpty()) {
                Request victim = added.remove(op % added.size());
                assertEquals(3, entries.remove(victim), "the removed entry's tokens");
            } else if (op < 30) {
                entries.clear();
                added.clear();
            } else {
                Request r = request("r" + n++);
                addFilled(entries, r, 7, 3);
                added.add(r);
            }
            assertEquals(added, entries.requests(), "the requests, in order");
            Set<ScheduledWork> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
            for (int i = 0; i < entries.size(); i++) {
                ScheduledWork w = entries.work().get(i);
                assertEquals(added.get(i).requestId(), w.requestId(), "entry " + i + " is its request's");
                distinct.add(w);
            }
            distinct.add(entries.nextWork());
            assertEquals(entries.size() + 1, distinct.size(), "the slots' entries and the next one are distinct");
        }
    }
}
