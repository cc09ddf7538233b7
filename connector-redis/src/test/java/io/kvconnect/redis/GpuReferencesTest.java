package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.testkit.doubles.FakeBlockPool;
import org.junit.jupiter.api.Test;

/** A store's references are given back once, and never after the engine took them back. */
class GpuReferencesTest {
    @Test
    void aStoreGivesBackWhatItTook() {
        FakeBlockPool pool = new FakeBlockPool(16, Integer.MAX_VALUE);
        GpuReferences refs = new GpuReferences(pool);
        long a = refs.touch(3, 4);
        long b = refs.touch(4);
        assertEquals(2, pool.heldReferences(4));

        assertEquals(0, refs.release(a, 3, 4));
        assertEquals(0, pool.heldReferences(3));
        assertEquals(1, pool.heldReferences(4));
        assertEquals(0, refs.release(b, 4));
        assertEquals(0, pool.totalHeld());
    }

    @Test
    void aStoreEndingAfterTheEngineTookItsReferencesBackFreesNothingALaterStoreHolds() {
        FakeBlockPool pool = new FakeBlockPool(16, Integer.MAX_VALUE);
        GpuReferences refs = new GpuReferences(pool);
        long early = refs.touch(5, 6);

        pool.takeBackAll(); // the engine's liveness check: the connector made no progress
        long late = refs.touch(5); // block 5 went to another request; a later store holds it again

        assertEquals(2, refs.release(early, 5, 6), "both of the early store's references were taken back");
        assertEquals(1, pool.heldReferences(5), "the later store's reference is still held");
        assertEquals(0, refs.release(late, 5));
        assertEquals(0, pool.totalHeld());
    }

    @Test
    void aTakeBackIsSeenEvenWhenNoBlockIsTouchedAgain() {
        FakeBlockPool pool = new FakeBlockPool(16, Integer.MAX_VALUE);
        GpuReferences refs = new GpuReferences(pool);
        long early = refs.touch(7);
        pool.takeBackAll();
        long late = refs.touch(8);

        assertEquals(1, refs.release(early, 7));
        assertEquals(0, refs.release(late, 8), "the later store's own reference is given back");
        assertEquals(0, pool.totalHeld());
    }

    @Test
    void aStoreEndingAfterATakeBackWithNoLaterStoreFreesNothing() {
        FakeBlockPool pool = new FakeBlockPool(16, Integer.MAX_VALUE);
        GpuReferences refs = new GpuReferences(pool);
        long early = refs.touch(9, 9);
        pool.takeBackAll();

        assertEquals(2, refs.release(early, 9, 9));
        assertEquals(0, pool.totalHeld());
    }

    @Test
    void aRefusedTouchTakesNoReference() {
        FakeBlockPool pool = new FakeBlockPool(16, Integer.MAX_VALUE);
        GpuReferences refs = new GpuReferences(pool);
        long held = refs.touch(2);
        assertThrows(IllegalArgumentException.class, () -> refs.touch(3, 17), "block 17 is out of range");

        assertEquals(0, pool.heldReferences(3));
        assertEquals(0, refs.release(held, 2), "the refused touch started no new generation");
        assertEquals(0, pool.totalHeld());
    }
}
