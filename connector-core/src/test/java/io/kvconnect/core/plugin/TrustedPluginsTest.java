package io.kvconnect.core.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.testing.TestPluginJars;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Plugins that would use a restricted JDK module ({@code sun.misc.Unsafe} and the like) are
 * refused unless the configuration's {@code trusted_plugins} names their module; trusted, they
 * load and reach it, while the engine JVM's options (which the test JVM runs with) still refuse
 * Unsafe memory access and native access.
 */
class TrustedPluginsTest {
    /** Reports what the plugin reached, through its description. */
    private static final String UNSAFE_PROBE = """
            StringBuilder out = new StringBuilder();
            try {
                var field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
                field.setAccessible(true);
                var unsafe = (sun.misc.Unsafe) field.get(null);
                out.append("unsafe=").append(unsafe.getClass().getName());
                try {
                    unsafe.freeMemory(unsafe.allocateMemory(8));
                    out.append(";memory=allowed");
                } catch (UnsupportedOperationException e) {
                    out.append(";memory=refused");
                }
            } catch (ReflectiveOperationException e) {
                out.append("unsafe=").append(e.getClass().getSimpleName());
            }
            out.append(";nativeAccess=").append(getClass().getModule().isNativeAccessEnabled());
            try {
                java.lang.foreign.MemorySegment.ofAddress(4096).reinterpret(8);
                out.append(";reinterpret=allowed");
            } catch (IllegalCallerException e) {
                out.append(";reinterpret=refused");
            }
            return out.toString();
            """;

    @TempDir
    Path plugins;

