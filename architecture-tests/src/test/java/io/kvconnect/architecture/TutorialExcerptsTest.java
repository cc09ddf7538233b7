package io.kvconnect.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The disk-tier tutorial in {@code docs/writing-a-connector.md} quotes the example's real code:
 * every {@code java} and {@code xml} block of the section, cut at its {@code // ...} (or {@code
 * <!-- ... -->}) lines, appears line by line (indentation and blank lines aside) in one file of
 * {@code examples/disk-tier-connector}. A change to the example that an excerpt no longer matches
 * fails here, naming the excerpt.
 */
class TutorialExcerptsTest {
    // The tests run in architecture-tests/, one level below the repository root.
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final String SECTION = "## Tutorial: a disk tier, from an empty folder to plugins/";
    private static final Pattern CODE = Pattern.compile("```(?:java|xml)\\n(.*?)```", Pattern.DOTALL);

    @Test
    void everyExcerptOfTheDiskTierTutorialIsTheExamplesCode() throws IOException {
        String doc = Files.readString(ROOT.resolve("docs/writing-a-connector.md"));
        int start = doc.indexOf(SECTION);
        assertTrue(start >= 0, "docs/writing-a-connector.md has no section '" + SECTION + "'");
        int end = doc.indexOf("\n## ", start + SECTION.length());
        String section = doc.substring(start, end < 0 ? doc.length() : end);
        List<List<String>> files = exampleFiles();

        List<String> missing = new ArrayList<>();
        int pieces = 0;
        for (Matcher code = CODE.matcher(section); code.find(); ) {
            for (List<String> piece : pieces(code.group(1))) {
                pieces++;
                if (files.stream().noneMatch(lines -> Collections.indexOfSubList(lines, piece) >= 0)) {
                    missing.add(String.join("\n", piece));
                }
            }
        }
        assertTrue(pieces >= 10, "expected the tutorial's excerpts, found " + pieces);
        assertEquals(List.of(), missing, "excerpts of the tutorial that examples/disk-tier-connector no longer has");
    }

    /** An excerpt's lines, stripped, without blank ones, cut at {@code // ...} and {@code <!-- ... -->}. */
    private static List<List<String>> pieces(String excerpt) {
        List<List<String>> pieces = new ArrayList<>();
        List<String> piece = new ArrayList<>();
        for (String line : excerpt.split("\n")) {
            String l = line.strip();
            if (l.equals("// ...") || l.equals("<!-- ... -->")) {
                pieces.add(piece);
                piece = new ArrayList<>();
            } else if (!l.isEmpty()) {
                piece.add(l);
            }
        }
        pieces.add(piece);
        pieces.removeIf(List::isEmpty);
        return pieces;
    }

    /** The stripped, non-blank lines of each source file and the pom of the example. */
    private static List<List<String>> exampleFiles() throws IOException {
        Path example = ROOT.resolve("examples/disk-tier-connector");
        try (Stream<Path> files = Files.walk(example)) {
            return files.filter(f -> !example.relativize(f).startsWith("target"))
                    .filter(f -> f.toString().endsWith(".java")
                            || f.getFileName().toString().equals("pom.xml"))
                    .map(TutorialExcerptsTest::lines)
                    .toList();
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file).stream()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
