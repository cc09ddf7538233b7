package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KvEventTest {
    private static final BlockHash H1 = new BlockHash(1, 2, 3, 4);
    private static final BlockHash H2 = new BlockHash(5, 6, 7, 8);

    @Test
    void blockStoredCopiesHashes() {
        var hashes = new ArrayList<>(List.of(H1));
        var e = new KvEvent.BlockStored(hashes, Optional.of(H2), 16, 0, StorageMedium.CPU);
        hashes.add(H2);
        assertEquals(List.of(H1), e.blockHashes());
        assertEquals(StorageMedium.CPU, e.medium());
        assertThrows(UnsupportedOperationException.class, () -> e.blockHashes().add(H2));
    }

    @Test
    void blockStoredValidates() {
        var m = StorageMedium.GPU;
        assertThrows(
                IllegalArgumentException.class, () -> new KvEvent.BlockStored(List.of(), Optional.empty(), 16, 0, m));
        assertThrows(
                IllegalArgumentException.class, () -> new KvEvent.BlockStored(List.of(H1), Optional.empty(), 0, 0, m));
        assertThrows(
                IllegalArgumentException.class,
                () -> new KvEvent.BlockStored(List.of(H1), Optional.empty(), 16, -1, m));
        assertThrows(NullPointerException.class, () -> new KvEvent.BlockStored(List.of(H1), null, 16, 0, m));
        assertThrows(
                NullPointerException.class, () -> new KvEvent.BlockStored(List.of(H1), Optional.empty(), 16, 0, null));
    }

    @Test
    void blockRemovedCopiesAndValidates() {
        var hashes = new ArrayList<>(List.of(H1));
        var e = new KvEvent.BlockRemoved(hashes, 1, StorageMedium.DISK);
        hashes.clear();
        assertEquals(List.of(H1), e.blockHashes());
        assertThrows(IllegalArgumentException.class, () -> new KvEvent.BlockRemoved(List.of(), 0, StorageMedium.DISK));
        assertThrows(
                IllegalArgumentException.class, () -> new KvEvent.BlockRemoved(List.of(H1), -1, StorageMedium.DISK));
        assertThrows(NullPointerException.class, () -> new KvEvent.BlockRemoved(List.of(H1), 0, null));
    }

    @Test
    void allBlocksClearedNeedsAMedium() {
        assertEquals(StorageMedium.GPU, new KvEvent.AllBlocksCleared(StorageMedium.GPU).medium());
        assertThrows(NullPointerException.class, () -> new KvEvent.AllBlocksCleared(null));
    }

    @Test
    void switchOverSealedEventsIsExhaustive() {
        KvEvent event = new KvEvent.BlockRemoved(List.of(H1, H2), 0, StorageMedium.CPU);
        int blocks =
                switch (event) {
                    case KvEvent.BlockStored s -> s.blockHashes().size();
                    case KvEvent.BlockRemoved r -> -r.blockHashes().size();
                    case KvEvent.AllBlocksCleared c -> 0;
                };
        assertEquals(-2, blocks);
    }
}
