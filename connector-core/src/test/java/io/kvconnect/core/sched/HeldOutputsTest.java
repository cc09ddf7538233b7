package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.core.kv.BlockHasher;
import io.kvconnect.core.kv.BlockPool;
import io.kvconnect.core.kv.KvCacheManager;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Holding outputs back while a load may still fail, and telling later whether they were used. */
class HeldOutputsTest {
    private final SchedulerStats stats = new SchedulerStats();
    private final Outbox outbox = new Outbox();
    private final HeldOutputs held = new HeldOutputs(stats, outbox);
    private final BlockHasher hasher = new BlockHasher(4);

    private Request request(String id) {
        return new Request(
                id,
                Parts.prompt(8),
                4,
                0,
                0,
                TransferParams.empty(),
                Optional.empty(),
                hasher,
                new KvCacheManager(new BlockPool(8, 4, true)));
    }

    @Test
    void holdingKeepsTheFurthestConfirmationAndEveryTokenInOrder() {
        Request r = request("r");

        held.hold(r, 8, 41);
        held.hold(r, 6, SampledTokens.NONE);
        held.hold(r, 9, 42);

        assertEquals(9, r.heldConfirm);
        assertEquals(2, r.numHeldTokens());
        assertEquals(List.of(r), held.holdingRequests());
        assertEquals(List.of(), outbox.takeResolutions(), "nothing is resolved while held");
    }

    @Test
    void aReleaseHandsBackWhatWasHeldAndReportsItUsed() {
        Request r = request("r");
        held.hold(r, 8, 41);
        held.hold(r, 9, 42);

        HeldOutputs.Released released = held.release(r);

        assertEquals(9, released.confirmThrough());
        assertArrayEquals(new int[] {41, 42}, released.tokens());
        assertFalse(r.holdsOutputs());
        assertTrue(held.isEmpty());
        assertEquals(1, stats.heldOutputsReleased());
        assertEquals(List.of(new HoldResolution("r", true)), outbox.takeResolutions());
    }

    @Test
    void aDropForgetsWhatWasHeldAndReportsItUnused() {
        Request r = request("r");
        held.hold(r, 8, 41);

        held.drop(r);

        assertFalse(r.holdsOutputs());
        assertTrue(held.isEmpty());
        assertEquals(1, stats.heldOutputsDropped());
        assertEquals(List.of(new HoldResolution("r", false)), outbox.takeResolutions());
    }

    @Test
    void droppingARequestThatHoldsNothingReportsNothing() {
        held.drop(request("r"));

        assertEquals(0, stats.heldOutputsDropped());
        assertEquals(List.of(), outbox.takeResolutions());
    }
}
