package io.kvconnect.tools.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The options every engine JVM starts with: the list in the resource {@value #RESOURCE} beside
 * this class, the one place they are written. {@code ./kvconnect} passes that file to {@code java}
 * as an argument file ({@code java @FILE}); the engine adds the same options when it starts engine
 * processes of its own ({@code disagg}'s prefill and decode engines).
 *
 * <p>They make the JVM refuse what in-process code could otherwise do with only a warning:
 * {@code sun.misc.Unsafe}'s memory access ({@code --sun-misc-unsafe-memory-access=deny}) and
 * restricted methods such as JNI library loading, the FFM {@code Linker} and {@code
 * MemorySegment.reinterpret} from any module without native access ({@code
 * --illegal-native-access=deny}); they grant native access only to the modules that load native
 * code ({@code --enable-native-access}) and forbid loading agents into the running engine.
 *
 * <p>The file's format is the JDK launcher's argument-file format restricted to one option per
 * line without quotes; a line starting with {@code #} is a comment.
 */
final class EngineJvmOptions {
    /** The resource, next to this class, that holds the options. */
    static final String RESOURCE = "engine-jvm.args";

    private static final String NATIVE_ACCESS = "--enable-native-access=";

    private EngineJvmOptions() {}

    /** The options, in file order. */
    static List<String> options() {
        try (InputStream in = EngineJvmOptions.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the engine's jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .map(String::strip)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** The modules the options grant native access to. */
    static List<String> nativeAccessModules() {
        return options().stream()
                .filter(o -> o.startsWith(NATIVE_ACCESS))
                .flatMap(o -> Arrays.stream(o.substring(NATIVE_ACCESS.length()).split(",")))
                .toList();
    }
}
