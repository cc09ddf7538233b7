package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.testkit.KitEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Block files replaced, while an engine runs, by what is not a block file: a named pipe (whose
 * open waits for a writer that never comes), a folder, a link to another block's file. Each is a
 * failed load that the engine recomputes, found bad and forgotten; no read waits forever.
 */
@Timeout(60)
class DiskHostileFilesTest {
    /** Eight prompts of 30 tokens that share their first 16 (four blocks of 4 tokens). */
    private static final List<int[]> PROMPTS = prompts();

    @TempDir
    Path directory;

    @Test
    void pipesFoldersAndLinksInPlaceOfBlockFilesAreFailedLoadsNeverHangs() throws Exception {
        Map<String, int[]> expected;
        try (KitEngine first = engine("first")) {
            expected = run(first);
        }
        try (KitEngine second = engine("second")) {
            // Replaced after the start's scan (which saw good files) and before any load.
            List<Path> files = blockFiles();
            assertTrue(files.size() > 3, files.toString());
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                Files.delete(file);
                switch (i % 3) {
                    case 0 -> mkfifo(file);
                    case 1 -> Files.createDirectory(file);
                    default -> Files.createSymbolicLink(file, files.get(i - 1).getFileName());
                }
            }
            Map<String, int[]> outputs = run(second);
            assertEquals(expected.keySet(), outputs.keySet());
            expected.forEach((id, tokens) -> assertArrayEquals(tokens, outputs.get(id), id));
            Map<String, Number> stats = second.connectorStats();
            assertTrue(second.schedulerCounts().get("load_failures") > 0, stats.toString());
            assertTrue(stats.get("bad_blocks").longValue() > 0, stats.toString());
        }
    }

    private KitEngine engine(String id) {
        return KitEngine.create(
                Optional.of(new DiskConnectorProvider()),
                Map.of("directory", directory.toString(), "capacity", "64MiB", "load", "async"),
                KitEngine.Options.defaults(id).withWorkers(2).withRecomputeOnLoadFailure(true));
    }

    /** Runs every prompt, one after another, and drains the engine; fails on any problem. */
    private static Map<String, int[]> run(KitEngine engine) throws InterruptedException {
        Map<String, int[]> outputs = new TreeMap<>();
        for (int i = 0; i < PROMPTS.size(); i++) {
            engine.addRequest("r" + i, PROMPTS.get(i), 6, TransferParams.empty());
            for (int step = 0; step < 100_000 && engine.hasWork(); step++) {
                engine.step().forEach(f -> outputs.put(f.requestId(), f.outputTokens()));
            }
        }
        assertEquals(List.of(), engine.problems());
        assertEquals(PROMPTS.size(), outputs.size());
        return outputs;
    }

    private List<Path> blockFiles() throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(f -> f.toString().endsWith(BlockFileFormat.SUFFIX))
                    .sorted()
                    .toList();
        }
    }

    private static void mkfifo(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("mkfifo", file.toString())
                .redirectErrorStream(true)
                .start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo " + file);
    }

    private static List<int[]> prompts() {
        List<int[]> prompts = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            int[] tokens = new int[30];
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = t < 16 ? 100 + t : 1000 * (p + 1) + t;
            }
            prompts.add(tokens);
        }
        return prompts;
    }
}
