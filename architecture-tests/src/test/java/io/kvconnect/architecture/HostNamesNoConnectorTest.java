package io.kvconnect.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The engine names no bundled connector: nothing in {@code connector-core}'s main sources or
 * resources can select, configure or special-case {@code offload}, {@code multi}, {@code redis} or {@code
 * nixl-like}. What exists for one connector (the disaggregation router, {@code serve}, the soak's
 * refusal of {@code nixl-like}) lives in {@code kvconnect-tools}.
 *
 * <p>The rule, exactly. Java sources under {@code connector-core/src/main/java} are split into
 * comments, literals and code by a small lexer; comments (javadoc included) are prose and not
 * checked, since "offload" and "multi-turn" are ordinary words there. Then:
 *
 * <ol>
 *   <li><b>Literals.</b> No string literal, text block or character literal contains a bundled
 *       connector's name ({@code offload}, {@code multi}, {@code nixl-like}) or the nixl-like
 *       plugin's package word ({@code nixl}) as a <i>name token</i>: a case-insensitive occurrence
 *       not preceded or followed by a character a connector name may contain ({@code [A-Za-z0-9-]}).
 *       So {@code "nixl-like"}, {@code "offload"} and {@code "io.kvconnect.multi.X"} are
 *       refused; {@code "a multiple of"} and {@code "multi-turn"} are not.</li>
 *   <li><b>Identifiers.</b> No identifier in code has {@code nixl}, {@code offload} or {@code
 *       multi} as one of its words, split at underscores, digits and lower-to-upper case changes,
 *       case-insensitively; this covers imports and qualified names of the plugins' packages
 *       ({@code io.kvconnect.offload}, {@code io.kvconnect.multi}, {@code io.kvconnect.nixl}) and
 *       constants such as {@code NIXL_LIKE}. {@code multiplyExact} is not refused.</li>
 *   <li><b>Resources.</b> No file under {@code connector-core/src/main/resources} contains a name
 *       token as in 1, anywhere in its text.</li>
 * </ol>
 *
 * <p>The byte code side (no engine class depends on a plugin class) is an ArchUnit rule in {@link
 * ArchitectureTest}.
 */
class HostNamesNoConnectorTest {
    // The tests run in architecture-tests/, one level below the repository root.
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Path CORE = ROOT.resolve("connector-core/src/main");
    /** A bundled connector's name (or the nixl-like package word) as a name token. */
    static final Pattern NAME_TOKEN = Pattern.compile(
            "(?<![A-Za-z0-9-])(nixl-like|nixl|offload|multi|redis)(?![A-Za-z0-9-])", Pattern.CASE_INSENSITIVE);
    /** Words of an identifier that name a bundled connector. */
    static final Set<String> IDENTIFIER_WORDS = Set.of("nixl", "offload", "multi", "redis");

    @Test
    void coreSourcesNameNoBundledConnectorInLiteralsOrIdentifiers() throws IOException {
        List<String> found = new ArrayList<>();
        List<Path> sources = files(CORE.resolve("java"), ".java");
        assertTrue(sources.size() > 100, "connector-core's sources were not found under " + CORE);
        for (Path file : sources) {
            JavaTokens tokens = JavaTokens.of(Files.readString(file));
            for (String literal : tokens.literals()) {
                if (NAME_TOKEN.matcher(literal).find()) {
                    found.add(ROOT.relativize(file) + ": literal " + literal);
                }
            }
            for (String identifier : tokens.identifiers()) {
                if (words(identifier).stream().anyMatch(IDENTIFIER_WORDS::contains)) {
                    found.add(ROOT.relativize(file) + ": identifier " + identifier);
                }
            }
        }
        assertEquals(List.of(), found, "the engine names a bundled connector; move that code to kvconnect-tools");
    }

