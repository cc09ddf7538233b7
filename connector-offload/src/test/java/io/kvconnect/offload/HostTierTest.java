package io.kvconnect.offload;

import static io.kvconnect.offload.PoliciesTest.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The key table and slot allocator: states, pins and eviction. */
class HostTierTest {
    @ParameterizedTest
    @EnumSource(OffloadConfig.Eviction.class)
    void writingAndPinnedKeysAreNeverEvicted(OffloadConfig.Eviction kind) {
        HostTier tier = new HostTier(2, EvictionPolicy.create(kind, 2));
        List<BlockHash> evicted = new ArrayList<>();
        assertEquals(0, tier.beginStore(key(1), evicted));
        assertEquals(1, tier.beginStore(key(2), evicted));
        assertFalse(tier.isReady(key(1)), "a key being written is not offered");
        assertThrows(IllegalStateException.class, () -> tier.pin(key(1)), "a key being written cannot be loaded");
        assertEquals(-1, tier.beginStore(key(3), evicted), "both slots are being written: nothing to evict");
        tier.completeStore(key(1), true);
        tier.completeStore(key(2), true);
        tier.pin(key(1));
        tier.pin(key(2));
        assertEquals(-1, tier.beginStore(key(3), evicted), "both keys are pinned by loads");
        tier.unpin(key(2));
        int slot = tier.beginStore(key(3), evicted);
        assertEquals(1, slot, "key 2's slot is reused");
        assertEquals(List.of(key(2)), evicted);
        assertTrue(tier.isReady(key(1)));
        assertEquals(-1, tier.beginStore(key(3), evicted), "a held key is not stored twice");
        assertThrows(IllegalStateException.class, tier::clear, "busy: a store in flight and a pin");
        tier.completeStore(key(3), false);
        assertFalse(tier.contains(key(3)), "a failed store drops the key");
        tier.unpin(key(1));
        assertThrows(IllegalStateException.class, () -> tier.unpin(key(1)));
        tier.clear();
        assertEquals(0, tier.size());
        assertEquals(2, tier.numFreeSlots());
    }

    @ParameterizedTest
    @EnumSource(OffloadConfig.Eviction.class)
    void randomOperationsKeepSlotsConsistent(OffloadConfig.Eviction kind) {
        int slots = 6;
        HostTier tier = new HostTier(slots, EvictionPolicy.create(kind, slots));
        SplittableRandom random = new SplittableRandom(5);
        List<BlockHash> writing = new ArrayList<>();
        List<BlockHash> pinned = new ArrayList<>();
        Set<BlockHash> held = new HashSet<>();
        for (int step = 0; step < 20_000; step++) {
            int op = random.nextInt(4);
            BlockHash k = key(random.nextInt(30));
            List<BlockHash> evicted = new ArrayList<>();
            switch (op) {
                case 0 -> {
                    int s = tier.beginStore(k, evicted);
                    if (s >= 0) {
                        writing.add(k);
                        held.add(k);
                    }
                    for (BlockHash e : evicted) {
                        assertFalse(writing.contains(e) || pinned.contains(e), "evicted a busy key");
                        held.remove(e);
                    }
                }
                case 1 -> {
                    if (!writing.isEmpty()) {
                        BlockHash w = writing.remove(random.nextInt(writing.size()));
                        boolean ok = random.nextInt(5) > 0;
                        tier.completeStore(w, ok);
                        if (!ok) {
                            held.remove(w);
                        }
                    }
                }
                case 2 -> {
                    if (tier.isReady(k)) {
                        tier.pin(k);
                        pinned.add(k);
                    }
                }
                default -> {
                    if (!pinned.isEmpty()) {
                        tier.unpin(pinned.remove(random.nextInt(pinned.size())));
                    }
                }
            }
            assertEquals(held.size(), tier.size());
            assertEquals(slots, tier.size() + tier.numFreeSlots(), "every slot is either free or held once");
            Set<Integer> used = new HashSet<>();
            for (BlockHash h : held) {
                assertTrue(used.add(tier.slot(h)), "two keys share a slot");
            }
        }
    }
}
