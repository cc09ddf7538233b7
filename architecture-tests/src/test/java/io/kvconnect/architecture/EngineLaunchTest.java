package io.kvconnect.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every script that starts the engine passes the engine JVM's options from their one file, so the
 * list cannot drift between the launcher, the example check and the tests' JVMs.
 */
class EngineLaunchTest {
    /** The one list, relative to the repository root. */
    private static final String OPTIONS = "kvconnect-tools/src/main/resources/io/kvconnect/tools/cli/engine-jvm.args";

    private static final String ENGINE_MAIN = "io.kvconnect.tools.cli.Main";
    // The tests run in architecture-tests/, one level below the repository root.
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @Test
    void theOptionsFileDeniesUnsafeAndNativeAccess() throws IOException {
        List<String> options = Files.readAllLines(ROOT.resolve(OPTIONS)).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();

        assertTrue(options.contains("--sun-misc-unsafe-memory-access=deny"), options.toString());
        assertTrue(options.contains("--illegal-native-access=deny"), options.toString());
    }

    @Test
    void everyScriptLineThatStartsTheEnginePassesTheOptionsFile() throws IOException {
        var launches = new ArrayList<String>();
        for (Path script : scripts()) {
            String text = Files.readString(script);
            for (String line : text.replace("\\\n", " ").split("\n")) {
                if (line.contains("bin/java") && line.contains(ENGINE_MAIN)) {
                    launches.add(script.getFileName() + ": " + line.strip());
                    assertTrue(
                            line.contains("@\"$ENGINE_JVM_ARGS\""),
                            script + " starts the engine without the " + "engine JVM's options: " + line.strip());
                }
            }
            if (text.contains("$ENGINE_JVM_ARGS")) {
                assertTrue(
                        text.contains("ENGINE_JVM_ARGS=\"$ROOT/" + OPTIONS + "\""),
                        script + " takes ENGINE_JVM_ARGS from somewhere else than " + OPTIONS);
            }
        }
        assertFalse(launches.isEmpty(), "no script starts the engine; has the main class moved?");
    }

    @Test
    void theTestJvmsOfTheEngineTheToolsAndNixlLikeReadTheSameFile() throws IOException {
        assertEquals(
                1,
                count(
                        Files.readString(ROOT.resolve("kvconnect-tools/pom.xml")),
                        "@${project.basedir}/src/main/resources/io/kvconnect/tools/cli/engine-jvm.args"));
        assertEquals(
                1,
                count(Files.readString(ROOT.resolve("connector-core/pom.xml")), "@${project.basedir}/../" + OPTIONS));
        assertEquals(
                1,
                count(
                        Files.readString(ROOT.resolve("connector-nixl-like/pom.xml")),
                        "@${project.basedir}/../" + OPTIONS));
    }

    private static List<Path> scripts() throws IOException {
        var scripts = new ArrayList<Path>(List.of(ROOT.resolve("kvconnect")));
        for (String folder : List.of("scripts", "examples", ".ci")) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(folder))) {
                files.filter(Files::isRegularFile)
                        .filter(f -> f.toString().endsWith(".sh")
                                || f.getFileName().toString().equals("run"))
                        .forEach(scripts::add);
            }
        }
        return scripts;
    }

    private static int count(String text, String part) {
        return text.split(java.util.regex.Pattern.quote(part), -1).length - 1;
    }
}
