package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.testkit.KitEngine;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
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
 * engine's. Between runs the files are damaged the ways disks and people damage them.
 */
class DiskPersistenceTest {
    /** Eight prompts of 30 tokens that share their first 16 (four blocks of 4 tokens). */
    private static final List<int[]> PROMPTS = prompts();

    @TempDir
    Path directory;

    @Test
    void aSecondEngineOnTheSameDirectoryStartsWarm() throws Exception {
        Run first = run("first", new DiskConnectorProvider());
        assertEquals(0, first.firstRequestHits(), "the first engine starts from an empty directory");
        assertTrue(blockFiles().size() > 0, "the first engine wrote block files");

        Run second = run("second", new DiskConnectorProvider());

        // The new engine's GPU prefix cache is empty: only the first engine's files can serve the
        // first prompt's 7 full blocks (30 tokens; the engine computes at least the last one).
        assertEquals(28, second.firstRequestHits(), second.counts().toString());
        assertEquals(0, second.counts().get("load_failures"));
        assertTrue(
                second.stats().get("warm_blocks").longValue() > 0,
                second.stats().toString());
        assertSameOutputs(first, second);
    }

    @Test
    void corruptAndForeignFilesAreFailedLoadsThatAreRecomputedAndWrittenAgain() throws Exception {
        Run first = run("first", new DiskConnectorProvider());
        List<Path> files = blockFiles();
        // A flipped payload byte in every other file, and a foreign block (another block's file,
        // same size, under this name) in the rest: the checksum and the header catch them.
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            if (i % 2 == 0) {
                byte[] bytes = Files.readAllBytes(file);
                bytes[BlockFileFormat.ALIGNMENT + 1] ^= 0x5a;
                Files.write(file, bytes);
            } else {
                Files.copy(files.get(i - 1), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }

        Run second = run("second", new DiskConnectorProvider());
        assertTrue(second.counts().get("load_failures") > 0, second.counts().toString());
        assertTrue(
                second.stats().get("bad_blocks").longValue() > 0, second.stats().toString());
        assertSameOutputs(first, second);

        // Every bad file was found and deleted in the second run: none is loaded again.
        Run third = run("third", new DiskConnectorProvider());
        assertEquals(0, third.counts().get("load_failures"), third.stats().toString());
        assertSameOutputs(first, third);
        // A request whose load failed stores nothing more, so the third run stored the first
        // prompt's blocks again.
        Run fourth = run("fourth", new DiskConnectorProvider());
        assertEquals(28, fourth.firstRequestHits(), fourth.stats().toString());
        assertSameOutputs(first, fourth);
    }

    @Test
    void truncatedFilesAndTornWritesAreMissesReplacedByNewOnes() throws Exception {
        Run first = run("first", new DiskConnectorProvider());
        for (Path file : blockFiles()) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(channel.size() / 2);
            }
            // What a process killed mid-write leaves: a temporary file, never a block's name.
            Files.write(file.resolveSibling(file.getFileName() + BlockFileFormat.TEMP_SUFFIX), new byte[100]);
        }

