package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A store's references are given back once, and never after the engine took them back. */
class GpuReferencesTest {
    @Test
    void aStoreGivesBackWhatItTook() {
        CountingPool pool = new CountingPool();
        GpuReferences refs = new GpuReferences(pool);
        long a = refs.touch(3, 4);
        long b = refs.touch(4);
        assertEquals(2, pool.heldReferences(4));

        assertEquals(0, refs.release(a, 3, 4));
        assertEquals(0, pool.heldReferences(3));
        assertEquals(1, pool.heldReferences(4));
        assertEquals(0, refs.release(b, 4));
        assertEquals(0, pool.heldReferences(4));
    }

    @Test
    void aStoreEndingAfterTheEngineTookItsReferencesBackFreesNothingALaterStoreHolds() {
        CountingPool pool = new CountingPool();
        GpuReferences refs = new GpuReferences(pool);
        long early = refs.touch(5, 6);

        pool.takeBackAll(); // the engine's liveness check: the connector made no progress
        long late = refs.touch(5); // block 5 went to another request; a later store holds it again

        assertEquals(2, refs.release(early, 5, 6), "both of the early store's references were taken back");
        assertEquals(1, pool.heldReferences(5), "the later store's reference is still held");
        assertEquals(0, refs.release(late, 5));
        assertEquals(0, pool.heldReferences(5));
    }

    @Test
    void aTakeBackIsSeenEvenWhenNoBlockIsTouchedAgain() {
        CountingPool pool = new CountingPool();
        GpuReferences refs = new GpuReferences(pool);
        long early = refs.touch(7);
        pool.takeBackAll();
        long late = refs.touch(8);

        assertEquals(1, refs.release(early, 7));
        assertEquals(0, refs.release(late, 8), "the later store's own reference is given back");
        assertEquals(0, pool.heldReferences(8));
    }

    /** The engine's per-connector count, refusing to free more than is held, as the engine does. */
    private static final class CountingPool implements GPUBlockPoolView {
        private final Map<Integer, Integer> held = new HashMap<>();

        void takeBackAll() {
            held.clear();
        }

        @Override
        public int numBlocks() {
            return 16;
        }

        @Override
        public int numFreeBlocks() {
            return 16 - held.size();
        }

        @Override
        public void touch(int... blockIds) {
            for (int id : blockIds) {
                held.merge(id, 1, Integer::sum);
            }
        }

        @Override
        public void free(int... blockIds) {
            for (int id : blockIds) {
                if (held.getOrDefault(id, 0) == 0) {
                    throw new IllegalStateException("connector frees block " + id + " but holds no reference on it");
                }
                held.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
            }
        }

        @Override
        public int heldReferences(int blockId) {
            return held.getOrDefault(blockId, 0);
        }

        @Override
        public Optional<BlockHash> cachedHash(int blockId) {
            return Optional.empty();
        }

        @Override
        public void forEachCachedBlock(CachedBlockConsumer consumer) {}
    }
}
