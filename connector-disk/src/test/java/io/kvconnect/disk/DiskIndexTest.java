package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiskIndexTest {
    private static BlockHash k(int i) {
        return new BlockHash(0, 0, 0, i);
    }

    @Test
    void evictsTheLeastRecentlyUsedUnpinnedReadyKey() {
        DiskIndex index = new DiskIndex(2);
        assertTrue(index.beginStore(k(1)));
        assertTrue(index.beginStore(k(2)));
        assertFalse(index.beginStore(k(3)), "both keys are being written: nothing to evict");
        index.completeStore(k(1), true);
        index.completeStore(k(2), true);
        index.touch(k(1)); // k2 is now least recently used
        index.pin(k(2));
        assertTrue(index.beginStore(k(3)), "k1 is evicted: k2 is pinned");
        assertEquals(new DiskIndex.Removed(List.of(k(1)), List.of()), index.takeRemoved());
        assertFalse(index.isReady(k(3)), "being written");
    }

    @Test
    void aFailedStoreIsRemovedUnannounced() {
        DiskIndex index = new DiskIndex(4);
        index.beginStore(k(1));
        index.completeStore(k(1), false);
        assertFalse(index.contains(k(1)));
        assertEquals(new DiskIndex.Removed(List.of(), List.of(k(1))), index.takeRemoved());
    }

    @Test
    void aDiscardedPinnedKeyIsNoLongerOfferedAndGoesWithItsLastPin() {
        DiskIndex index = new DiskIndex(4);
        index.addFound(k(1));
        index.pin(k(1));
        index.discard(k(1));
        assertFalse(index.isReady(k(1)));
        assertTrue(index.takeRemoved().isEmpty(), "still pinned: its file is being read");
        index.unpin(k(1));
        assertEquals(new DiskIndex.Removed(List.of(k(1)), List.of()), index.takeRemoved());
    }

    @Test
    void foundBlocksBeyondTheCapacityEvictTheOldest() {
        DiskIndex index = new DiskIndex(2);
        index.addFound(k(1));
        index.addFound(k(2));
        index.addFound(k(3));
        assertEquals(new DiskIndex.Removed(List.of(k(1)), List.of()), index.takeRemoved());
        assertTrue(index.isReady(k(2)) && index.isReady(k(3)));
    }

    @Test
    void clearIsRefusedWhileBusy() {
        DiskIndex index = new DiskIndex(2);
        index.beginStore(k(1));
        assertThrows(IllegalStateException.class, index::clear);
        index.completeStore(k(1), true);
        index.clear();
        assertEquals(0, index.size());
        assertEquals(List.of(k(1)), index.takeRemoved().ready());
    }
}