        Run second = run("second", new DiskConnectorProvider());
        assertEquals(0, second.firstRequestHits(), "a short file is never offered");
        assertEquals(0, second.counts().get("load_failures"));
        assertSameOutputs(first, second);
        try (Stream<Path> all = Files.walk(directory)) {
            assertEquals(
                    List.of(),
                    all.filter(f -> f.toString().endsWith(BlockFileFormat.TEMP_SUFFIX))
                            .toList(),
                    "temporary files are deleted at start");
        }
        Run third = run("third", new DiskConnectorProvider());
        assertEquals(28, third.firstRequestHits(), "the short files were replaced by whole ones");
        assertSameOutputs(first, third);
    }

    @Test
    void injectedWriteAndReadFailuresNeverChangeAnOutput() throws Exception {
        Run first = run("first", new DiskConnectorProvider());
        FailingBlockStore.Counts injected = new FailingBlockStore.Counts();
        var failing = new DiskConnectorProvider(FailingBlockStore.factory(0.3, 0.3, 0.3, injected));

        Run second = run("second", failing);
        Run third = run("third", failing);

        assertTrue(injected.writes.get() + injected.reads.get() + injected.corrupt.get() > 0, "failures injected");
        assertSameOutputs(first, second);
        assertSameOutputs(first, third);
    }

    @Test
    void aSecondEngineOnADirectoryInUseIsRefusedWithAMessage() throws Exception {
        try (KitEngine engine = engine("holder", new DiskConnectorProvider())) {
            RuntimeException refused =
                    assertThrows(RuntimeException.class, () -> engine("intruder", new DiskConnectorProvider())
                            .close());
            assertTrue(messages(refused).contains("in use by another engine"), messages(refused));
            assertTrue(engine.problems().isEmpty(), engine.problems().toString());
        }
        // Released at shutdown: the next engine gets it.
        run("after", new DiskConnectorProvider());
    }

    @Test
    void aDirectoryThatIsAFileIsAConfigurationError() throws Exception {
        Path file = Files.writeString(directory.resolve("not-a-folder"), "x");
        RuntimeException refused = assertThrows(RuntimeException.class, () -> KitEngine.create(
                        Optional.of(new DiskConnectorProvider()),
                        Map.of("directory", file.toString(), "capacity", "64MiB"),
                        KitEngine.Options.defaults("bad"))
                .close());
        assertTrue(messages(refused).contains("cannot create or write"), messages(refused));
    }

    @Test
    void aReadOnlyDirectoryIsAConfigurationError() throws Exception {
        assumeFalse("root".equals(System.getProperty("user.name")), "root writes into read-only folders");
        Path readOnly = Files.createDirectory(directory.resolve("read-only"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        RuntimeException refused = assertThrows(RuntimeException.class, () -> KitEngine.create(
                        Optional.of(new DiskConnectorProvider()),
                        Map.of("directory", readOnly.toString(), "capacity", "64MiB"),
                        KitEngine.Options.defaults("ro"))
                .close());
        assertTrue(messages(refused).contains("cannot create or write"), messages(refused));
    }

    @Test
    void aMissingDirectoryIsCreated() throws Exception {
        directory = directory.resolve("a/b/c");
        run("first", new DiskConnectorProvider());
        assertTrue(blockFiles().size() > 0);
    }

    /**
     * @param firstRequestHits the tokens the connector served the first request, before any other
     *     request ran in the engine
     */
    private record Run(
            Map<String, int[]> outputs, long firstRequestHits, Map<String, Long> counts, Map<String, Number> stats) {}

    /** Runs every prompt in an engine on {@link #directory} and drains it; fails on any problem. */
    private Run run(String engineId, ConnectorProvider provider) throws Exception {
        Map<String, int[]> outputs = new TreeMap<>();
        long firstRequestHits = -1;
        try (KitEngine engine = engine(engineId, provider)) {
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
            assertEquals(List.of(), engine.problems());
            assertEquals(PROMPTS.size(), outputs.size());
            return new Run(outputs, firstRequestHits, counts, stats);
        }
    }

    private KitEngine engine(String engineId, ConnectorProvider provider) {
        return KitEngine.create(
                Optional.of(provider),
                Map.of("directory", directory.toString(), "capacity", "64MiB", "load", "sync"),
                KitEngine.Options.defaults(engineId).withWorkers(2));
    }

    private static void assertSameOutputs(Run expected, Run actual) {
        assertEquals(expected.outputs().keySet(), actual.outputs().keySet());
        expected.outputs()
                .forEach((id, tokens) ->
                        assertArrayEquals(tokens, actual.outputs().get(id), id));
    }

    private List<Path> blockFiles() throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(f -> f.toString().endsWith(BlockFileFormat.SUFFIX))
                    .sorted()
                    .toList();
        }
    }

    private static String messages(Throwable t) {
        StringBuilder out = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            out.append(c).append('\n');
        }
        return out.toString();
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