    @Test
    void aPluginThatRequiresJdkUnsupportedIsRefusedNamingTheModuleWhatItRequiresAndTheKey() {
        Path jar = unsafePlugin().writeTo(plugins.resolve("unsafe.jar"));
        TestPluginJars.goodModule("com.example.alpha", "com.example.alpha", "alpha")
                .writeTo(plugins.resolve("z.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        PluginProblem problem = single(registry.problems());
        assertEquals(jar.toString(), problem.location());
        assertTrue(
                problem.message()
                        .startsWith("refused: it uses JDK modules that only trusted plugins may use: "
                                + "module com.example.unsafe requires jdk.unsupported (sun.misc.Unsafe"),
                problem.message());
        assertTrue(
                problem.message()
                        .endsWith("To trust it, list the module in the engine configuration's "
                                + "trusted_plugins: \"trusted_plugins\": [\"com.example.unsafe\"]"),
                problem.message());
        assertTrue(registry.find("unsafe").isEmpty());
        assertTrue(registry.find("alpha").isPresent(), "the other plugins still load");
    }

    @Test
    void theSamePluginListedAsTrustedLoadsAndGetsUnsafeButNeitherItsMemoryAccessNorNativeAccess() {
        unsafePlugin().writeTo(plugins.resolve("unsafe.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins, Set.of("com.example.unsafe"));

        assertTrue(registry.problems().isEmpty(), registry.problems().toString());
        DiscoveredConnector unsafe = registry.connectors().stream()
                .filter(c -> c.name().equals("unsafe"))
                .findFirst()
                .orElseThrow();
        assertEquals(
                "unsafe=sun.misc.Unsafe;memory=refused;nativeAccess=false;reinterpret=refused", unsafe.description());
    }

    @ParameterizedTest
    @CsvSource({
        "jdk.unsupported, requires jdk.unsupported (",
        "jdk.attach, requires jdk.attach (attaching to any local JVM",
        "jdk.jdi, requires jdk.jdi (debugging a JVM",
        "java.instrument, requires java.instrument (redefining any class",
        "java.management, requires java.management (the platform MBean server",
        "jdk.management, requires jdk.management (HotSpot's diagnostic MBean",
        "jdk.management, requires jdk.management, which gives it java.management (",
        "jdk.jshell, requires jdk.jshell, which gives it jdk.jdi (",
        "java.se, requires java.se, which gives it java.instrument (",
        "java.se, requires java.se, which gives it java.management (",
    })
    void everyRestrictedJdkModuleIsRefusedDirectlyOrThroughRequiresTransitive(String required, String expected) {
        requiring(required).writeTo(plugins.resolve("greedy.jar"));

        PluginProblem problem = single(ConnectorDiscovery.discover(plugins).problems());

        assertTrue(
                problem.message().contains("module com.example.greedy " + expected)
                        || problem.message().contains(" and " + expected),
                problem.message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"java.net.http", "jdk.httpserver", "java.sql", "jdk.jfr", "java.logging"})
    void aPluginMayRequireAnUnrestrictedJdkModule(String required) {
        requiring(required).writeTo(plugins.resolve("modest.jar"));

        ConnectorRegistry registry = ConnectorDiscovery.discover(plugins);

        assertTrue(registry.problems().isEmpty(), registry.problems().toString());
        assertTrue(registry.find("greedy").isPresent());
    }

    @Test
    void anAutomaticPluginThatReferencesUnsafeIsRefusedNamingTheReferenceAndTrustedLoads() {
        Path jar = new TestPluginJars()
                .source(
                        "com/example/plain/Provider.java",
                        TestPluginJars.provider(
                                "com.example.plain",
                                "Provider",
                                "plain",
                                "",
                                "return String.valueOf(sun.misc.Unsafe.class.getName());"))
                .service("com.example.plain.Provider")
                .writeTo(plugins.resolve("plain-unsafe-1.0.jar"));

        PluginProblem problem = single(ConnectorDiscovery.discover(plugins).problems());
        ConnectorRegistry trusted = ConnectorDiscovery.discover(plugins, Set.of("plain.unsafe"));

        assertEquals(jar.toString(), problem.location());
        assertTrue(
                problem.message().contains("module plain.unsafe uses jdk.unsupported (")
                        && problem.message().contains(") in com.example.plain.Provider -> sun.misc.Unsafe"),
                problem.message());
        assertTrue(problem.message().endsWith("\"trusted_plugins\": [\"plain.unsafe\"]"), problem.message());
        assertTrue(trusted.problems().isEmpty(), trusted.problems().toString());
        assertEquals("sun.misc.Unsafe", trusted.find("plain").orElseThrow().description());
    }

    @Test
    void trustIsPerModuleNotPerFolder() throws Exception {
        Path folder = java.nio.file.Files.createDirectories(plugins.resolve("pair"));
        Path lib = new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.sneakylib { requires jdk.unsupported; "
                                + "exports com.example.sneakylib; }")
                .source(
                        "com/example/sneakylib/Peek.java",
                        "package com.example.sneakylib; "
                                + "public final class Peek { public static String text() { return \"peek\"; } }")
                .writeTo(folder.resolve("lib.jar"));
        new TestPluginJars()
                .modulePath(lib)
                .source(
                        "module-info.java",
                        "module com.example.front { requires kvconnect.api; "
                                + "requires com.example.sneakylib; provides io.kvconnect.api.ConnectorProvider with "
                                + "com.example.front.Provider; }")
                .source(
                        "com/example/front/Provider.java",
                        TestPluginJars.provider(
                                "com.example.front",
                                "Provider",
                                "front",
                                "",
                                "return com.example.sneakylib.Peek.text();"))
                .service("com.example.front.Provider")
                .writeTo(folder.resolve("front.jar"));

        ConnectorRegistry frontTrusted = ConnectorDiscovery.discover(plugins, Set.of("com.example.front"));
        ConnectorRegistry libTrusted = ConnectorDiscovery.discover(plugins, Set.of("com.example.sneakylib"));

        assertTrue(
                single(frontTrusted.problems())
                        .message()
                        .contains("module com.example.sneakylib requires jdk.unsupported"),
                frontTrusted.problems().toString());
        assertTrue(libTrusted.problems().isEmpty(), libTrusted.problems().toString());
        assertEquals("peek", libTrusted.find("front").orElseThrow().description());
    }

    private static TestPluginJars unsafePlugin() {
        return new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.unsafe { requires kvconnect.api; "
                                + "requires jdk.unsupported; provides io.kvconnect.api.ConnectorProvider with com.example.unsafe.Provider; }")
                .source(
                        "com/example/unsafe/Provider.java",
                        TestPluginJars.provider("com.example.unsafe", "Provider", "unsafe", "", UNSAFE_PROBE))
                .service("com.example.unsafe.Provider");
    }

    private static TestPluginJars requiring(String module) {
        return new TestPluginJars()
                .source(
                        "module-info.java",
                        "module com.example.greedy { requires kvconnect.api; requires " + module
                                + "; provides io.kvconnect.api.ConnectorProvider with com.example.greedy.Provider; }")
                .source(
                        "com/example/greedy/Provider.java",
                        TestPluginJars.provider("com.example.greedy", "Provider", "greedy", "", "return \"\";"))
                .service("com.example.greedy.Provider");
    }

    private static PluginProblem single(List<PluginProblem> problems) {
        assertEquals(1, problems.size(), problems.toString());
        return problems.getFirst();
    }
}
