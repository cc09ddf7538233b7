package com.example.disktier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.testkit.KitEngine;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Engines one after another on the same directory, as an operator restarts one: the second finds
 * what the first stored. Each engine is the test kit's verifying engine (two workers), so a wrong
 * block loaded from a file would show as a wrong KV read, and outputs are compared with the first
 * engine's. Load failure policy {@code recompute}: a bad file costs a recomputation, never an output.
 */
class DiskTierPersistenceTest {
    /** Eight prompts of 30 tokens that share their first 16 (four blocks of 4 tokens). */
    private static final List<int[]> PROMPTS = prompts();

    @TempDir
    Path directory;

    @Test
    void aSecondEngineOnTheSameDirectoryLoadsWhatTheFirstStored() throws Exception {
        Run first = run("first");
        assertEquals(0, first.firstRequestHits(), "the first engine starts from an empty directory");
        assertTrue(blockFiles() > 0, "the first engine wrote block files");

        Run second = run("second");

        // The new engine's GPU prefix cache is empty: only the first engine's files can serve the
        // first prompt's 7 full blocks (30 tokens; the engine computes at least the last one).
        assertEquals(28, second.firstRequestHits(), second.counts().toString());
        assertEquals(0, second.counts().get("load_failures"));
        assertSameOutputs(first, second);
    }

    @Test
    void corruptFilesAreFailedLoadsThatAreRecomputedAndWrittenAgain() throws Exception {
        Run first = run("first");
        forEachBlockFile(file -> {
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length - 1] ^= 0x5a; // same size, wrong checksum
            Files.write(file, bytes);
        });

        Run second = run("second");
        assertTrue(second.counts().get("load_failures") > 0, second.counts().toString());
        assertTrue(second.stats().get("bad_files").longValue() > 0, second.stats().toString());
        assertSameOutputs(first, second);

        Run third = run("third");
        assertEquals(28, third.firstRequestHits(), "the recomputed blocks were stored again");
        assertEquals(0, third.counts().get("load_failures"));
        assertSameOutputs(first, third);
    }

    @Test
    void shortFilesAreMissesReplacedByNewOnes() throws Exception {
        Run first = run("first");
        forEachBlockFile(file -> {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(channel.size() / 2);
            }
        });

        Run second = run("second");
        assertEquals(0, second.firstRequestHits(), "a short file is never offered");
        assertEquals(0, second.counts().get("load_failures"));
        assertSameOutputs(first, second);
        long fileBytes = BlockFiles.fileBytes(new EngineInfo("any", KitEngine.MODEL, 4, 64, 2, false));
        forEachBlockFile(file -> assertEquals(fileBytes, Files.size(file), file + " was deleted and written again"));
    }

    /**
     * @param firstRequestHits the tokens the connector served the first request, before any other
     *     request ran in the engine
     */
    private record Run(Map<String, int[]> outputs, long firstRequestHits, Map<String, Long> counts,
                       Map<String, Number> stats) {
    }

    /** Runs every prompt in an engine on {@link #directory} and drains it; fails on any problem. */
    private Run run(String engineId) throws Exception {
        Map<String, int[]> outputs = new TreeMap<>();
        long firstRequestHits = -1;
        try (KitEngine engine = engine(engineId)) {
            for (int i = 0; i < PROMPTS.size(); i++) {
                engine.addRequest("r" + i, PROMPTS.get(i), 6, TransferParams.empty());
                for (int step = 0; step < 100_000 && engine.hasWork(); step++) {
                    engine.step().forEach(f -> outputs.put(f.requestId(), f.outputTokens()));
                }
                if (i == 0) {
                    firstRequestHits = engine.schedulerCounts().get("connector_hit_tokens");
                }
            }
            var counts = engine.schedulerCounts();
            var stats = engine.connectorStats();
            List<String> problems = engine.problems();
            assertEquals(List.of(), problems);
            assertEquals(PROMPTS.size(), outputs.size());
            return new Run(outputs, firstRequestHits, counts, stats);
        }
    }

    private KitEngine engine(String engineId) {
        return KitEngine.create(Optional.of(new DiskTierConnectorProvider()), Map.of("directory", directory.toString()),
                KitEngine.Options.defaults(engineId).withWorkers(2));
    }

    private static void assertSameOutputs(Run expected, Run actual) {
        assertEquals(expected.outputs().keySet(), actual.outputs().keySet());
        expected.outputs().forEach((id, tokens) -> assertArrayEquals(tokens, actual.outputs().get(id), id));
    }

    private interface FileAction {
        void apply(Path file) throws IOException;
    }

    private void forEachBlockFile(FileAction action) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.filter(f -> f.toString().endsWith(BlockFiles.SUFFIX)).toList()) {
                action.apply(file);
            }
        }
    }

    private long blockFiles() throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(f -> f.toString().endsWith(BlockFiles.SUFFIX)).count();
        }
    }

    private static List<int[]> prompts() {
        int[][] prompts = new int[8][30];
        for (int p = 0; p < prompts.length; p++) {
            for (int t = 0; t < 30; t++) {
                prompts[p][t] = t < 16 ? 100 + t : 1000 * (p + 1) + t;
            }
        }
        return List.of(prompts);
    }
}
