package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BlockFileFormatTest {
    private static final BlockHash HASH = new BlockHash(1, 2, 3, 4);
    private static final long NS = 0x1234_5678_9abc_def0L;

    @Test
    void aBlockRoundTripsAndEveryDamagedFieldIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment payload = arena.allocate(1000);
            for (int i = 0; i < 1000; i++) {
                payload.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
            }
            long size = BlockFileFormat.fileBytes(1000);
            assertEquals(2 * BlockFileFormat.ALIGNMENT, size);
            MemorySegment file = arena.allocate(size);
            BlockFileFormat.encode(file, NS, 1, HASH, payload);
            MemorySegment into = arena.allocate(1000);

            assertNull(BlockFileFormat.decode(file, size, NS, 1, HASH, into));
            assertEquals(-1, into.mismatch(payload));

            assertTrue(BlockFileFormat.decode(file, size - 1, NS, 1, HASH, into).startsWith("size"));
            assertEquals(
                    "written for another namespace or rank", BlockFileFormat.decode(file, size, NS + 1, 1, HASH, into));
            assertEquals(
                    "written for another namespace or rank", BlockFileFormat.decode(file, size, NS, 0, HASH, into));
            assertEquals(
                    "holds another block", BlockFileFormat.decode(file, size, NS, 1, new BlockHash(1, 2, 3, 5), into));

            file.set(ValueLayout.JAVA_BYTE, BlockFileFormat.ALIGNMENT + 10, (byte) 99);
            assertEquals("payload checksum mismatch", BlockFileFormat.decode(file, size, NS, 1, HASH, into));
            BlockFileFormat.encode(file, NS, 1, HASH, payload);
            file.set(ValueLayout.JAVA_BYTE, 17, (byte) 1); // the rank field: the header checksum catches it
            assertEquals("header checksum mismatch", BlockFileFormat.decode(file, size, NS, 1, HASH, into));
        }
    }

    @Test
    void fileNamesParseBackToTheirHash() {
        assertEquals(Optional.of(HASH), BlockFileFormat.parse(BlockFileFormat.fileName(HASH)));
        assertEquals(Optional.empty(), BlockFileFormat.parse(BlockFileFormat.fileName(HASH) + ".tmp"));
        assertEquals(Optional.empty(), BlockFileFormat.parse("lock"));
    }

    @Test
    void theNamespaceSeparatesEveryIncompatibleShape() {
        ModelShape model = new ModelShape("m/1", 2, 4, 16, DType.FP16);
        Namespace base = Namespace.of(new EngineInfo("a", model, 16, 64, 2, false));
        assertEquals(base, Namespace.of(new EngineInfo("other-engine", model, 16, 999, 2, true)));
        assertTrue(base.folderName().startsWith("m_1-"), base.folderName());
        for (EngineInfo other : new EngineInfo[] {
            new EngineInfo("a", model, 32, 64, 2, false),
            new EngineInfo("a", model, 16, 64, 1, false),
            new EngineInfo("a", new ModelShape("m/1", 3, 4, 16, DType.FP16), 16, 64, 2, false),
            new EngineInfo("a", new ModelShape("m/1", 2, 2, 16, DType.FP16), 16, 64, 2, false),
            new EngineInfo("a", new ModelShape("m/1", 2, 4, 32, DType.FP16), 16, 64, 2, false),
            new EngineInfo("a", new ModelShape("m/1", 2, 4, 16, DType.BF16), 16, 64, 2, false),
            new EngineInfo("a", new ModelShape("m/2", 2, 4, 16, DType.FP16), 16, 64, 2, false),
        }) {
            assertNotEquals(base.id(), Namespace.of(other).id(), other.toString());
        }
    }
}
