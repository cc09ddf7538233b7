package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The engine thread's grant ledger and a worker's grants: the worker sees what the engine thread
 * decided only through the changes of a step, applied when it begins that step, and then exactly
 * what the ledger says.
 */
class GrantLedgerTest {
    @Test
    void aWorkerSeesAFreeOnlyWithTheChangesOfTheStepItBelongsTo() {
        BlockPool pool = new BlockPool(8, 4, true);
        BlockGrants worker = new BlockGrants(8);
        int[] blocks = pool.allocate(2);
        pool.grants().grantLoad(blocks[0]);
        worker.apply(pool.grants().takeChanges());
        assertTrue(worker.readable(blocks[1]) && worker.writable(blocks[0]));

        // The engine thread frees both while the worker still runs the step that loads.
        pool.free(blocks);
        assertFalse(pool.grants().readable(blocks[1]) || pool.grants().writable(blocks[0]));
        assertTrue(worker.readable(blocks[1]) && worker.writable(blocks[0]), "the running step's grants changed");

        worker.apply(pool.grants().takeChanges());
        assertFalse(worker.readable(blocks[1]) || worker.writable(blocks[0]));
    }

    @Test
    void takeChangesReportsEachChangedBlockOnceAndNothingWhenNothingChanged() {
        BlockPool pool = new BlockPool(8, 4, true);
        assertSame(GrantChanges.NONE, pool.grants().takeChanges());
        int[] blocks = pool.allocate(3);
        pool.grants().grantLoad(blocks[0]);
        pool.free(blocks[0]);
        pool.touch(blocks[0]);
        assertEquals(3, pool.grants().takeChanges().size());
        assertSame(GrantChanges.NONE, pool.grants().takeChanges());
        pool.grants().endLoad(blocks[1]); // never granted: nothing changes
        assertSame(GrantChanges.NONE, pool.grants().takeChanges());
    }

    @Test
    void changesTakenForAStepStayAsTakenUntilTheStepAfterNextTakesItsOwn() {
        BlockPool pool = new BlockPool(8, 4, true);
        int[] blocks = pool.allocate(2);
        GrantChanges first = pool.grants().takeChanges(1);
        pool.free(blocks[0]);
        GrantChanges second = pool.grants().takeChanges(2);

        BlockGrants late = new BlockGrants(8); // a worker that begins step 1 only now
        late.apply(first);
        assertEquals(1, first.step());
        assertEquals(2, first.size());
        assertTrue(late.readable(blocks[0]) && late.readable(blocks[1]), "step 2's free reached step 1's changes");
        assertEquals(1, second.size());

        pool.allocate(3);
        GrantChanges third = pool.grants().takeChanges(3);

        assertSame(first, third, "the parity's object is refilled");
        assertEquals(3, third.step());
        assertEquals(3, third.size());
        assertEquals(2, second.step(), "the other parity is untouched");
        assertEquals(GrantChanges.ANY_STEP, pool.grants().takeChanges(4).step(), "no change: NONE, of any step");
        pool.allocate(1);
        assertEquals(GrantChanges.ANY_STEP, pool.grants().takeChanges().step(), "an owned take belongs to any step");
    }

    @Test
    void aWorkerThatAppliedEveryStepAgreesWithTheLedgerOnEveryBlock() {
        int numBlocks = 33;
        BlockPool pool = new BlockPool(numBlocks, 4, true);
        BlockGrants worker = new BlockGrants(numBlocks);
        SplittableRandom random = new SplittableRandom(5);
        List<Integer> inUse = new ArrayList<>();
        for (int step = 0; step < 200; step++) {
            for (int op = random.nextInt(12); op > 0; op--) {
                int choice = random.nextInt(4);
                if (choice == 0 && pool.numFreeBlocks() > 0) {
                    inUse.add(pool.allocate(1)[0]);
                } else if (choice == 1 && !inUse.isEmpty()) {
                    pool.free(inUse.remove(random.nextInt(inUse.size())));
                } else if (choice == 2 && !inUse.isEmpty()) {
                    pool.grants().grantLoad(inUse.get(random.nextInt(inUse.size())));
                } else if (choice == 3 && !inUse.isEmpty()) {
                    pool.grants().endLoad(inUse.get(random.nextInt(inUse.size())));
                }
            }
            worker.apply(pool.grants().takeChanges());
            for (int id = 1; id < numBlocks; id++) {
                assertEquals(pool.grants().readable(id), worker.readable(id), "block " + id + " in step " + step);
                assertEquals(pool.grants().writable(id), worker.writable(id), "block " + id + " in step " + step);
            }
        }
    }
}
