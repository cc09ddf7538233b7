package com.example.disktier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tier's file names and format: what is written is read back, and a damaged file is refused. */
class BlockFilesTest {
    private static final BlockHash HASH = new BlockHash(0x0123456789abcdefL, 1, 2, 0xfedcba9876543210L);
    private static final String HEX = "0123456789abcdef" + "0000000000000001" + "0000000000000002" + "fedcba9876543210";

    @TempDir
    Path dir;

    @Test
    void aFileIsNamedByItsBlocksHashInHex() {
        assertEquals(HEX + ".kv", BlockFiles.fileName(HASH));
        assertEquals(Optional.of(HASH), BlockFiles.parse(HEX + ".kv"));
        for (String other : new String[] {HEX + ".kv.tmp", HEX.toUpperCase() + ".kv", HEX.substring(1) + ".kv", HEX,
                "0123456789abcdef1234567890.tmp"}) {
            assertEquals(Optional.empty(), BlockFiles.parse(other), other);
        }
    }

    @Test
    void eachRankHasAFolderPerModelAndWorkerCount() {
        var engine = new EngineInfo("e", new ModelShape("llama 3/8b", 2, 4, 16, DType.FP16), 16, 64, 2, false);
        assertEquals(Path.of("/data/kv/llama_3_8b-tp2/rank1"),
                BlockFiles.rankDirectory(Path.of("/data/kv"), engine, 1));
        // 16 tokens x 2 layers x (2 x 2 heads per rank x 16 x 2 bytes), and the header.
        assertEquals(4096, BlockFiles.payloadBytes(engine));
        assertEquals(4096 + 16, BlockFiles.fileBytes(engine));
    }

    @Test
    void whatIsWrittenIsReadBackAndNoTemporaryFileRemains() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = pattern(arena, 1000);
            BlockFiles.write(dir, HASH, block);
            BlockFiles.write(dir, HASH, block); // an earlier file of the same name is replaced
            MemorySegment back = arena.allocate(1000);
            BlockFiles.read(dir.resolve(HEX + ".kv"), back);
            assertArrayEquals(block.toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE));
        }
        assertEquals(Set.of(HEX + ".kv"), fileNames());
        assertEquals(1016, Files.size(dir.resolve(HEX + ".kv")));
    }

    @Test
    void aShortACorruptOrAMissingFileIsRefused() throws IOException {
        Path file = dir.resolve(HEX + ".kv");
        try (Arena arena = Arena.ofConfined()) {
            BlockFiles.write(dir, HASH, pattern(arena, 1000));
            byte[] good = Files.readAllBytes(file);

            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(600);
            }
            var shortFile = assertThrows(IOException.class, () -> BlockFiles.read(file, arena.allocate(1000)));
            assertTrue(shortFile.getMessage().contains("600 bytes, expected 1016"), shortFile.getMessage());

            byte[] flipped = good.clone();
            flipped[500] ^= 1;
            Files.write(file, flipped);
            var corrupt = assertThrows(IOException.class, () -> BlockFiles.read(file, arena.allocate(1000)));
            assertTrue(corrupt.getMessage().contains("corrupt"), corrupt.getMessage());

            Files.write(file, good);
            var otherLayout = assertThrows(IOException.class, () -> BlockFiles.read(file, arena.allocate(500)));
            assertTrue(otherLayout.getMessage().contains("expected 516"), otherLayout.getMessage());

            Files.delete(file);
            assertThrows(NoSuchFileException.class, () -> BlockFiles.read(file, arena.allocate(1000)));
        }
    }

    @Test
    void aListingKeepsBlockFilesOfTheRightSizeAndNamesTheOthers() throws IOException {
        BlockHash other = new BlockHash(7, 7, 7, 7);
        try (Arena arena = Arena.ofConfined()) {
            BlockFiles.write(dir, HASH, pattern(arena, 100));
            BlockFiles.write(dir, other, pattern(arena, 50));
        }
        Files.writeString(dir.resolve("notes.txt"), "not a block");
        Files.writeString(dir.resolve(HEX + "123.tmp"), "a crashed write");
        Set<BlockHash> wrongSize = new HashSet<>();

        Map<BlockHash, ?> found = BlockFiles.list(dir, 116, wrongSize);

        assertEquals(Set.of(HASH), found.keySet());
        assertEquals(Set.of(other), wrongSize);
        assertEquals(Map.of(), BlockFiles.list(dir.resolve("absent"), 116, wrongSize));
        BlockFiles.deleteTemporaryFiles(dir);
        assertEquals(Set.of(HEX + ".kv", BlockFiles.fileName(other), "notes.txt"), fileNames());
    }

    private static MemorySegment pattern(Arena arena, int bytes) {
        MemorySegment segment = arena.allocate(bytes);
        for (int i = 0; i < bytes; i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
        }
        return segment;
    }

    private Set<String> fileNames() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).collect(Collectors.toSet());
        }
    }
}
