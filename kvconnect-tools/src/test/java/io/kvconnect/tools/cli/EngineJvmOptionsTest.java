package io.kvconnect.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.testing.TestPluginJars;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine JVM's options, as the launcher and the engine's own child processes use them: a small
 * module started in a child JVM with them tries {@code sun.misc.Unsafe}'s memory access, {@code
 * MemorySegment.reinterpret}, an FFM downcall and loading a JNI library, and every attempt must
 * throw; without the options the same attempts succeed with warnings (so the probe can tell).
 */
class EngineJvmOptionsTest {
    private static final String PROBE = """
            package probe;

            import java.lang.foreign.FunctionDescriptor;
            import java.lang.foreign.Linker;
            import java.lang.foreign.MemorySegment;
            import java.lang.foreign.ValueLayout;

            public final class Main {
                interface Attempt {
                    void run() throws Throwable;
                }

                public static void main(String[] args) {
                    System.out.println("unsafe=" + attempt(() -> {
                        var field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
                        field.setAccessible(true);
                        var unsafe = (sun.misc.Unsafe) field.get(null);
                        long address = unsafe.allocateMemory(8);
                        unsafe.putLong(address, 42);
                        unsafe.freeMemory(address);
                    }) + ";reinterpret=" + attempt(() -> MemorySegment.ofAddress(4096).reinterpret(8))
                            + ";downcall=" + attempt(() -> {
                        Linker linker = Linker.nativeLinker();
                        var getpid = linker.downcallHandle(linker.defaultLookup().find("getpid").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT));
                        int pid = (int) getpid.invokeExact();
                        if (pid != ProcessHandle.current().pid()) {
                            throw new AssertionError("getpid answered " + pid);
                        }
                        // A library of the JDK that nothing else in this JVM loads.
                    }) + ";jni=" + attempt(() -> System.loadLibrary("prefs")));
                }

                private static String attempt(Attempt attempt) {
                    try {
                        attempt.run();
                        return "allowed";
                    } catch (Throwable t) {
                        return t.getClass().getSimpleName();
                    }
                }
            }
            """;

    private static final String REFUSED = "unsafe=UnsupportedOperationException;reinterpret=IllegalCallerException"
            + ";downcall=IllegalCallerException;jni=IllegalCallerException";

    @TempDir
    static Path dir;

    private static Path probe;

    @BeforeAll
    static void buildProbe() {
        probe = new TestPluginJars()
                .source("module-info.java", "module probe { requires jdk.unsupported; }")
                .source("probe/Main.java", PROBE)
                .writeTo(dir.resolve("probe.jar"));
    }

    @Test
    void theOptionsDenyUnsafeMemoryAccessAndNativeAccessAndGrantOnlyJucxAndJcuda() {
        List<String> options = EngineJvmOptions.options();

        assertTrue(options.contains("--sun-misc-unsafe-memory-access=deny"), options.toString());
        assertTrue(options.contains("--illegal-native-access=deny"), options.toString());
        assertTrue(options.contains("-XX:-EnableDynamicAgentLoading"), options.toString());
        assertEquals(List.of("jucx", "jcuda"), EngineJvmOptions.nativeAccessModules());
    }

    @Test
    void withTheEngineOptionsUnsafeMemoryAccessAndRestrictedMethodsThrow() throws Exception {
        Run run = runProbe(EngineJvmOptions.options());

        assertEquals(0, run.status(), run.toString());
        assertEquals(REFUSED, run.stdout().strip(), run.toString());
        assertFalse(run.stderr().contains("sun.misc.Unsafe"), "refused, not warned about: " + run.stderr());
        assertFalse(run.stderr().contains("restricted method"), "refused, not warned about: " + run.stderr());
    }

    @Test
    void withoutThemTheSameAttemptsSucceedWithOnlyAWarning() throws Exception {
        Run run = runProbe(List.of());

        assertEquals(0, run.status(), run.toString());
        assertEquals(
                "unsafe=allowed;reinterpret=allowed;downcall=allowed;jni=allowed",
                run.stdout().strip(),
                run.toString());
        assertTrue(run.stderr().contains("sun.misc.Unsafe"), run.stderr());
    }

    @Test
    void grantingNativeAccessToAModuleDoesNotGiveItUnsafeMemoryAccess() throws Exception {
        var options = new ArrayList<>(EngineJvmOptions.options());
        options.add("--enable-native-access=probe");

        Run run = runProbe(options);

        assertEquals(
                "unsafe=UnsupportedOperationException;reinterpret=allowed;downcall=allowed;jni=allowed",
                run.stdout().strip(),
                run.toString());
    }

    private static Run runProbe(List<String> options) throws IOException, InterruptedException {
        var command = new ArrayList<String>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(options);
        command.addAll(List.of("--module-path", probe.toString(), "--module", "probe/probe.Main"));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process process = new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the probe JVM did not exit: " + command);
        }
        return new Run(
                process.exitValue(),
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    /** A finished child JVM. */
    private record Run(int status, String stdout, String stderr) {}
}