    @Test
    void coreResourcesNameNoBundledConnector() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path file : files(CORE.resolve("resources"), "")) {
            var m = NAME_TOKEN.matcher(Files.readString(file));
            while (m.find()) {
                found.add(ROOT.relativize(file) + ": " + m.group());
            }
        }
        assertEquals(List.of(), found, "the engine's resources name a bundled connector");
    }

    @Test
    void theRuleSeesWhatItMustAndNoProse() {
        JavaTokens t = JavaTokens.of("""
                /** Offload "offload" blocks of a multi-turn chat. */
                class X { // nixl-like
                    static final String NIXL_LIKE = "nixl-like";
                    String s = "a multiple of"; char c = 'm';
                    String block = \"""
                        io.kvconnect.offload.Y\""";
                    int n = Math.multiplyExact(2, 3);
                    /* multi */ Object o = io.kvconnect.multi.Z.class;
                }
                """);

        assertEquals(
                List.of("\"nixl-like\"", "\"a multiple of\"", "'m'", "\"\"\"\n        io.kvconnect.offload.Y\"\"\""),
                t.literals());
        assertTrue(NAME_TOKEN.matcher("\"nixl-like\"").find());
        assertTrue(NAME_TOKEN.matcher("io.kvconnect.offload.Y").find());
        assertFalse(NAME_TOKEN.matcher("\"a multiple of\"").find());
        assertFalse(NAME_TOKEN.matcher("a multi-turn chat").find());
        assertEquals(List.of("nixl", "like"), words("NIXL_LIKE"));
        assertEquals(List.of("multiply", "exact"), words("multiplyExact"));
        assertTrue(
                t.identifiers().contains("multi") && t.identifiers().contains("NIXL_LIKE"),
                t.identifiers().toString());
        assertFalse(
                t.identifiers().contains("Offload") || t.identifiers().contains("chat"),
                "comments are not code: " + t.identifiers());
    }

    /** The words of an identifier, lower-case. */
    static List<String> words(String identifier) {
        List<String> out = new ArrayList<>();
        for (String part : identifier.split("[_$0-9]+")) {
            for (String w : part.split("(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")) {
                if (!w.isEmpty()) {
                    out.add(w.toLowerCase(Locale.ROOT));
                }
            }
        }
        return out;
    }

    private static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(f -> f.toString().endsWith(suffix))
                    .sorted()
                    .toList();
        }
    }

    /**
     * The literals (with their quotes) and identifiers of a Java source, comments dropped. Enough
     * of the language for this rule: comments, string and character literals with escapes, text
     * blocks, and identifier characters; keywords count as identifiers (none is a connector name).
     */
    record JavaTokens(List<String> literals, List<String> identifiers) {
        static JavaTokens of(String src) {
            List<String> literals = new ArrayList<>();
            List<String> identifiers = new ArrayList<>();
            int i = 0;
            int n = src.length();
            while (i < n) {
                char c = src.charAt(i);
                if (src.startsWith("//", i)) {
                    i = end(src.indexOf('\n', i), n);
                } else if (src.startsWith("/*", i)) {
                    i = end(src.indexOf("*/", i + 2), n - 2) + 2;
                } else if (src.startsWith("\"\"\"", i)) {
                    int close = src.indexOf("\"\"\"", i + 3);
                    while (close > 0 && src.charAt(close - 1) == '\\') {
                        close = src.indexOf("\"\"\"", close + 1);
                    }
                    int stop = end(close, n - 3) + 3;
                    literals.add(src.substring(i, stop));
                    i = stop;
                } else if (c == '"' || c == '\'') {
                    int j = i + 1;
                    while (j < n && src.charAt(j) != c) {
                        j += src.charAt(j) == '\\' ? 2 : 1;
                    }
                    int stop = Math.min(j + 1, n);
                    literals.add(src.substring(i, stop));
                    i = stop;
                } else if (Character.isJavaIdentifierStart(c)) {
                    int j = i + 1;
                    while (j < n && Character.isJavaIdentifierPart(src.charAt(j))) {
                        j++;
                    }
                    identifiers.add(src.substring(i, j));
                    i = j;
                } else {
                    i++;
                }
            }
            return new JavaTokens(List.copyOf(literals), List.copyOf(identifiers));
        }

        private static int end(int index, int whenMissing) {
            return index < 0 ? whenMissing : index;
        }
    }
}
