package io.kvconnect.tools.capacity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TierTraceTest {
    @TempDir
    Path tmp;

    @Test
    void aWrittenTraceReadsBackTheSame() throws IOException {
        TierTrace trace = new TierTrace(
                32,
                99,
                List.of(
                        new TierTrace.Lookup(new long[] {-1L, 0x0123456789abcdefL}, 1),
                        new TierTrace.Offer(new long[] {42})));
        Path file = tmp.resolve("t.trace");

        trace.write(file);
        TierTrace back = TierTrace.read(file);

        assertEquals(32, back.blockSize());
        assertEquals(99, back.recordedCapacity());
        assertEquals(2, back.accesses().size());
        TierTrace.Lookup l =
                assertInstanceOf(TierTrace.Lookup.class, back.accesses().get(0));
        assertArrayEquals(new long[] {-1L, 0x0123456789abcdefL}, l.blocks());
        assertEquals(1, l.observedHits());
        assertArrayEquals(new long[] {42}, back.accesses().get(1).blocks());
        assertEquals(2, back.lookedUpBlocks());
        assertEquals(1, back.observedHits());
    }

    @Test
    void aBadLineIsNamedByFileAndLine() throws IOException {
        Path file = tmp.resolve("bad.trace");
        Files.writeString(file, TierTrace.HEADER + "16\nO 000000000000002a\nL 3 000000000000002a\n");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TierTrace.read(file));

        assertTrue(e.getMessage().contains("bad.trace:3"), e.getMessage());
        assertTrue(e.getMessage().contains("3 observed hits but only 1 blocks"), e.getMessage());
    }

    @Test
    void aFileWithoutTheHeaderIsNotATrace() throws IOException {
        Path file = tmp.resolve("other.txt");
        Files.writeString(file, "{\"json\": true}\n");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TierTrace.read(file));

        assertTrue(e.getMessage().contains("not a tier trace"), e.getMessage());
    }
}
