package io.kvconnect.nixl.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Batched done notices: the wire form, its limits, and what a hostile reader may send. */
class DoneBatchTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";

    private static List<TransferRef> transfers(int n) {
        List<TransferRef> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new TransferRef("prefill/r" + i + "/1", TOKEN));
        }
        return out;
    }

    @Test
    void aBatchDecodesToTheTransfersItWasMadeOf() throws Exception {
        var batch = new DoneBatch(transfers(3));
        assertEquals(transfers(3), DoneBatch.decode(batch.encode()).transfers());
    }

    @Test
    void splitKeepsTheOrderAndTheCountLimit() {
        var batches = DoneBatch.split(transfers(2 * DoneBatch.MAX_TRANSFERS + 5));
        assertEquals(
                List.of(DoneBatch.MAX_TRANSFERS, DoneBatch.MAX_TRANSFERS, 5),
                batches.stream().map(b -> b.transfers().size()).toList());
        assertEquals(
                transfers(2 * DoneBatch.MAX_TRANSFERS + 5),
                batches.stream().flatMap(b -> b.transfers().stream()).toList());
        assertEquals(List.of(), DoneBatch.split(List.of()));
    }

    @Test
    void splitKeepsEveryBatchWithinAControlFrame() {
        // Long ids: 512 KiB each, so two do not fit one frame.
        char[] id = new char[512 * 1024];
        Arrays.fill(id, 'x');
        var big = List.of(
                new TransferRef(new String(id), TOKEN),
                new TransferRef(new String(id), TOKEN),
                new TransferRef("small", TOKEN));
        var batches = DoneBatch.split(big);
        assertEquals(2, batches.size());
        for (DoneBatch b : batches) {
            assertTrue(b.encode().length <= Frames.MAX_CONTROL, b.encode().length + " bytes");
        }
    }

    @Test
    void anEmptyOrOversizedBatchIsNotMade() {
        assertThrows(IllegalArgumentException.class, () -> new DoneBatch(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new DoneBatch(transfers(DoneBatch.MAX_TRANSFERS + 1)));
    }

    @Test
    void aMalformedBatchIsRefusedWhole() {
        byte[] good = new DoneBatch(transfers(2)).encode();
        assertRefused(new byte[0], "malformed done batch");
        assertRefused(ByteBuffer.allocate(4).putInt(0).array(), "0 transfers");
        assertRefused(ByteBuffer.allocate(4).putInt(-1).array(), "-1 transfers");
        assertRefused(
                ByteBuffer.allocate(4).putInt(DoneBatch.MAX_TRANSFERS + 1).array(),
                (DoneBatch.MAX_TRANSFERS + 1) + " transfers");
        // A count larger than what follows, a cut transfer, and bytes after the last one.
        byte[] more = good.clone();
        more[3] = 3;
        assertRefused(more, "malformed transfer reference");
        assertRefused(Arrays.copyOf(good, good.length - 1), "malformed transfer reference");
        assertRefused(Arrays.copyOf(good, good.length + 1), "1 bytes after the last transfer");
    }

    private static void assertRefused(byte[] payload, String why) {
        var e = assertThrows(IOException.class, () -> DoneBatch.decode(payload));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }
}
